"""Assets shared by the DAGs: what ingest produces and build consumes."""

from airflow.sdk import Asset

RAW_COMMUNE_REVIEWS = Asset(
    name="warehouse_raw_commune_reviews",
    uri="x-poverty-warehouse://raw/commune_reviews",
    group="poverty_warehouse",
)
