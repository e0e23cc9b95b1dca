"""Run the DAGs through Airflow on this machine (``airflow dags test``: real task execution,
one process, SQLite metadata under ``.local/airflow``)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from poverty_pipeline.config import LOCAL_DIR, PROJECT_ROOT, WAREHOUSE_CONN_ID, warehouse_parts

# What of `airflow dags test` output is shown while it runs (everything goes to the log file):
# each task's start and end (with its elapsed time and the count of tasks finished of those the
# run has), the pipeline's own messages and every line about progress (files done of total,
# rows loaded), dbt's result per model, seed and failing test, and failures.
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
DBT_RESULT = re.compile(r"\b\d+ of \d+ (?:OK|ERROR|FAIL|WARN)\b.*|\bDone\. PASS=\d+ .*")
SHOW = re.compile(r"\bprogress\b|\[poverty_pipeline\.\w+\]|DagRun Finished|Traceback|\[error\s*\]|ERROR in ",
                  re.IGNORECASE)
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

    def __init__(self, count_tasks=lambda: None):
        self.count_tasks = count_tasks  # () -> (finished, total) of the run's tasks, or None
        self.started: dict[tuple[str, str], float] = {}
        self.dbt: dict[tuple[str, str], str] = {}  # the last dbt result line of a running task

    def feed(self, line: str, now: float) -> list[str]:
        if match := TASK_START.search(line):
            key = (match["task"], match["index"])
            self.started[key] = now
            return [] if key[0].startswith("dbt.") else [f"start {_task_name(*key)}"]
        if match := TASK_END.search(line):
            key = (match["task"], match["index"])
            took = now - self.started.pop(key, now)
            counts = self.count_tasks()
            done = f"{counts[0]}/{counts[1]} tasks " if counts else ""
            result = self.dbt.pop(key, "")
            return [f"{done}done {_task_name(*key)} in {took:.1f} s" + (f": {result}" if result else "")]
        if match := DBT_RESULT.search(_message(line)):
            text = re.sub(r" \.{2,} ", " ", match[0])  # dbt's dot leaders
            for key in [k for k in self.started if k[0].startswith("dbt.")]:
                if not text.startswith("Done.") or key not in self.dbt:  # a model's result first
                    self.dbt[key] = re.sub(r"^\d+ of \d+ ", "", text)[:120]
            if not text.startswith("Done.") and not re.search(r" of \d+ OK\b", text):
                return [text]  # a failing model or test, at once
            return []
        if SHOW.search(line):
            return [_message(line)]
        return []


def _task_name(task: str, index: str) -> str:
    return task if index == "-1" else f"{task}[{index}]"


def sqlite_task_counter(env: dict[str, str], dag_id: str):
    """(finished, total) task instances of the DAG's latest run, read from the SQLite metadata
    database ``airflow dags test`` writes; None when it cannot be read (busy, not SQLite)."""
    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if not url.startswith("sqlite:///"):
        return lambda: None
    path = url.removeprefix("sqlite:///")

    def count():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2) as db:
                return db.execute(
                    "select coalesce(sum(state in ('success', 'failed', 'skipped', 'upstream_failed',"
                    " 'removed')), 0), count(*) from task_instance where dag_id = ? and run_id = "
                    "(select run_id from dag_run where dag_id = ? order by id desc limit 1)",
                    (dag_id, dag_id)).fetchone()
        except sqlite3.Error:
            return None
    return count


def dags_test(dag_id: str, env: dict[str, str], log_dir: Path | None = None, echo=print) -> float:
    """Run one DAG to completion through Airflow; raise if any task failed.

    The full log goes to ``.local/logs/<dag_id>.log``; progress lines are echoed.
    """
    log_dir = log_dir or LOCAL_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    failed = False
    progress = Progress(sqlite_task_counter(env, dag_id))
    with log_path.open("w", buffering=1) as log, subprocess.Popen(  # line by line: tail -f
        [_airflow(), "dags", "test", dag_id], env=env, text=True,
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
