"""The warehouse: connections, the embedded server for local use, and the raw/audit tables."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import psycopg

from poverty_pipeline.config import LOCAL_DIR, warehouse_url
from poverty_pipeline.contract import Contract, all_contracts, load_contract
from poverty_pipeline.pii import store_pads

# The commune contract's raw tables (sheet → table); each contract names its own in its YAML.
RAW_TABLES = load_contract().raw_tables


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)


def start_embedded(pgdata: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL 16 and return its URL.

    The server keeps running after this process exits so the warehouse can be queried;
    ``make stop`` stops it.
    """
    import pgserver  # heavy import, only on the local path

    pgdata = pgdata or LOCAL_DIR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgserver.get_server(pgdata, cleanup_mode=None)
    return f"postgresql://postgres:embedded@/postgres?host={pgdata}"


def raw_columns(contract: Contract, sheet: str) -> list[tuple[str, str]]:
    return [(f.code, f.sql_type) for f in contract.sheets[sheet].fields]


def raw_table_ddl(contract: Contract) -> str:
    statements = []
    for sheet, table in contract.raw_tables.items():
        row_key = "" if contract.sheets[sheet].layout == "key_value" else "row_number integer not null,\n    "
        columns = ",\n    ".join(f"{code} {sql_type}" for code, sql_type in raw_columns(contract, sheet))
        primary_key = "submission_id" if not row_key else "submission_id, row_number"
        statements.append(
            f"create table if not exists raw.{table} (\n"
            f"    submission_id text not null references audit.submissions (submission_id),\n"
            f"    {row_key}{columns},\n"
            f"    extra_columns jsonb,\n"
            f"    primary key ({primary_key})\n)"
        )
    return ";\n".join(statements) + ";"


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create schemas and tables that do not exist yet, for every contract (idempotent)."""
    base = resources.files("poverty_pipeline").joinpath("sql/warehouse.sql").read_text("utf-8")
    with conn.transaction():
        # Two tasks may start on a new warehouse at once; serialise the DDL.
        conn.execute("select pg_advisory_xact_lock(hashtext('poverty_pipeline.ensure_schema'))")
        conn.execute(base)
        for contract in all_contracts():
            conn.execute(raw_table_ddl(contract))
    store_pads(conn)


def dbt_env(url: str | None = None) -> dict[str, str]:
    """Environment variables the dbt profile reads, derived from the warehouse URL."""
    from poverty_pipeline.config import warehouse_parts

    parts = warehouse_parts(url or warehouse_url())
    return {
        "POVERTY_DB_HOST": str(parts["host"]),
        "POVERTY_DB_PORT": str(parts["port"]),
        "POVERTY_DB_USER": str(parts["user"]),
        "POVERTY_DB_PASSWORD": str(parts["password"]),
        "POVERTY_DB_NAME": str(parts["dbname"]),
    }


def apply_dbt_env(url: str | None = None) -> None:
    os.environ.update(dbt_env(url))
