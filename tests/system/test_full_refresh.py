"""`poverty run --full-refresh`: the warehouse build through Airflow rebuilds the incremental
household models from scratch (cosmos' one `dbt build` with --full-refresh); without it, a run
keeps them and rebuilds only what changed (tests/integration/dbt/test_incremental.py)."""

from __future__ import annotations

import psycopg
from support.pipeline_helpers import ingest, small_landing

from poverty_pipeline.cli import main as cli
from poverty_pipeline.orchestration import runner
from poverty_pipeline.reporting import outputs

HOUSEHOLD_MODELS = ("int_review_households", "int_households_classified", "int_household_flows")


def table_ids(url: str) -> dict[str, int]:
    """The household tables' object ids: a table created again gets a new one."""
    with psycopg.connect(url) as conn:
        return {m: conn.execute("select %s::regclass::oid", (f"intermediate.{m}",)).fetchone()[0]
                for m in HOUSEHOLD_MODELS}


def test_full_refresh_builds_the_household_tables_again(warehouse, landing, tmp_path, monkeypatch):
    small_landing(landing, years=(2021,), communes=["28249", "28252"])
    ingest(warehouse, landing)
    for module in (runner, outputs):  # the run's AIRFLOW_HOME and logs, under the test's folder
        monkeypatch.setattr(module, "LOCAL_DIR", tmp_path / "local")

    cli.main(["run", "--dag", "warehouse_build"])
    first = table_ids(warehouse)
    cli.main(["run", "--dag", "warehouse_build", "--full-refresh"])
    log = (tmp_path / "local" / "logs" / "warehouse_build.log").read_text()

    assert "--full-refresh" in log
    assert all(table_ids(warehouse)[m] != first[m] for m in HOUSEHOLD_MODELS)
