"""A local Airflow stack with CeleryExecutor, on this machine: API server, scheduler, DAG
processor and Celery workers, Redis as the broker and PostgreSQL as the metadata database and
Celery result backend.

Used by the scale-out test (``tests/system/test_celery_stack.py``, ``make test-celery``). Each process
runs in a session of its own with its log in ``<home>/logs/<name>.log``. Task processes put
themselves in process groups of their own, so a worker is killed with all its descendants —
what losing its machine looks like to Airflow.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

from poverty_pipeline.orchestration.runner import airflow_env
from support.airflow_local_stack import airflow_bin, api_healthy, free_port, scheduler_healthy

# Written to <home>/config/airflow_local_settings.py when the stack shortens retry delays: a
# cluster policy, applied wherever the DAGs are parsed (DAG processor and task processes).
RETRY_POLICY = '''\
"""Cluster policy of this stack: retry delays capped at {seconds} s."""
import datetime

MAX_RETRY_DELAY = datetime.timedelta(seconds={seconds})


def task_policy(task):
    if task.retry_delay and task.retry_delay > MAX_RETRY_DELAY:
        task.retry_delay = MAX_RETRY_DELAY
'''


# A Celery worker's log: a task message taken, and its end.
CELERY_RECEIVED = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] received")
CELERY_DONE = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] (?:succeeded|failed|raised)")


def _with_db(server_url: str, dbname: str, scheme: str | None = None) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(scheme=scheme or parts.scheme, path=f"/{dbname}"))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def celery_tasks_taken(self) -> set[str]:
        """Ids of the Celery task messages this worker took and has not finished (its log)."""
        text = self.log_text()
        return set(CELERY_RECEIVED.findall(text)) - set(CELERY_DONE.findall(text))

    def holds(self, pid: int) -> bool:
        """Whether ``pid`` is this process or one of its descendants."""
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            return proc.pid == self.pid or any(p.pid == self.pid for p in proc.parents())
        return False

    def kill(self) -> list[int]:
        """SIGKILL the process and every descendant (task processes run in process groups of
        their own, so the group alone is not enough); the pids killed."""
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            victims = [root, *root.children(recursive=True)]
            for proc in victims:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(victims, timeout=10)
            return [p.pid for p in victims]
        return []

    def terminate(self) -> None:
        """SIGTERM to the session's group (the process and what it forked into the group)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)


@dataclass
class CeleryStack:
    """The stack's settings and processes. ``start()`` then ``stop()`` (always)."""

    home: Path
    server_url: str  # a PostgreSQL server URL (its database part is replaced)
    warehouse_url: str
    landing_url: str
    metadata_db: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    workers: int = 2
    worker_concurrency: int = 2
    heartbeat_timeout: int = 40  # seconds without a task heartbeat before the task is failed
    queued_timeout: int = 240  # seconds a task may stay queued before it is requeued
    max_retry_delay: int | None = None  # cap the DAGs' retry delays (seconds), via a policy
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    processes: dict[str, Process] = field(default_factory=dict)
    killed: set[str] = field(default_factory=set)  # processes stopped on purpose

    @property
    def metadata_url(self) -> str:
        return _with_db(self.server_url, self.metadata_db, "postgresql+psycopg2")

    @property
    def metadata_dsn(self) -> str:
        return _with_db(self.server_url, self.metadata_db, "postgresql")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        env = airflow_env(self.warehouse_url, self.landing_url, home=self.home)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            "AIRFLOW__CELERY__BROKER_URL": self.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.metadata_dsn,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            # A worker holds only the tasks it runs: nothing prefetched is stranded when it dies.
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "GX_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONUNBUFFERED": "1",  # logs are read while the processes run
            # Queue no more than the workers can soon take: a task waits in Redis briefly, so a
            # task message lost with a dead worker (taken, not yet running) is requeued after
            # task_queued_timeout without that timeout catching tasks that merely wait.
            "AIRFLOW__CORE__PARALLELISM": str(2 * self.workers * self.worker_concurrency),
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(self.queued_timeout),
            # A task whose worker died is noticed within the timeout and retried.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(self.heartbeat_timeout),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        })
        env.update(self.extra_env)
        return env

    # -- life cycle -------------------------------------------------------------------------

    def create_metadata_db(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{self.metadata_db}" with (force)')
            conn.execute(f'create database "{self.metadata_db}"')

    def drop_metadata_db(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{self.metadata_db}" with (force)')

    def write_policy(self) -> None:
        path = self.home / "config" / "airflow_local_settings.py"
        if self.max_retry_delay is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RETRY_POLICY.format(seconds=int(self.max_retry_delay)))

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one airflow command against the stack's metadata; its output; raise on failure."""
        done = subprocess.run([airflow_bin(), *args], env=self.env(), text=True, capture_output=True,
                              timeout=timeout, cwd=self.home)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Process:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{name}.log"
        with log_path.open("w") as log:
            popen = subprocess.Popen([airflow_bin(), *args], env=env or self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=self.home)
        proc = Process(name, popen, log_path)
        self.processes[name] = proc
        return proc

    def start(self, timeout: float = 300) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.write_policy()
        self.create_metadata_db()
        self.airflow("db", "migrate", timeout=600)
        self.spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port))
        self.spawn("scheduler", "scheduler")
        self.spawn("dag-processor", "dag-processor")
        for i in range(1, self.workers + 1):
            self.add_worker(f"worker{i}", wait=False)
        self.wait_healthy(timeout)

    def add_worker(self, name: str, wait: bool = True, timeout: float = 180) -> Process:
        """Start a Celery worker (its own log-server port, its own Celery node name)."""
        env = dict(self.env(), AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
        proc = self.spawn(name, "celery", "worker", "--celery-hostname", f"{name}@%h",
                          "--queues", "default", "--concurrency", str(self.worker_concurrency),
                          env=env)
        if wait:
            self.wait_for(lambda: self.check_alive([name]) or " ready." in proc.log_text(),
                          timeout, f"{name} ready")
        return proc

    def workers_alive(self) -> list[Process]:
        return [p for n, p in self.processes.items() if n.startswith("worker") and p.alive()]

    def worker_holding(self, pid: int | None) -> Process | None:
        """The live worker whose descendant ``pid`` is (a task instance's process)."""
        if not pid:
            return None
        return next((w for w in self.workers_alive() if w.holds(pid)), None)

    def wait_healthy(self, timeout: float) -> None:
        pending = {"api", "scheduler", *(n for n in self.processes if n.startswith("worker"))}

        def healthy() -> bool:
            self.check_alive()
            if "api" in pending and self._api_healthy():
                pending.discard("api")
            if "scheduler" in pending and self._scheduler_healthy():
                pending.discard("scheduler")
            for name in [n for n in pending if n.startswith("worker")]:
                if " ready." in self.processes[name].log_text():
                    pending.discard(name)
            return not pending

        self.wait_for(healthy, timeout, lambda: f"healthy (waiting for {sorted(pending)})")

    def _api_healthy(self) -> bool:
        return api_healthy(self.api_url)

    def _scheduler_healthy(self) -> bool:
        return scheduler_healthy(self.query)

    def check_alive(self, names: list[str] | None = None) -> None:
        """Raise if a process (of ``names``, default all not deliberately killed) has stopped."""
        dead = [p for n, p in self.processes.items()
                if (names is None or n in names) and not p.alive() and n not in self.killed]
        if dead:
            raise RuntimeError("stopped unexpectedly: " + ", ".join(p.name for p in dead) + "\n"
                               + self.log_tails())

    def kill_worker(self, worker: Process) -> list[int]:
        """Kill a worker the way a lost machine goes: SIGKILL to it and all its descendants."""
        self.killed.add(worker.name)
        return worker.kill()

    def stop(self) -> None:
        """Stop every process (SIGTERM to its group, then SIGKILL to what is left of its tree,
        task processes included); idempotent."""
        for proc in self.processes.values():
            proc.terminate()
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.processes.values():
            proc.kill()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.popen.poll() is None:
                proc.popen.wait(timeout=10)

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(f"----- {p.name} ({p.log_path}) -----\n{p.log_tail(lines)}"
                         for p in self.processes.values())

    def wait_for(self, predicate, timeout: float, what, interval: float = 2):
        """Poll ``predicate`` until it returns something true; its value. On timeout raise with
        ``what`` (a text, or a function giving one) and the processes' logs."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                text = what() if callable(what) else what
                raise TimeoutError(f"{text}: not after {timeout:.0f}s\n{self.log_tails(60)}")
            time.sleep(interval)

    # -- the metadata database ----------------------------------------------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.metadata_dsn, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_parsed(self, dag_ids: list[str], timeout: float = 240) -> None:
        def parsed() -> bool:
            self.check_alive()
            try:
                found = {r[0] for r in self.query("select dag_id from serialized_dag")}
            except psycopg.Error:
                return False
            return set(dag_ids) <= found

        self.wait_for(parsed, timeout, f"DAGs {dag_ids} parsed")

    def dag_runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of every run of a DAG, oldest first."""
        return self.query("select run_id, run_type, state from dag_run where dag_id = %s "
                          "order by id", (dag_id,))

    def task_instances(self, dag_id: str, run_id: str | None = None) -> list[dict]:
        """Task instances of a DAG (of one run): task_id, map_index, state, try_number,
        pid, hostname, external_executor_id (the Celery task id of its latest try)."""
        rows = self.query(
            "select run_id, task_id, map_index, state, try_number, pid, hostname, "
            "external_executor_id from task_instance where dag_id = %s "
            "and (%s::text is null or run_id = %s) order by task_id, map_index",
            (dag_id, run_id, run_id))
        keys = ("run_id", "task_id", "map_index", "state", "try_number", "pid", "hostname",
                "celery_task_id")
        return [dict(zip(keys, row, strict=True)) for row in rows]
