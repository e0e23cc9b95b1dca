"""The shape every ingest DAG shares: prepare the warehouse → find new files → mapped tasks
over the landing periods → announce the raw asset when something loaded.

Each contract has two ingest DAGs of this shape:

- ``<name>_ingest`` runs nightly and takes every new file of every period, consecutive periods
  sharing a mapped task until it holds ``POVERTY_INGEST_TASK_FILES`` files
  (``poverty_pipeline.orchestration.batching``);
- ``<name>_ingest_by_<grain>`` is partitioned (``CronPartitionTimetable``): a run's partition
  key names a review year or a month of the reporting calendar, and the run takes only the
  period folders that close in it (``poverty_pipeline.orchestration.partitions``). Airflow's backfill
  (``airflow backfill create``, ``POST /api/v2/backfills``, the UI) creates one run per
  partition of its date range; its scheduled run comes when a partition has closed.

Both are idempotent: a file whose content hash the warehouse has recorded is not loaded again.

The DAG files in ``dags/`` only say which contract, asset and documentation; task bodies
import the pipeline inside the task so parsing stays light.
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import Asset, CronPartitionTimetable, CronTriggerTimetable, dag, task

from poverty_pipeline.orchestration.partitions import PARTITIONING

TIMEZONE = "Asia/Ho_Chi_Minh"
NIGHTLY = CronTriggerTimetable("0 1 * * *", timezone=TIMEZONE)
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
DEFAULT_ARGS = {"retries": 2, "retry_delay": pendulum.duration(minutes=2)}

log = logging.getLogger(__name__)


def partition_timetable(contract_name: str) -> CronPartitionTimetable:
    """One tick at the start of each partition; the scheduled run for a partition comes at
    the next tick (``run_offset=-1``), when it has closed. Backfills take the partitions whose
    first day lies in their range, whatever the offset."""
    p = PARTITIONING[contract_name]
    return CronPartitionTimetable(p.cron, timezone=TIMEZONE, key_format=p.key_format, run_offset=-1)


def ingest_dag(dag_id: str, contract_name: str, asset: Asset, doc_md: str, tags: list[str],
               partitioned: bool = False):
    """The nightly ingest DAG of a contract, or (``partitioned``) its DAG per partition."""

    @dag(
        dag_id=dag_id,
        schedule=partition_timetable(contract_name) if partitioned else NIGHTLY,
        start_date=START,
        catchup=False,
        # scheduled and manual runs; a backfill has its own bound (--max-active-runs)
        max_active_runs=2 if partitioned else 1,
        # backfill runs of a paused DAG wait; a partitioned DAG's own runs only re-read
        # closed periods, so it is active from its first parse
        is_paused_upon_creation=False if partitioned else None,
        default_args=DEFAULT_ARGS,
        tags=["poverty", "ingest", *(["backfill"] if partitioned else []), *tags],
        doc_md=doc_md,
    )
    def ingest():
        @task
        def prepare_warehouse() -> None:
            from poverty_pipeline.warehouse.database import connect, ensure_schema

            with connect(autocommit=True) as conn:
                ensure_schema(conn)

        @task
        def discover_new_files(dag_run=None) -> list[dict]:
            """New files grouped by the period folder they landed in: of every period (nightly,
            consecutive periods joined into batches of a task's worth of files), or of the
            periods closing in the run's partition — then every such period gets a batch of its
            own, empty when all its files are recorded, so the run shows what it covered."""
            from poverty_pipeline.config import ingest_task_files, landing_url
            from poverty_pipeline.ingest.discover import landing_root, new_files
            from poverty_pipeline.orchestration.batching import group_periods
            from poverty_pipeline.reference.contract import load_contract
            from poverty_pipeline.warehouse.database import connect

            contract = load_contract(contract_name)
            if partitioned:
                folders = _partition_folders(contract, dag_run.partition_key)
            else:
                folders = [contract.landing_folder]
            # partitioned: every period folder of the partition, even with nothing new
            batches: dict[str, list[dict]] = {_name(f): [] for f in folders} if partitioned else {}
            seen: dict[str, dict] = {}
            with connect() as conn:
                for folder in folders:
                    for f in new_files(conn, landing_url(), folder):
                        if f.submission_id in seen:  # same content in two folders: one file, a copy
                            first = seen[f.submission_id]
                            first["copies"] = [*first["copies"], f.path, *f.copies]
                            continue
                        seen[f.submission_id] = f.as_dict()
                        batches.setdefault(f.period, []).append(seen[f.submission_id])
            if partitioned:
                root = landing_root(landing_url())
                for folder in folders:
                    total = sum(1 for p in (root / folder).iterdir() if p.is_file())
                    log.info("%s: %d files, %d not yet recorded", folder, total,
                             len(batches[_name(folder)]))
            by_period = [{"period": p, "periods": [p], "files": batches[p]} for p in sorted(batches)]
            return by_period if partitioned else group_periods(by_period, ingest_task_files())

        @task(map_index_template="{{ task.op_kwargs['batch']['period'] }}")
        def ingest_batch(batch: dict, run_id: str | None = None) -> dict:
            from poverty_pipeline.config import landing_url
            from poverty_pipeline.ingest.batch import BatchReport, ingest_files
            from poverty_pipeline.ingest.discover import LandedFile
            from poverty_pipeline.warehouse.database import connect

            files = [LandedFile(**f) for f in batch["files"]]
            if files:
                with connect(autocommit=True) as conn:
                    report = ingest_files(conn, landing_url(), files, run_id=run_id,
                                          contract_name=contract_name)
            else:
                report = BatchReport()
            result = {"period": batch["period"], "periods": batch["periods"], **report.as_dict()}
            log.info("period %s: %d new files, %d loaded, %d rows", result["period"], result["files"],
                     result["loaded"], result["rows"])
            return result

        @task(outlets=[asset])
        def announce_loaded(reports: list[dict], dag_run=None) -> dict:
            """Emit the raw asset only when something was loaded (a skip emits no event)."""
            from airflow.sdk.exceptions import AirflowSkipException

            # by index: iterating the lazy XCom sequence probes past its end (an error log line)
            reports = [reports[i] for i in range(len(reports))]
            totals = {key: sum(r[key] for r in reports) for key in ("files", "loaded", "rows")}
            totals["periods"] = sorted(p for r in reports for p in r["periods"])
            if partitioned:
                totals["partition"] = dag_run.partition_key
            if not totals["loaded"]:
                raise AirflowSkipException(f"nothing new loaded: {totals}")
            return totals

        batches = discover_new_files()
        prepare_warehouse() >> batches
        announce_loaded(ingest_batch.expand(batch=batches))

    return ingest()


def _partition_folders(contract, partition_key: str | None) -> list[str]:
    """The landing folders of the periods closing in the partition ``partition_key``."""
    from airflow.sdk.exceptions import AirflowFailException

    from poverty_pipeline.config import landing_url
    from poverty_pipeline.ingest.discover import landing_root
    from poverty_pipeline.orchestration.partitions import period_folders

    p = PARTITIONING[contract.name]
    if not partition_key:
        raise AirflowFailException(
            f"this DAG takes one {p.grain} of {contract.landing_folder}/ per run: trigger it with a "
            f"partition key (e.g. {pendulum.datetime(2023, 12, 1).strftime(p.key_format)}) "
            "or create a backfill (airflow backfill create --dag-id … --from-date … --to-date …)"
        )
    periods = p.periods_of(partition_key)
    folders = period_folders(landing_root(landing_url()), contract.landing_folder,
                             contract.period_pattern, periods)
    log.info("partition %s: periods %s; folders %s", partition_key, periods, folders or "none landed")
    return folders


def _name(folder: str) -> str:
    """``agencies/2023-Q3`` → ``2023-Q3``: the period as ``LandedFile.period`` gives it."""
    return folder.rsplit("/", 1)[-1]
