"""Shared fixtures: a real PostgreSQL server (the one at POVERTY_TEST_SERVER_URL, or an embedded
one when none answers), a fresh database per test module, and a landing folder."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from support.databases import create_database, drop_database

# Before anything imports Airflow: its configuration is read once, at import.
_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AIRFLOW_HOME", str(_ROOT / ".local" / "airflow-test"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_ROOT / "dags"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
# the household key of every test warehouse (and of the Airflow processes tests start)
os.environ.setdefault("POVERTY_PII_KEY", "test-household-key")

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _server_url() -> str:
    url = os.environ.get("POVERTY_TEST_SERVER_URL", DEFAULT_SERVER)
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return url
    except psycopg.OperationalError:
        from poverty_pipeline.config import LOCAL_DIR
        from poverty_pipeline.warehouse.database import start_embedded

        return start_embedded(LOCAL_DIR / "pgdata-test")


def pytest_configure(config):
    # Resolved once so every fixture (and tests/integration/dbt) uses the same server.
    os.environ["POVERTY_TEST_SERVER_URL"] = _server_url()


@pytest.fixture
def warehouse(monkeypatch) -> str:
    """A fresh, empty warehouse database for one test; its URL."""
    name, url = create_database("poverty_test")
    monkeypatch.setenv("POVERTY_WAREHOUSE_URL", url)
    yield url
    drop_database(name)


@pytest.fixture
def landing(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    monkeypatch.setenv("POVERTY_LANDING_URL", root.as_uri())
    return root
