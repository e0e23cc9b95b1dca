"""What the tests share: throw-away databases, submission builders, the pipeline run in-process,
and local Airflow stacks (LocalExecutor and CeleryExecutor)."""
