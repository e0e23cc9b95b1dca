"""Airflow: the assets and the ingest DAGs' shape, partitions of the landing calendar, the dbt
build's per-node tasks, and running the DAGs on this machine (``runner``)."""
