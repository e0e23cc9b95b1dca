"""Settings from the environment: the only place credentials enter the pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

# The repository root: src/poverty_pipeline/config.py → ../..
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = PROJECT_ROOT / ".local"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

WAREHOUSE_CONN_ID = "poverty_warehouse"
# The environment of the scheduled `dbt build` (the warehouse_build DAG, and the benchmark that
# measures it): dbt's unit tests check the models' SQL on fixed inputs, not the data, so they
# run in the test suite, not in every build (dbt's advice for production).
SCHEDULED_BUILD_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


def data_docs_dir() -> Path:
    """Where the Great Expectations Data Docs site is written: ``POVERTY_DATA_DOCS_DIR``,
    default ``.local/data_docs``."""
    return Path(os.environ.get("POVERTY_DATA_DOCS_DIR") or LOCAL_DIR / "data_docs")


def dbt_docs_dir() -> Path:
    """The dbt target folder holding the docs site the pages serve: ``POVERTY_DBT_DOCS_DIR``,
    default ``dbt_project/target`` (where ``make docs`` writes it)."""
    return Path(os.environ.get("POVERTY_DBT_DOCS_DIR") or DBT_PROJECT_DIR / "target")


def default_landing_url() -> str:
    """The repository's local ``.local/landing`` folder."""
    return (LOCAL_DIR / "landing").as_uri()


def landing_url() -> str:
    """``POVERTY_LANDING_URL``, default the repository's local ``.local/landing`` folder."""
    return os.environ.get("POVERTY_LANDING_URL") or default_landing_url()


def _whole_number(variable: str, default: int) -> int:
    """The whole number ≥ 1 in the environment ``variable``, or ``default`` when it is unset."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"{variable} must be a whole number ≥ 1, not {value!r}")
    return int(value)


def dbt_threads() -> int:
    """dbt's threads: ``POVERTY_DBT_THREADS``, default the machine's cores (models of one layer
    build side by side; the server, not dbt, is the limit)."""
    return _whole_number("POVERTY_DBT_THREADS", max(os.cpu_count() or 1, 1))


def ingest_part_rows() -> int:
    """``POVERTY_INGEST_PART_ROWS``: the rows of the files an ingest reads before it validates
    and records them together, while it reads the next part. Great Expectations holds every
    frame it validates, so the parts bound the ingest's memory whatever the batch (scale 5 in
    one part: 2.2 GiB); a part this size keeps the fixed cost of each validation small."""
    return _whole_number("POVERTY_INGEST_PART_ROWS", 100_000)


def ingest_readers() -> int:
    """``POVERTY_INGEST_READERS``: the files an ingest reads at once, each in a reader process
    of its own (under ``reader_memory_mib`` each), default the machine's cores, at most 4."""
    return _whole_number("POVERTY_INGEST_READERS", min(max(os.cpu_count() or 1, 1), 4))


def ingest_task_files() -> int:
    """``POVERTY_INGEST_TASK_FILES``: the files a mapped task of the nightly ingest takes at
    least, its consecutive periods joined until it holds that many (a period is never split)."""
    return _whole_number("POVERTY_INGEST_TASK_FILES", 100)


def warehouse_url() -> str:
    """``POVERTY_WAREHOUSE_URL``; the command line starts an embedded server when it is unset."""
    url = os.environ.get("POVERTY_WAREHOUSE_URL")
    if not url:
        raise RuntimeError(
            "POVERTY_WAREHOUSE_URL is not set: give a PostgreSQL URL, "
            "or start the pipeline with `make run`, which starts an embedded PostgreSQL"
        )
    return url


def warehouse_parts(url: str) -> dict[str, str | int]:
    """Host, port, user, password and database of a PostgreSQL URL.

    A Unix-socket directory may be given as ``?host=/path`` (libpq style) or percent-encoded
    in the host part.
    """
    parts = urlsplit(url)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    host = unquote(query.get("host") or parts.hostname or "localhost")
    return {
        "host": host,
        "port": int(query.get("port") or parts.port or 5432),
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.lstrip("/") or "postgres"),
    }
