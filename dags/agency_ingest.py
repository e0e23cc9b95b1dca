"""Agency task reports: landing location → checked → raw tables of the warehouse."""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from poverty_pipeline.assets import RAW_AGENCY_REPORTS

CONTRACT = "agency_task_report"

DOC = """
### Agency task reports (Plan 24-KH/TU): ingest

Finds files under `<POVERTY_LANDING_URL>/agencies/<period>/` (`YYYY`, `YYYY-MM` or `YYYY-Qn`)
whose content hash the warehouse has not recorded, reads them (calamine for `.xlsx`, `json`),
normalises them to the contract `agency_task_report`, validates them with the Great
Expectations suites `expectations/suites/agency_task_report.*.json` (agency codes from the
registry seed), and records one outcome per file in `audit.submissions` — accepted reports
loaded with `COPY` into `raw.agency_report_info` and `raw.agency_activities` in the same
transaction (the newest accepted report of an agency for a period supersedes the earlier),
rejected ones with one `audit.submission_problems` row per problem. One mapped task per
period. Emits the `warehouse_raw_agency_reports` asset when something was loaded.
"""


@dag(
    dag_id="agency_ingest",
    schedule=CronTriggerTimetable("0 1 * * *", timezone="Asia/Ho_Chi_Minh"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=2)},
    tags=["poverty", "ingest", "agencies"],
    doc_md=DOC,
)
def agency_ingest():
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
            files = new_files(conn, landing_url(), load_contract(CONTRACT).landing_folder)
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
            report = ingest_files(conn, landing_url(), files, run_id=run_id, contract_name=CONTRACT)
        return {"period": batch["period"], **report.as_dict()}

    @task(outlets=[RAW_AGENCY_REPORTS])
    def announce_loaded(reports: list[dict]) -> dict:
        """Emit the raw asset only when something was loaded (a skip emits no event)."""
        from airflow.exceptions import AirflowSkipException

        totals = {"files": sum(r["files"] for r in reports),
                  "loaded": sum(r["loaded"] for r in reports),
                  "activity_rows": sum(r["rows"] for r in reports)}
        if not totals["loaded"]:
            raise AirflowSkipException(f"nothing new loaded: {totals}")
        return totals

    batches = discover_new_files()
    prepare_warehouse() >> batches
    announce_loaded(ingest_batch.expand(batch=batches))


agency_ingest()
