"""A real Airflow on this machine for tests that need its scheduler: API server, scheduler
(LocalExecutor) and DAG processor, PostgreSQL as the metadata database, under a temporary
AIRFLOW_HOME. Each process runs in its own process group (stopped by signalling the group),
its log in ``<home>/logs/<name>.log``. The CeleryExecutor stack (``celery_stack.py``) uses its
port, binary and health-check helpers."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from poverty_pipeline.orchestration.runner import airflow_env, stop_process_groups
from support.databases import create_database, drop_database

USER, PASSWORD = "engineer", secrets.token_urlsafe(12)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def api_healthy(api_url: str) -> bool:
    """The API server answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url}/api/v2/monitor/health", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def scheduler_healthy(query) -> bool:
    """A scheduler job of the metadata database (read by ``query``) has a recent heartbeat."""
    try:
        rows = query("select count(*) from job where job_type = 'SchedulerJob' and state = "
                     "'running' and latest_heartbeat > now() - interval '30 seconds'")
    except psycopg.Error:
        return False
    return rows[0][0] > 0


@dataclass
class LocalStack:
    home: Path
    warehouse_url: str
    landing_url: str
    dag_files: list[Path]  # only these are parsed: less work for the DAG processor
    api_port: int = field(default_factory=free_port)
    metadata_db: str = ""
    metadata_dsn: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        env = airflow_env(self.warehouse_url, self.landing_url, home=self.home)
        scheme, *rest = urlsplit(self.metadata_dsn)
        env.update({
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.home / "plugins"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": urlunsplit(("postgresql+psycopg2", *rest)),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-" + secrets.token_urlsafe(24),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "DO_NOT_TRACK": "1",
        })
        return env

    def start(self, timeout: float = 240) -> None:
        (self.home / "dags").mkdir(parents=True, exist_ok=True)
        (self.home / "plugins").mkdir(exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
        for f in self.dag_files:
            (self.home / "dags" / f.name).symlink_to(f)
        self.metadata_db, self.metadata_dsn = create_database("airflow_meta")
        self.env_vars = self.env()
        self.airflow("db", "migrate", timeout=600)
        self.spawn("api-server", "api-server")
        self.spawn("scheduler", "scheduler")
        self.spawn("dag-processor", "dag-processor")
        self.wait(lambda: self._api_healthy() and self._scheduler_healthy(), timeout, "API server, scheduler")

    def stop(self) -> None:
        stop_process_groups(self.processes.values(), grace=20)
        if self.metadata_db:
            drop_database(self.metadata_db)

    # -- processes ---------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180) -> str:
        """Run one ``airflow`` command against this stack; its output; raise on failure."""
        done = subprocess.run([airflow_bin(), *args], env=self.env_vars, text=True,
                              capture_output=True, timeout=timeout, cwd=self.home)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, script: str, timeout: float = 120) -> str:
        """Run a shell snippet (a documented example) with this stack's environment."""
        env = {**self.env_vars, "PATH": f"{Path(airflow_bin()).parent}:{os.environ['PATH']}",
               "AIRFLOW_URL": self.api_url, "AIRFLOW_USER": USER, "AIRFLOW_PASSWORD": PASSWORD}
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, text=True,
                              capture_output=True, timeout=timeout, cwd=self.home)
        if done.returncode != 0:
            raise RuntimeError(f"failed:\n{script}\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, *args: str) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        with (self.home / "logs" / f"{name}.log").open("w") as log:
            self.processes[name] = subprocess.Popen(
                [airflow_bin(), *args], env=self.env_vars, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.home)

    def check_alive(self) -> None:
        dead = [n for n, p in self.processes.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"stopped unexpectedly: {dead}\n{self.log_tails()}")

    def log_tails(self, lines: int = 30) -> str:
        out = []
        for name in self.processes:
            text = (self.home / "logs" / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"----- {name} -----\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def wait(self, done, timeout: float, what: str, every: float = 2.0):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            result = done()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not done after {timeout:.0f} s\n{self.log_tails()}")
            time.sleep(every)

    def _api_healthy(self) -> bool:
        return api_healthy(self.api_url)

    def _scheduler_healthy(self) -> bool:
        return scheduler_healthy(self.query)

    # -- REST API and metadata ---------------------------------------------------------------

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        token = self._request("POST", "/auth/token", {"username": USER, "password": PASSWORD})
        return self._request(method, path, body, token["access_token"])

    def _request(self, method: str, path: str, body: dict | None, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.api_url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.metadata_dsn, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_parsed(self, dag_ids: list[str], timeout: float = 180) -> None:
        def parsed():
            try:
                found = {r[0] for r in self.query("select dag_id from serialized_dag")}
            except psycopg.Error:
                return False
            return set(dag_ids) <= found
        self.wait(parsed, timeout, f"parsing {dag_ids}")

    def wait_backfill(self, backfill_id: int, timeout: float = 300) -> None:
        self.wait(lambda: self.query("select completed_at from backfill where id = %s",
                                     (backfill_id,))[0][0], timeout, f"backfill {backfill_id}")

    def latest_backfill(self, dag_id: str) -> int:
        return self.query("select max(id) from backfill where dag_id = %s", (dag_id,))[0][0]

    def backfill_runs(self, backfill_id: int) -> list[tuple]:
        """(run_id, partition_key, state, start_date, end_date) of a backfill's runs, by partition."""
        return self.query(
            "select run_id, partition_key, state, start_date, end_date from dag_run "
            "where backfill_id = %s order by partition_key", (backfill_id,))

    def xcoms(self, dag_id: str, run_id: str, task_id: str) -> list:
        rows = self.query("select value from xcom where dag_id = %s and run_id = %s and task_id = %s "
                          "and key = 'return_value' order by map_index", (dag_id, run_id, task_id))
        return [json.loads(v) if isinstance(v, str) else v for (v,) in rows]

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        pattern = f"dag_id={dag_id}/run_id={run_id}/task_id={task_id}/**/*.log"
        paths = sorted((self.home / "logs").glob(pattern))
        return "\n".join(p.read_text(errors="replace") for p in paths)
