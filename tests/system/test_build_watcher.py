"""The warehouse build through Airflow in cosmos' watcher mode: one `dbt build`, and a task per
node that shows what dbt did to it. A model that fails fails the task named after it; the models
that read it do not run; the rest of the province builds; the quality gate does not run."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from support.celery_stack import RETRY_POLICY

from poverty_pipeline.cli import main as cli
from poverty_pipeline.orchestration import runner
from poverty_pipeline.reporting import outputs
from poverty_pipeline.warehouse.database import ensure_schema


def task_states(airflow_home) -> dict[str, str]:
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        return dict(db.execute("select task_id, state from task_instance where dag_id = 'warehouse_build'"))


def test_a_failing_model_fails_its_own_task_and_nothing_else_that_could_run(
        warehouse, landing, tmp_path, monkeypatch, capsys):
    with psycopg.connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        # a column the staging model of the agencies' activities selects is gone
        conn.execute("alter table raw.agency_activities rename column ghi_chu to ghi_chu_renamed")
    for module in (runner, outputs):  # the run's AIRFLOW_HOME and logs, under the test's folder
        monkeypatch.setattr(module, "LOCAL_DIR", tmp_path / "local")
    # the failed model's task is retried after 5 s, not the DAG's 2 minutes (a cluster policy)
    policy = tmp_path / "local" / "airflow" / "config" / "airflow_local_settings.py"
    policy.parent.mkdir(parents=True)
    policy.write_text(RETRY_POLICY.format(seconds=5))
    with pytest.raises(SystemExit) as ended:
        cli.main(["run", "--dag", "warehouse_build"])
    assert "DAG warehouse_build failed" in str(ended.value)
    printed = capsys.readouterr().out

    states = task_states(tmp_path / "local" / "airflow")
    # the model's own task (after its retry ran the model alone); the one `dbt build` reported
    # it and, retried, was skipped
    assert {t for t, state in states.items() if state == "failed"} == {
        "dbt.stg_agency_reports__activities.run"}
    assert states["dbt.dbt_producer_watcher"] == "skipped"
    assert "stg_agency_reports__activities" in printed and "FAILED" in printed
    # what reads it did not run
    for task_id in ("dbt.int_agency_activities_assessed.run", "dbt.fct_activity_progress.run",
                    "quality_gate", "export_review_summary"):
        assert states[task_id] == "upstream_failed", (task_id, states[task_id])
    # the commune side of the province built
    for task_id in ("dbt.stg_commune_reviews__households.run", "dbt.int_households_classified.run",
                    "dbt.int_households_classified.test", "dbt.fct_poverty_indicators.run",
                    "dbt.ref_poverty_standards.seed"):
        assert states.get(task_id) == "success", (task_id, states.get(task_id))
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select to_regclass('marts.fct_poverty_indicators')").fetchone()[0]
