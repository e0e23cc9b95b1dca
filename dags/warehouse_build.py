"""The warehouse build: dbt seeds → staging → intermediate → marts, tested, via cosmos."""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    TestBehavior,
    TestIndirectSelection,
)
from cosmos.profiles import PostgresUserPasswordProfileMapping

from poverty_pipeline.config import (
    DBT_PROJECT_DIR,
    SCHEDULED_BUILD_ENV,
    WAREHOUSE_CONN_ID,
    dbt_threads,
)
from poverty_pipeline.orchestration.assets import RAW_AGENCY_REPORTS, RAW_COMMUNE_REVIEWS
from poverty_pipeline.orchestration.dbt_watcher import (
    push_final_node_events_only,
    push_reports_in_background,
    report_after_the_build,
    throttle_retry_backup,
)

DOC = """
### Warehouse build

Runs the dbt project `dbt_project/` through astronomer-cosmos in watcher mode: one `dbt build`
with dbt's threads (`dbt_producer_watcher`, `POVERTY_DBT_THREADS`, default the machine's cores),
then one Airflow task per seed and model, and per model's tests, that shows what dbt did to it (a
failed model or test fails the task named after it, which on retry runs that node alone).
Seeds (standards, indicators, communes) → staging → intermediate (every household classified
under every standard) → marts
(`marts.fct_poverty_indicators`, `marts.rpt_poverty_indicators_by_area`, dimensions; flows and
the review summary, Alkire–Foster measures, household profiles, reconciliation with the
communes' claims, progress against the plan's and the national targets). The household
models are incremental: a run rebuilds only the households of the reviews that arrived or were
corrected since the last build (and all of them when the models or the rules changed); trigger
with `{"full_refresh": true}` to rebuild everything.
Also the plan's tasks: agency reports → task completion, activity progress, plan results, and
the status of every expected submission with reporting rates. Runs nightly and whenever an
ingest DAG has loaded new submissions (commune reviews or agency reports). The dbt project is loaded from
its manifest (`dbt_project/target/manifest.json`, built by `make manifest`).

dbt's tests check the identities (area totals are sums of their children, rates are counts over
denominators within 0–1, flow identities, continuity between years); dbt's unit tests, which
check the models' SQL on fixed inputs, run in the project's test suite, not here. After dbt, `quality_gate`
runs the Great Expectations checkpoint on the marts for coverage (every commune present or
reported missing, every standard present; suites in `expectations/marts/`) and fails the build
with a report naming each violation; it also updates the Data Docs site.
Then `reconcile_submissions` replaces the `reconcile_*` warnings of the checked
submissions in `audit.submission_problems` (from `marts.rpt_submission_discrepancies`) and
marks them `accepted_with_warnings`; `export_review_summary` writes the review summary table
of each review year to `<landing>/_reports/review_summary/<year>.xlsx`; `write_follow_up_lists`
writes each period's overdue and rejected submissions with whom to contact (the dbt model
`restricted.rst_follow_up_list`) to `<landing>/_reports/follow_up/<period>.xlsx`.
"""

push_final_node_events_only()
push_reports_in_background()
throttle_retry_backup()

profile_config = ProfileConfig(
    profile_name="poverty_warehouse",
    target_name="airflow",
    profile_mapping=PostgresUserPasswordProfileMapping(
        conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public", "threads": dbt_threads()}
    ),
)


@dag(
    dag_id="warehouse_build",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 1 * * *", timezone="Asia/Ho_Chi_Minh"),
        assets=RAW_COMMUNE_REVIEWS | RAW_AGENCY_REPORTS,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=2)},
    tags=["poverty", "dbt", "marts"],
    doc_md=DOC,
    params={
        "full_refresh": Param(
            False, type="boolean",
            description="Rebuild every household from scratch (`dbt build --full-refresh`) "
                        "instead of only those of the reviews that changed.",
        ),
    },
)
def warehouse_build():
    @task
    def prepare_sources() -> None:
        """The raw and audit tables dbt reads must exist even before the first ingest."""
        from poverty_pipeline.warehouse.database import connect, ensure_schema

        with connect(autocommit=True) as conn:
            ensure_schema(conn)

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            install_dbt_deps=False,  # no packages: the project's generic tests are its own
            env_vars=SCHEDULED_BUILD_ENV,  # without dbt's unit tests
        ),
        profile_config=profile_config,
        # One `dbt build` with dbt's threads (the producer task); then one task per seed and model
        # and one per model's tests report what dbt did to it. A test that reads several models
        # (relationships, rollup checks) counts in the test task of each of them.
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
            # The producer's retry (a lost worker, a failed node) does not run dbt again: it
            # restores what the first try reported and is skipped; the tasks of the nodes it had
            # not reported run their node alone. Nothing to wait for, so it comes at once.
            setup_operator_args={"retry_delay": pendulum.duration(seconds=10)},
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            should_detach_multiple_parents_tests=False,
            emit_datasets=False,
        ),
        # the per-node tasks read their result once the build is done
        # (poverty_pipeline.orchestration.dbt_watcher)
        operator_args={
            "deferrable": False,
            "poke_interval": 5,
            "full_refresh": "{{ params.full_refresh }}",
        },
    )

    @task(retries=0)  # a violation in the data does not go away on retry
    def quality_gate(run_id: str | None = None) -> dict:
        """Great Expectations checkpoint on the marts (rules: expectations/marts/); fails the
        build with a readable report of every violation; updates the Data Docs site."""
        from poverty_pipeline.quality.gate import run_gate

        return run_gate(run_name=run_id).as_dict()

    @task
    def report_indicators() -> list[dict]:
        """Log the province's rates per review year and standard (the run's headline)."""
        from poverty_pipeline.reporting.summary import province_rates
        from poverty_pipeline.warehouse.database import connect

        with connect() as conn:
            return province_rates(conn)

    @task
    def reconcile_submissions() -> dict:
        """The communes' claims against the recomputation, as warnings on their submissions."""
        from poverty_pipeline.quality.reconcile import record_reconciliation
        from poverty_pipeline.warehouse.database import connect

        with connect() as conn:
            return record_reconciliation(conn).to_dict()

    @task
    def export_review_summary() -> list[str]:
        """The review summary table of every review year as an .xlsx in the landing location."""
        from poverty_pipeline.config import landing_url
        from poverty_pipeline.reporting.review_report import export_review_summaries
        from poverty_pipeline.warehouse.database import connect

        with connect() as conn:
            return export_review_summaries(conn, landing_url())

    @task
    def write_follow_up_lists() -> dict:
        """Per period, overdue and rejected submissions with whom to contact:
        <landing>/_reports/follow_up/<period>.xlsx; e-mailed if connection smtp_default exists."""
        from poverty_pipeline.config import landing_url
        from poverty_pipeline.reporting.followup import run_follow_up
        from poverty_pipeline.warehouse.database import connect

        with connect() as conn:
            return run_follow_up(conn, landing_url())

    gate = quality_gate()
    prepare_sources() >> dbt >> gate >> [report_indicators(), reconcile_submissions(),
                                         export_review_summary(), write_follow_up_lists()]
    report_after_the_build(dbt)  # after prepare_sources is wired: it stays upstream of every node


warehouse_build()
