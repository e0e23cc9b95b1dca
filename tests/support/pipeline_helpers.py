"""A small pipeline in tests: a few communes' generated submissions, ingested into a throw-away
warehouse, and dbt run in-process — for the quality gate, the fault and the access tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from poverty_pipeline.config import DBT_PROJECT_DIR
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.samples.generate import generate_submissions
from poverty_pipeline.warehouse.database import connect, dbt_env, ensure_schema

# Two districts: two communes of Mỹ Tho (815) and two of Cái Bè (819).
COMMUNES = ["28249", "28252", "28360", "28363"]


def small_landing(landing: Path, years=(2021, 2022), communes=COMMUNES) -> None:
    generate_submissions(landing, years=years, communes=communes, workers=1)


def ingest(url: str, landing: Path, run_id: str = "test", folder: str = "communes"):
    with connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), folder)
        return ingest_files(conn, landing.as_uri(), files, run_id=run_id)


def dbt(url: str, target_dir: Path, *args: str) -> None:
    """Run dbt in-process against ``url``; fail the test with dbt's messages if it fails.

    The target and log paths are private to the test, so the project's own target/
    (the manifest Airflow loads) is left alone.
    """
    from dbt.cli.main import dbtRunner

    env = dbt_env(url)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        result = dbtRunner().invoke([
            *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_dir), "--log-path", str(target_dir / "logs"),
            "--no-partial-parse", "--no-use-colors", "--quiet",
        ])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if not result.success:
        failed = [f"{r.node.unique_id}: {r.status} {r.message}"
                  for r in (getattr(result.result, "results", None) or [])
                  if str(r.status) not in ("success", "pass")]
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or ''}\n" + "\n".join(failed))


def build_marts(url: str, target_dir: Path) -> None:
    """Seeds, models and the quality views, without dbt's own tests (the gate is under test)."""
    dbt(url, target_dir, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def schema_checksums(url: str, schemas: tuple[str, ...]) -> dict[str, str]:
    """md5 of every table's rows in a stable order, per table of ``schemas``; a row is read by
    column name (jsonb), so a column added at the end by a later release compares equal."""
    sums = {}
    with connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'select to_jsonb(t)::text from "{schema}"."{table}" as t').fetchall()
            digest = hashlib.md5()
            for (text,) in sorted(rows):
                digest.update(text.encode("utf-8") + b"\n")
            sums[f"{schema}.{table}"] = f"{len(rows)}:{digest.hexdigest()}"
    return sums
