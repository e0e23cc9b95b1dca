"""The nightly agency ingest's tasks, run as Airflow runs them (the DAG's own task callables,
in order) on a warehouse: the reports of two years, in about 35 period folders, go to a few
mapped tasks of at least POVERTY_INGEST_TASK_FILES files, and every file gets one outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.databases import dict_rows

from poverty_pipeline.samples.agencies import generate_agency_reports

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "agency_ingest.py"


@pytest.fixture(scope="module")
def agency_dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAG_FILE)).dags["agency_ingest"]


def run_nightly(dag) -> tuple[list[dict], list[dict], dict]:
    """discover_new_files → ingest_batch per batch → announce_loaded: the batches, the tasks'
    results and the totals."""
    from airflow.sdk.exceptions import AirflowSkipException

    callable_of = {t: dag.get_task(t).python_callable
                   for t in ("prepare_warehouse", "discover_new_files", "ingest_batch", "announce_loaded")}
    callable_of["prepare_warehouse"]()
    found = callable_of["discover_new_files"]()
    results = [callable_of["ingest_batch"](batch=b, run_id="nightly") for b in found]
    try:
        totals = callable_of["announce_loaded"](results)
    except AirflowSkipException as skipped:
        totals = {"skipped": str(skipped)}
    return found, results, totals


def test_consecutive_periods_share_a_task_and_every_file_has_one_outcome(
        agency_dag, warehouse, landing, tmp_path, monkeypatch):
    monkeypatch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path / "docs"))
    monkeypatch.setenv("POVERTY_INGEST_TASK_FILES", "40")
    generate_agency_reports(landing, years=[2023, 2024])
    landed = sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file())
    folders = sorted({Path(p).parent.name for p in landed})

    found, results, totals = run_nightly(agency_dag)

    assert [p for b in found for p in b["periods"]] == folders  # each period once, in order
    assert sorted(f["path"] for b in found for f in b["files"]) == landed
    assert all(len(b["files"]) >= 40 for b in found[:-1])
    assert len(found) < len(folders) / 4  # a task per period no longer
    for batch, result in zip(found, results, strict=True):
        assert (result["period"], result["periods"]) == (batch["period"], batch["periods"])
        assert result["files"] == len(batch["files"])
    outcomes = dict_rows(warehouse, "select path, status from audit.submissions")
    assert sorted(r["path"] for r in outcomes) == landed  # one outcome per file
    assert totals["periods"] == folders
    assert totals["loaded"] == sum(r["status"] != "rejected" for r in outcomes) > 0

    # nothing new: no batch, nothing loaded twice
    again, _, totals = run_nightly(agency_dag)
    assert again == [] and "nothing new loaded" in totals["skipped"]
    assert len(dict_rows(warehouse, "select path from audit.submissions")) == len(landed)
