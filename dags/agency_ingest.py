"""Airflow DAG agency_ingest: agency task reports from the landing location, checked, into the raw tables.

The file holds only what differs between ingest DAGs; the shape is poverty_pipeline.ingest_dag.
"""

from poverty_pipeline.assets import RAW_AGENCY_REPORTS
from poverty_pipeline.ingest_dag import ingest_dag

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

agency_ingest = ingest_dag("agency_ingest", "agency_task_report", RAW_AGENCY_REPORTS, DOC, tags=["agencies"])
