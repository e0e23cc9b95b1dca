"""Tiền Giang poverty-reduction monitoring pipeline, by role:

- ``config`` — settings from the environment;
- ``reference/`` — what every stage shares: the submission contracts, administrative units,
  the agency registry, words for codes;
- ``ingest/`` — a landed file read, normalised, validated and loaded, with its feedback report;
- ``warehouse/`` — connections, the raw and audit tables, the household key;
- ``quality/`` — the quality gate on the marts and the reconciliation warnings;
- ``reporting/`` — the workbooks and summaries written after a build;
- ``orchestration/`` — what the Airflow DAGs share, and running them locally;
- ``ui/`` — the pages in the Airflow UI; ``samples/`` — synthetic submissions;
- ``cli/`` — the ``poverty`` command.
"""
