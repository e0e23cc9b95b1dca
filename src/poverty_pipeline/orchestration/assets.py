"""Assets shared by the DAGs: what ingest produces and build consumes."""

from airflow.sdk import Asset

RAW_COMMUNE_REVIEWS = Asset(
    name="warehouse_raw_commune_reviews",
    uri="x-poverty-warehouse://raw/commune_reviews",
    group="poverty_warehouse",
)

RAW_AGENCY_REPORTS = Asset(
    name="warehouse_raw_agency_reports",
    uri="x-poverty-warehouse://raw/agency_reports",
    group="poverty_warehouse",
)
