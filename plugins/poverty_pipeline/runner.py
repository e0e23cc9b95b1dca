"""Run the DAGs through Airflow on this machine (``airflow dags test``: real task execution,
one process, SQLite metadata under ``.local/airflow``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from poverty_pipeline.config import LOCAL_DIR, PROJECT_ROOT, WAREHOUSE_CONN_ID, warehouse_parts

# Lines of `airflow dags test` output worth showing while it runs: task starts, the pipeline's
# own progress messages, dbt's per-invocation totals, failures.
PROGRESS = re.compile(
    r"(\[DAG TEST\] starting task_id=(?P<task>\S+)|\[poverty_pipeline\.\w+\]|Done\. PASS=|"
    r"DagRun Finished|Traceback|\[error\s*\]|ERROR in )"
)
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


def dags_test(dag_id: str, env: dict[str, str], log_dir: Path | None = None, echo=print) -> float:
    """Run one DAG to completion through Airflow; raise if any task failed.

    The full log goes to ``.local/logs/<dag_id>.log``; progress lines are echoed.
    """
    log_dir = log_dir or LOCAL_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    started = time.monotonic()
    failed = False
    with log_path.open("w") as log, subprocess.Popen(
        [_airflow(), "dags", "test", dag_id], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as proc:
        for line in proc.stdout:
            log.write(line)
            match = PROGRESS.search(line)
            if match:
                text = f"task {match['task']}" if match["task"] else _message(line)
                echo(f"  [{dag_id} {time.monotonic() - started:6.1f}s] {text}")
            if "state=failed" in line or "DagRun Finished" in line and "failed" in line:
                failed = True
    if proc.returncode != 0 or failed:
        raise RuntimeError(f"DAG {dag_id} failed; full log: {log_path}")
    return time.monotonic() - started
