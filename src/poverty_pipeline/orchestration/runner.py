"""Run the DAGs through Airflow on this machine (``airflow dags test``: real task execution,
one process, SQLite metadata under ``.local/airflow``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from poverty_pipeline.config import LOCAL_DIR, PROJECT_ROOT, WAREHOUSE_CONN_ID, warehouse_parts

# What of `airflow dags test` output is shown while it runs (everything goes to the log file):
# each task's start and end (with its elapsed time, the count of tasks finished of those the
# run has, and a failed task's one-line reason), a mapped task under its period (its rendered
# map index), the pipeline's own messages (an identical one once) and every line about
# progress (files done of total, rows loaded), dbt's result per model, seed and failing test.
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
TASK_STATE = re.compile(r"Task instance state updated .*\bnew_state=(?P<state>\w+)")
DBT_RESULT = re.compile(r"\b\d+ of \d+ (?:OK|ERROR|FAIL|WARN)\b.*|\bDone\. PASS=\d+ .*")
SHOW = re.compile(r"\bprogress\b|\[poverty_pipeline(\.\w+)+\]|\[error\s*\]|ERROR in ", re.IGNORECASE)
# said with the task's end instead: its reason is the traceback's last line
HIDE = re.compile(r"Task failed with exception")
TIMESTAMPED = re.compile(r"^\S+Z \[\w+\s*\] ")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def airflow_connection_uri(url: str) -> str:
    """The warehouse as an Airflow connection URI. cosmos needs a password on it; with trust
    or peer authentication any password is ignored by the server."""
    p = warehouse_parts(url)
    host = quote(str(p["host"]), safe="")
    password = quote(str(p["password"] or "unused"), safe="")
    return f"postgres://{quote(str(p['user']), safe='')}:{password}@{host}:{p['port']}/{p['dbname']}"


def airflow_env(warehouse_url: str, landing_url: str, home: Path | None = None) -> dict[str, str]:
    home = home or LOCAL_DIR / "airflow"
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GX_ANALYTICS_ENABLED": "false",
        "POVERTY_WAREHOUSE_URL": warehouse_url,
        "POVERTY_LANDING_URL": landing_url,
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": airflow_connection_uri(warehouse_url),
    })
    return env


def _message(line: str) -> str:
    """A log line without its timestamp, level and logger decorations."""
    text = ANSI.sub("", line).rstrip()
    text = re.sub(r"^\S+Z \[\w+\s*\] ", "", text)  # structlog timestamp and level
    text = re.sub(r"\s+\[[\w.]+\]( loc=\S+)?$", "", text)  # logger name and location
    text = re.sub(r"^\d\d:\d\d:\d\d\s+", "", text)  # dbt's clock
    return text[:160]


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def migrate(env: dict[str, str]) -> None:
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


class Progress:
    """Turns ``airflow dags test`` output into the lines worth showing, as they come."""

    def __init__(self, count_tasks=lambda: None, name_of=lambda task, index: None):
        self.count_tasks = count_tasks  # () -> (finished, total) of the run's tasks, or None
        self.name_of = name_of  # (task, map index) -> a mapped task's rendered map index, or None
        self.started: dict[tuple[str, str], float] = {}
        self.unnamed: list[tuple[str, str]] = []  # mapped tasks started, their start not yet shown
        self.dbt: dict[tuple[str, str], str] = {}  # the last dbt result line of a running task
        self.state: dict[tuple[str, str], str] = {}  # a task's state as the task runner set it
        self.reason: dict[tuple[str, str], str] = {}  # a failed task's exception line
        self.in_traceback = self.in_frames = False
        self.shown: set[str] = set()  # messages without a count or time, shown once

    def feed(self, line: str, now: float) -> list[str]:
        shown = self._lines(line, now)
        # a mapped task's start waits for its period, at most until the next line shown
        return self._named_starts(final=bool(shown)) + shown

    def _lines(self, line: str, now: float) -> list[str]:
        if match := TASK_START.search(line):
            key = (match["task"], match["index"])
            self.started[key] = now
            if key[1] != "-1":
                self.unnamed.append(key)
            return [] if key[0].startswith("dbt.") or key[1] != "-1" else [f"start {key[0]}"]
        if match := TASK_END.search(line):
            return [self._end((match["task"], match["index"]), now)]
        self._traceback(line)
        if (match := TASK_STATE.search(line)) and self.started:
            self.state[list(self.started)[-1]] = match["state"]
            return []
        if match := DBT_RESULT.search(_message(line)):
            text = re.sub(r" \.{2,} ", " ", match[0])  # dbt's dot leaders
            text = re.sub(r" (?:WARN|ERROR|SKIP|NO-OP)=0\b| TOTAL=\d+", "", text)  # Done. PASS=4
            for key in [k for k in self.started if k[0].startswith("dbt.")]:
                if not text.startswith("Done.") or key not in self.dbt:  # a model's result first
                    self.dbt[key] = re.sub(r"^\d+ of \d+ ", "", text)[:120]
            if not text.startswith("Done.") and not re.search(r" of \d+ OK\b", text):
                return [text]  # a failing model or test, at once
            return []
        if SHOW.search(line) and not HIDE.search(line):
            text = _message(line)
            if text in self.shown:  # the same message from every mapped task: once
                return []
            if not re.search(r"\d", re.sub(r"\S*/\S*", "", text)):  # a count or time never folds
                self.shown.add(text)
            return [text]
        return []

    def _named_starts(self, final: bool = False) -> list[str]:
        out = []
        for key in list(self.unnamed):
            name = self.name_of(*key)
            if name or final:
                self.unnamed.remove(key)
                out.append(f"start {_task_name(*key, name)}")
        return out

    def _end(self, key: tuple[str, str], now: float) -> str:
        took = now - self.started.pop(key, now)
        counts = self.count_tasks()
        done = f"{counts[0]}/{counts[1]} tasks " if counts else ""
        name = _task_name(*key, self.name_of(*key) if key[1] != "-1" else None)
        state = self.state.pop(key, "success")
        reason = self.reason.pop(key, "")
        if state == "success":
            result = self.dbt.pop(key, "")
            return f"{done}done {name} in {took:.1f} s" + (f": {result}" if result else "")
        self.dbt.pop(key, None)
        said = {"failed": "FAILED", "up_for_retry": "failed (will retry)",
                "upstream_failed": "not run (upstream failed)"}.get(state, state)
        return f"{done}{said} {name} in {took:.1f} s" + (f": {reason}" if reason else "")

    def _traceback(self, line: str) -> None:
        """Keep a traceback's exception line (``ValueError: …``, the first line after its last
        frame; a message of many lines keeps its first) as the running task's reason."""
        text = ANSI.sub("", line).rstrip()
        if text.startswith("Traceback (most recent call last)"):
            self.in_traceback, self.in_frames = True, True
        elif TIMESTAMPED.match(text):
            self.in_traceback = False
        elif self.in_traceback and text:
            if text[0].isspace():
                self.in_frames = True
            elif self.in_frames and self.started:
                self.in_frames = False
                self.reason[list(self.started)[-1]] = text[:200]


def _task_name(task: str, index: str, rendered: str | None = None) -> str:
    if index == "-1":
        return task
    return f"{task} {rendered}" if rendered else f"{task}[{index}]"


def _sqlite_reader(env: dict[str, str], sql: str):
    """A function running ``sql`` against the SQLite metadata database ``airflow dags test``
    writes, its first row; None when it cannot be read (busy, not SQLite)."""
    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if not url.startswith("sqlite:///"):
        return lambda *params: None
    path = url.removeprefix("sqlite:///")

    def read(*params):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2) as db:
                return db.execute(sql, params).fetchone()
        except sqlite3.Error:
            return None
    return read


LATEST_RUN = "(select run_id from dag_run where dag_id = ? order by id desc limit 1)"


def sqlite_task_counter(env: dict[str, str], dag_id: str):
    """(finished, total) task instances of the DAG's latest run, or None."""
    read = _sqlite_reader(env, (
        "select coalesce(sum(state in ('success', 'failed', 'skipped', 'upstream_failed', 'removed')),"
        f" 0), count(*) from task_instance where dag_id = ? and run_id = {LATEST_RUN}"))
    return lambda: read(dag_id, dag_id)


def sqlite_map_namer(env: dict[str, str], dag_id: str):
    """The rendered map index (the period of an ingest batch) of a mapped task instance of the
    DAG's latest run, or None (not rendered yet: Airflow renders it as the task starts)."""
    read = _sqlite_reader(env, (
        "select rendered_map_index from task_instance where dag_id = ? and task_id = ? and "
        f"map_index = ? and run_id = {LATEST_RUN}"))

    def name_of(task: str, index: str) -> str | None:
        row = read(dag_id, task, int(index), dag_id)
        return row[0] if row else None
    return name_of


def dags_test(dag_id: str, env: dict[str, str], log_dir: Path | None = None, echo=None,
              conf: dict | None = None) -> float:
    """Run one DAG to completion through Airflow (``conf``: the run's parameters); raise if any
    task failed.

    The full log goes to ``.local/logs/<dag_id>.log``; progress lines are echoed.
    """
    log_dir = log_dir or LOCAL_DIR / "logs"
    echo = echo or (lambda text: print(text, flush=True))  # shown as it comes, also into a pipe
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    failed = False
    progress = Progress(sqlite_task_counter(env, dag_id), sqlite_map_namer(env, dag_id))
    with log_path.open("w", buffering=1) as log, subprocess.Popen(  # line by line: tail -f
        [sys.executable, "-m", "poverty_pipeline.orchestration.dags_test", dag_id,
         *(["--conf", json.dumps(conf)] if conf else [])],
        env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as proc:
        for line in proc.stdout:
            log.write(line)
            elapsed = time.monotonic() - started
            for text in progress.feed(line, elapsed):
                echo(f"  [{dag_id} {elapsed:6.1f}s] {text}")
            if "state=failed" in line or "DagRun Finished" in line and "failed" in line:
                failed = True
    if proc.returncode != 0 or failed:
        raise RuntimeError(f"DAG {dag_id} failed; full log: {log_path}")
    return time.monotonic() - started


# What the pages need, on this machine: the API server serves the UI and the plugin's pages; the
# scheduler, DAG processor and triggerer are what the UI reports on (a component not running
# shows red) and what runs the DAGs on their schedules. Same AIRFLOW_HOME and metadata database
# as `poverty run`.
UI_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_KEYS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


def ui_env(warehouse_url: str, landing_url: str, port: int, home: Path | None = None) -> dict[str, str]:
    from poverty_pipeline.reporting.outputs import ui_url

    env = airflow_env(warehouse_url, landing_url, home)
    env.update({
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": ui_url(port),
        # where task processes of the LocalExecutor report to: this API server
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{ui_url(port)}/execution/",
    })
    return env


def ui_commands(port: int) -> dict[str, list[str]]:
    """The command line of each component ``poverty ui`` starts."""
    extra = {"api-server": ["--host", "127.0.0.1", "--port", str(port)]}
    return {name: [_airflow(), name, *extra.get(name, [])] for name in UI_COMPONENTS}


class LocalUi:
    """The Airflow components of ``poverty ui``, each in a session of its own, its log in
    ``<log_dir>/ui-<component>.log``."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path | None = None):
        self.env, self.port = env, port
        self.log_dir = log_dir or LOCAL_DIR / "logs"
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, command in ui_commands(self.port).items():
            with (self.log_dir / f"ui-{name}.log").open("w") as log:
                self.processes[name] = subprocess.Popen(
                    command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)

    def stopped(self) -> list[str]:
        return [name for name, proc in self.processes.items() if proc.poll() is not None]

    def health(self) -> dict[str, str]:
        """Each component's status as the UI shows it (``/api/v2/monitor/health``); {} before
        the API server answers."""
        from poverty_pipeline.reporting.outputs import ui_url

        try:
            with urllib.request.urlopen(f"{ui_url(self.port)}/api/v2/monitor/health", timeout=5) as r:
                body = json.loads(r.read())
        except (OSError, ValueError):
            return {}
        return {key: (body.get(key) or {}).get("status", "missing") for key in HEALTH_KEYS}

    def wait_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if dead := self.stopped():
                raise RuntimeError(f"stopped at start: {', '.join(dead)} (logs: {self.log_dir}/ui-*.log)")
            health = self.health()
            if health and all(status == "healthy" for status in health.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"not healthy after {timeout:.0f} s: {health or 'no answer'} "
                                   f"(logs: {self.log_dir}/ui-*.log)")
            time.sleep(2)

    def stop(self) -> None:
        stop_process_groups(self.processes.values(), grace=30)


def stop_process_groups(processes, grace: float) -> None:
    """SIGTERM to each process's group (each was started in a session of its own), ``grace``
    seconds for all of them to end, then SIGKILL to whatever of a group is left (task processes
    a leader left behind)."""
    processes = list(processes)
    for proc in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
