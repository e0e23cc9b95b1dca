"""Airflow DAGs agency_ingest and agency_ingest_by_month: agency task reports from the landing
location, checked, into the raw tables — nightly, and per month of the reporting calendar for
backfills.

The file holds only what differs between ingest DAGs; the shape is poverty_pipeline.orchestration.ingest_dag.
"""

from poverty_pipeline.orchestration.assets import RAW_AGENCY_REPORTS
from poverty_pipeline.orchestration.ingest_dag import ingest_dag

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
rejected ones with one `audit.submission_problems` row per problem. Consecutive periods share
a mapped task until it holds `POVERTY_INGEST_TASK_FILES` files (default 100), named by its first
and last period; a period is never split. Emits the `warehouse_raw_agency_reports` asset when
something was loaded.
"""

DOC_BY_MONTH = """
### Agency task reports: ingest one month of the reporting calendar (backfills)

The same ingest as `agency_ingest`, for one month per run: the run's **partition key is the
month** (`YYYY-MM`) and the run takes the periods that close in it — `agencies/YYYY-MM/`, the
quarter's folder `YYYY-Qn` when the month ends a quarter, and the year's `YYYY` in December.
Files already recorded (by content hash) are not loaded again.

Re-process a range with Airflow's backfill (see docs/backfills.md; the DAG is active from its
first parse, and backfill runs of a paused DAG wait):

    airflow backfill create --dag-id agency_ingest_by_month \\
        --from-date 2024-07-01 --to-date 2024-09-30 --max-active-runs 2

creates the runs 2024-07, 2024-08 and 2024-09 (periods 2024-07, 2024-08, 2024-09, 2024-Q3).
The scheduled run of a month comes on the 1st of the next. The asset event of a run carries
its month as partition key: the build picks the loaded rows up at its nightly run.
"""

agency_ingest = ingest_dag("agency_ingest", CONTRACT, RAW_AGENCY_REPORTS, DOC, tags=["agencies"])
agency_ingest_by_month = ingest_dag("agency_ingest_by_month", CONTRACT, RAW_AGENCY_REPORTS,
                                    DOC_BY_MONTH, tags=["agencies"], partitioned=True)
