"""The warehouse build: dbt seeds → staging → intermediate → marts, tested, via cosmos."""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    TestBehavior,
    TestIndirectSelection,
)
from cosmos.profiles import PostgresUserPasswordProfileMapping
from poverty_pipeline.assets import RAW_COMMUNE_REVIEWS
from poverty_pipeline.config import DBT_PROJECT_DIR, WAREHOUSE_CONN_ID

DOC = """
### Warehouse build

Runs the dbt project `dbt_project/` through astronomer-cosmos, one Airflow task per seed and
model with its dbt tests right after it: seeds (standards, indicators, communes) → staging →
intermediate (every household classified under every standard) → marts
(`marts.fct_poverty_indicators`, `marts.rpt_poverty_indicators_by_area`, dimensions).
Runs nightly and whenever ingest has loaded new submissions. The dbt project is loaded from
its manifest (`dbt_project/target/manifest.json`, built by `make manifest`).
"""

profile_config = ProfileConfig(
    profile_name="poverty_warehouse",
    target_name="airflow",
    profile_mapping=PostgresUserPasswordProfileMapping(
        conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public", "threads": 2}
    ),
)


@dag(
    dag_id="warehouse_build",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 1 * * *", timezone="Asia/Ho_Chi_Minh"),
        assets=RAW_COMMUNE_REVIEWS,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=2)},
    tags=["poverty", "dbt", "marts"],
    doc_md=DOC,
)
def warehouse_build():
    @task
    def prepare_sources() -> None:
        """The raw and audit tables dbt reads must exist even before the first ingest."""
        from poverty_pipeline.warehouse import connect, ensure_schema

        with connect(autocommit=True) as conn:
            ensure_schema(conn)

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
        ),
        profile_config=profile_config,
        # A model's test task runs only the tests of that model; a test that reads several
        # models (relationships, rollup checks) gets its own task after all of them.
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={"install_deps": False},
    )

    @task
    def report_indicators() -> list[dict]:
        """Log the province's rates per review year and standard (the run's headline)."""
        from poverty_pipeline.summary import province_rates
        from poverty_pipeline.warehouse import connect

        with connect() as conn:
            return province_rates(conn)

    prepare_sources() >> dbt >> report_indicators()


warehouse_build()
