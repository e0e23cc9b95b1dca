"""A local Airflow stack with CeleryExecutor, on this machine: API server, scheduler, DAG
processor and Celery workers, Redis as the broker and PostgreSQL as the metadata database and
Celery result backend.

Used by the scale-out test (``tests/test_celery_stack.py``); each process runs in its own
process group with its log in ``<home>/logs/<name>.log`` and is stopped by killing the group.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from poverty_pipeline.runner import airflow_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _with_db(server_url: str, dbname: str, scheme: str | None = None) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(scheme=scheme or parts.scheme, path=f"/{dbname}"))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process group (the process and the task processes it forked)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)


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
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)

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
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "GX_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # A task whose worker died is noticed quickly and retried.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
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

    def airflow(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
        """Run one airflow command against the stack's metadata; its output; raise on failure."""
        done = subprocess.run([_airflow(), *args], env=env or self.env(), text=True,
                              capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Process:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{name}.log"
        with log_path.open("w") as log:
            popen = subprocess.Popen([_airflow(), *args], env=env or self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=self.home)
        proc = Process(name, popen, log_path)
        self.processes[name] = proc
        return proc

    def start(self, timeout: float = 240) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.create_metadata_db()
        base = self.env()
        self.airflow("db", "migrate", env=base, timeout=600)
        self.spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port),
                   env=base)
        self.spawn("scheduler", "scheduler", env=base)
        self.spawn("dag-processor", "dag-processor", env=base)
        for i in range(1, self.workers + 1):
            env = dict(base, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
            self.spawn(f"worker{i}", "celery", "worker", "--celery-hostname", f"worker{i}@%h",
                       "--queues", "default", "--concurrency", str(self.worker_concurrency),
                       env=env)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {"api", "scheduler", *(n for n in self.processes if n.startswith("worker"))}
        while pending:
            self.check_alive()
            if "api" in pending and self._api_healthy():
                pending.discard("api")
            if "scheduler" in pending and self._scheduler_healthy():
                pending.discard("scheduler")
            for name in [n for n in pending if n.startswith("worker")]:
                if "ready." in self.processes[name].log_path.read_text(errors="replace"):
                    pending.discard(name)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not healthy after {timeout:.0f}s: {sorted(pending)}\n"
                                   + self.log_tails())
            time.sleep(2)

    def _api_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def _scheduler_healthy(self) -> bool:
        try:
            rows = self.query("select count(*) from job where job_type = 'SchedulerJob' "
                              "and state = 'running' "
                              "and latest_heartbeat > now() - interval '30 seconds'")
        except psycopg.Error:
            return False
        return rows[0][0] > 0

    def check_alive(self, names: list[str] | None = None) -> None:
        dead = [p for n, p in self.processes.items() if (names is None or n in names) and not p.alive()]
        if dead:
            raise RuntimeError("stopped unexpectedly: " + ", ".join(p.name for p in dead) + "\n"
                               + self.log_tails())

    def stop(self) -> None:
        """Stop every process (SIGTERM to its group, SIGKILL after a grace period); idempotent."""
        for proc in self.processes.values():
            proc.kill(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.processes.values():
            # the group may outlive its leader (task processes): kill what is left of it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            if proc.popen.poll() is None:
                proc.popen.wait(timeout=10)

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(f"----- {p.name} ({p.log_path}) -----\n{p.log_tail(lines)}"
                         for p in self.processes.values())

    # -- the metadata database ----------------------------------------------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.metadata_dsn, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_parsed(self, dag_ids: list[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                found = {r[0] for r in self.query("select dag_id from serialized_dag")}
            except psycopg.Error:
                found = set()
            if set(dag_ids) <= found:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAGs not parsed after {timeout:.0f}s: "
                                   f"{sorted(set(dag_ids) - found)}\n" + self.log_tails())
            time.sleep(2)

    def dag_runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of every run of a DAG, oldest first."""
        return self.query("select run_id, run_type, state from dag_run where dag_id = %s "
                          "order by id", (dag_id,))

    def task_instances(self, dag_id: str, run_id: str) -> list[tuple]:
        """(task_id, map_index, state, try_number, hostname, external_executor_id)."""
        return self.query(
            "select task_id, map_index, state, try_number, hostname, external_executor_id "
            "from task_instance where dag_id = %s and run_id = %s order by task_id",
            (dag_id, run_id))
