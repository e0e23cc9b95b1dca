"""DAG integrity: every DAG imports cleanly, quickly, with the tasks and schedules expected."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
PARSE_BUDGET_S = 10.0  # per file; Airflow's default dagbag_import_timeout is 30 s


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(DAGS))
    return bag, time.monotonic() - started


def test_every_dag_imports_without_errors(dagbag):
    bag, _ = dagbag
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"commune_ingest", "agency_ingest", "warehouse_build",
                                "commune_ingest_by_year", "agency_ingest_by_month"}


def test_dags_parse_within_budget(dagbag):
    bag, elapsed = dagbag
    assert elapsed < PARSE_BUDGET_S * len(bag.dag_ids), f"parsing took {elapsed:.1f} s"


def test_ingest_dag_tasks_and_schedule(dagbag):
    dag = dagbag[0].dags["commune_ingest"]
    assert set(dag.task_ids) == {
        "prepare_warehouse", "discover_new_files", "ingest_batch", "announce_loaded"
    }
    assert dag.timetable.expression == "0 1 * * *"
    assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert [o.name for o in dag.get_task("announce_loaded").outlets] == ["warehouse_raw_commune_reviews"]
    assert dag.catchup is False


@pytest.mark.parametrize(("dag_id", "cron", "key_format"), [
    ("commune_ingest_by_year", "0 0 1 1 *", "%Y"),
    ("agency_ingest_by_month", "0 0 1 * *", "%Y-%m"),
])
def test_partitioned_ingest_dags_take_one_period_per_run(dagbag, dag_id, cron, key_format):
    """Same tasks and asset as the nightly DAG; a partition per review year or month, its key
    formatted as the landing folder names it; the scheduled run after the partition closes."""
    dag = dagbag[0].dags[dag_id]
    nightly = dagbag[0].dags[dag_id.rsplit("_by_", 1)[0]]
    assert set(dag.task_ids) == set(nightly.task_ids)
    assert type(dag.timetable).__name__ == "CronPartitionTimetable"
    assert (dag.timetable.expression, dag.timetable.key_format) == (cron, key_format)
    assert dag.timetable.run_offset == -1
    assert dag.is_paused_upon_creation is False  # backfill runs of a paused DAG would wait
    assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert ([o.name for o in dag.get_task("announce_loaded").outlets]
            == [o.name for o in nightly.get_task("announce_loaded").outlets])


def test_backfill_ranges_map_to_landing_periods(dagbag):
    """The partitions a backfill over a date range creates, as Airflow computes them from the
    serialized DAG, and the landing periods each one takes."""
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization

    from poverty_pipeline.orchestration.partitions import PARTITIONING

    def partitions(dag_id, first, last):
        dag = DagSerialization.from_dict(DagSerialization.to_dict(dagbag[0].dags[dag_id]))
        infos = dag.iter_dagrun_infos_between(pendulum.parse(first), pendulum.parse(last))
        return [i.partition_key for i in infos]

    assert partitions("commune_ingest_by_year", "2021-01-01", "2023-12-31") == ["2021", "2022", "2023"]
    assert partitions("commune_ingest_by_year", "2022-01-01", "2022-12-31") == ["2022"]
    months = partitions("agency_ingest_by_month", "2024-07-01", "2024-09-30")
    assert months == ["2024-07", "2024-08", "2024-09"]
    periods = PARTITIONING["agency_task_report"].periods_of
    assert [p for m in months for p in periods(m)] == ["2024-07", "2024-08", "2024-09", "2024-Q3"]
    assert periods("2024-12") == ["2024-12", "2024-Q4", "2024"]


def test_build_dag_runs_every_model_with_its_tests(dagbag):
    dag = dagbag[0].dags["warehouse_build"]
    ids = set(dag.task_ids)
    assert {"prepare_sources", "report_indicators"} <= ids
    for model in ("fct_poverty_indicators", "rpt_poverty_indicators_by_area",
                  "int_households_classified"):
        assert f"dbt.{model}.run" in ids and f"dbt.{model}.test" in ids
    for seed in ("ref_poverty_standards", "ref_poverty_indicators", "ref_communes_2024", "ref_communes_2025"):
        assert any(t.startswith(f"dbt.{seed}") for t in ids)
    # Nightly at 01:00 in Vietnam, and whenever ingest has loaded something.
    assert dag.timetable.timetable.expression == "0 1 * * *"
    assert str(dag.timetable.timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert {a.name for a in dag.timetable.asset_condition.objects} == {
        "warehouse_raw_commune_reviews", "warehouse_raw_agency_reports"}
    assert {"reconcile_submissions", "export_review_summary", "write_follow_up_lists"} <= ids
    for model in ("fct_task_completion", "fct_submission_status", "rpt_reporting_rates",
                  "rpt_target_progress", "rpt_review_summary"):
        assert f"dbt.{model}.run" in ids and f"dbt.{model}.test" in ids


def test_the_build_is_one_dbt_build_whose_nodes_report_after_it(dagbag):
    """cosmos' watcher mode: the producer runs `dbt build` once (its retry skips at once and
    leaves each unreported node to its own task); every per-node task starts after it, so
    `airflow dags test`, which runs one task at a time, never waits in a node task before the
    build ran."""
    dag = dagbag[0].dags["warehouse_build"]
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert producer.upstream_task_ids == {"prepare_sources"}
    assert producer.retries >= 1 and producer.retry_delay.total_seconds() <= 10
    # dbt's unit tests (SQL on fixed inputs) run in the test suite, not in every build
    assert producer.env["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"
    node_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")
                  and t.task_id not in (producer.task_id, "dbt.dbt_producer_watcher_done")]
    assert len(node_tasks) > 100
    for task in node_tasks:
        assert producer.task_id in task.get_flat_relative_ids(upstream=True), task.task_id
        assert not task.deferrable, task.task_id  # no triggerer needed
    # no task of a test detached from its models: cosmos' watcher has no result for it
    assert not [t.task_id for t in node_tasks
                if not t.task_id.endswith((".run", ".test", ".seed", "_run", "_seed"))]
