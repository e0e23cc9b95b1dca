"""Airflow DAGs commune_ingest and commune_ingest_by_year: commune submissions from the landing
location, checked, into the raw tables — nightly, and per review year for backfills.

The file holds only what differs between ingest DAGs; the shape is poverty_pipeline.orchestration.ingest_dag.
"""

from poverty_pipeline.orchestration.assets import RAW_COMMUNE_REVIEWS
from poverty_pipeline.orchestration.ingest_dag import ingest_dag

CONTRACT = "commune_household_review"

DOC = """
### Commune household reviews: ingest

Finds files under `<POVERTY_LANDING_URL>/communes/<review_year>/` whose content hash the
warehouse has not recorded, reads them (calamine for `.xlsx`, `json`), normalises them to the
contract `commune_household_review`, validates them with the Great Expectations suites in
`expectations/suites/`, and records one outcome per file in `audit.submissions` — accepted files
loaded with `COPY` into `raw.*` in the same transaction (the newest accepted submission of a
commune for a review supersedes the earlier), rejected files with one
`audit.submission_problems` row per problem. One mapped task per review year (late files of
several years share one until it holds `POVERTY_INGEST_TASK_FILES`, default 100). Emits the
`warehouse_raw_commune_reviews` asset when something was loaded, which triggers the build.
"""

DOC_BY_YEAR = """
### Commune household reviews: ingest one review year (backfills)

The same ingest as `commune_ingest`, for one review year per run: the run's **partition key is
the review year** and the run takes only `communes/<year>/`. Files already recorded (by content
hash) are not loaded again, so re-running a year loads only what is new in it.

Re-process years with Airflow's backfill (see docs/backfills.md; the DAG is active from its
first parse, and backfill runs of a paused DAG wait):

    airflow backfill create --dag-id commune_ingest_by_year \\
        --from-date 2021-01-01 --to-date 2023-12-31 --max-active-runs 2

creates one run per year whose 1 January lies in the range. The scheduled run of a year comes
on 1 January after it. The asset event of a run carries its year as partition key: the build
picks the loaded rows up at its nightly run (or trigger `warehouse_build`).
"""

commune_ingest = ingest_dag("commune_ingest", CONTRACT, RAW_COMMUNE_REVIEWS, DOC, tags=["communes"])
commune_ingest_by_year = ingest_dag("commune_ingest_by_year", CONTRACT, RAW_COMMUNE_REVIEWS,
                                    DOC_BY_YEAR, tags=["communes"], partitioned=True)
