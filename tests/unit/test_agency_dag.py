"""DAG integrity of agency_ingest: imports cleanly and quickly, with the expected tasks, schedule
and asset (the set of all DAG ids is checked in tests/unit/test_dags.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "agency_ingest.py"


@pytest.fixture(scope="module")
def agency_dag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(DAG_FILE))
    elapsed = time.monotonic() - started
    assert bag.import_errors == {}
    assert elapsed < 10.0, f"parsing took {elapsed:.1f} s"
    return bag.dags["agency_ingest"]


def test_agency_ingest_tasks_schedule_and_asset(agency_dag):
    assert set(agency_dag.task_ids) == {
        "prepare_warehouse", "discover_new_files", "ingest_batch", "announce_loaded"
    }
    assert agency_dag.timetable.expression == "0 1 * * *"
    assert str(agency_dag.timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert agency_dag.catchup is False
    outlets = agency_dag.get_task("announce_loaded").outlets
    assert [o.name for o in outlets] == ["warehouse_raw_agency_reports"]
    assert type(agency_dag.get_task("ingest_batch")).__name__.endswith("MappedOperator")  # over the periods
