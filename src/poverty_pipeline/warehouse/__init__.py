"""The PostgreSQL warehouse: connections, the embedded server for local use, the raw and audit
tables (``sql/warehouse.sql``) and the keyed hash that stands for a household (``pii``)."""
