"""Airflow DAG commune_ingest: commune submissions from the landing location, checked, into the raw tables.

The file holds only what differs between ingest DAGs; the shape is poverty_pipeline.ingest_dag.
"""

from poverty_pipeline.assets import RAW_COMMUNE_REVIEWS
from poverty_pipeline.ingest_dag import ingest_dag

DOC = """
### Commune household reviews: ingest

Finds files under `<POVERTY_LANDING_URL>/communes/<review_year>/` whose content hash the
warehouse has not recorded, reads them (calamine for `.xlsx`, `json`), normalises them to the
contract `commune_household_review`, validates them with the Great Expectations suites in
`expectations/suites/`, and records one outcome per file in `audit.submissions` — accepted files
loaded with `COPY` into `raw.*` in the same transaction (the newest accepted submission of a
commune for a review supersedes the earlier), rejected files with one
`audit.submission_problems` row per problem. One mapped task per review year. Emits the
`warehouse_raw_commune_reviews` asset when something was loaded, which triggers the build.
"""

commune_ingest = ingest_dag("commune_ingest", "commune_household_review", RAW_COMMUNE_REVIEWS, DOC,
                            tags=["communes"])
