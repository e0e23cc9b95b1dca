"""The shape every ingest DAG shares: prepare the warehouse → find new files → one mapped
task per landing period → announce the raw asset when something loaded.

The DAG files in ``dags/`` only say which contract, asset and documentation; task bodies
import the pipeline inside the task so parsing stays light.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, dag, task

NIGHTLY = CronTriggerTimetable("0 1 * * *", timezone="Asia/Ho_Chi_Minh")


def ingest_dag(dag_id: str, contract_name: str, asset: Asset, doc_md: str, tags: list[str]):
    @dag(
        dag_id=dag_id,
        schedule=NIGHTLY,
        start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=2)},
        tags=["poverty", "ingest", *tags],
        doc_md=doc_md,
    )
    def ingest():
        @task
        def prepare_warehouse() -> None:
            from poverty_pipeline.warehouse import connect, ensure_schema

            with connect(autocommit=True) as conn:
                ensure_schema(conn)

        @task
        def discover_new_files() -> list[dict]:
            """New files grouped by the period folder they landed in."""
            from poverty_pipeline.config import landing_url
            from poverty_pipeline.contract import load_contract
            from poverty_pipeline.discover import new_files
            from poverty_pipeline.warehouse import connect

            with connect() as conn:
                files = new_files(conn, landing_url(), load_contract(contract_name).landing_folder)
            batches: dict[str, list[dict]] = {}
            for f in files:
                batches.setdefault(f.period, []).append(f.as_dict())
            return [{"period": period, "files": batches[period]} for period in sorted(batches)]

        @task(map_index_template="{{ task.op_kwargs['batch']['period'] }}")
        def ingest_batch(batch: dict, run_id: str | None = None) -> dict:
            from poverty_pipeline.config import landing_url
            from poverty_pipeline.discover import LandedFile
            from poverty_pipeline.ingest import ingest_files
            from poverty_pipeline.warehouse import connect

            files = [LandedFile(**f) for f in batch["files"]]
            with connect(autocommit=True) as conn:
                report = ingest_files(conn, landing_url(), files, run_id=run_id,
                                      contract_name=contract_name)
            return {"period": batch["period"], **report.as_dict()}

        @task(outlets=[asset])
        def announce_loaded(reports: list[dict]) -> dict:
            """Emit the raw asset only when something was loaded (a skip emits no event)."""
            from airflow.exceptions import AirflowSkipException

            totals = {key: sum(r[key] for r in reports) for key in ("files", "loaded", "rows")}
            if not totals["loaded"]:
                raise AirflowSkipException(f"nothing new loaded: {totals}")
            return totals

        batches = discover_new_files()
        prepare_warehouse() >> batches
        announce_loaded(ingest_batch.expand(batch=batches))

    return ingest()
