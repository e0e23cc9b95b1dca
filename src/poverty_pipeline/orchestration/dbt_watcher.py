"""The warehouse build in cosmos' watcher mode: one ``dbt build`` (the producer task, with dbt's
own threads) and one light task per model and per model's tests that reports what dbt did to it.

Cosmos starts the per-model tasks beside the producer, to wait for its results. Here they start
after it instead: ``airflow dags test`` (``poverty run``, the tests) runs one task at a time and
would sit in the first waiting task before the producer ever started, and a worker slot held by a
waiting task is one the producer may need. Started after the producer, each task reads its node's
result at once: the grid still shows every model and test, a failed one fails the task that names
it (and, on that task's retry, dbt runs that model alone), the models downstream of it are
``upstream_failed``, and the rest succeed.

Since those tasks only read a node's final state, the producer keeps to the events that carry it,
and to those of the nodes a task is named after (``push_final_node_events_only``), stores them
from a thread of its own so that dbt's threads do not wait on each store
(``push_reports_in_background``), and writes the backup its retry restores from at most every
few seconds (``throttle_retry_backup``).
"""

from __future__ import annotations

import math
import queue
import threading
import time

from airflow.task.trigger_rule import TriggerRule
from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID
from cosmos.operators import watcher as watcher_operators
from cosmos.operators._watcher import aggregation as watcher_aggregation
from cosmos.operators._watcher import base as watcher_base
from cosmos.operators._watcher import xcom as watcher_xcom

# The dbt events whose details the producer stores for the per-node tasks' logs: a node's end
# and the errors. Cosmos 1.15 also stores its start, compiling and executing, each an XCom write
# under one lock that dbt's threads queue on (astronomer-cosmos#2777: the tasks use them only to
# log, and read them once the node has ended); at ~600 nodes that doubled dbt's run time.
FINAL_NODE_EVENTS = watcher_base._DBT_ERROR_EVENTS_TYPES | {"NodeFinished"}


def push_final_node_events_only() -> None:
    """Make the producer store only FINAL_NODE_EVENTS, and none of a data test's (in the process
    that runs it). A model's test task reports its tests through the model's aggregated test
    status and logs the model's event: a test's own event is read by no task, and the tests are
    four in five of the build's nodes."""
    watcher_base._DBT_EVENT_ALLOWLIST = FINAL_NODE_EVENTS
    cosmos_own = getattr(watcher_base._process_dbt_log_event, "wrapped", watcher_base._process_dbt_log_event)

    def store_unless_a_test(task_instance, dbt_log: dict) -> None:
        node = (dbt_log.get("data") or {}).get("node_info") or {}
        if str(node.get("unique_id") or "").startswith("test."):
            return None
        return cosmos_own(task_instance, dbt_log)

    store_unless_a_test.wrapped = cosmos_own
    watcher_base._process_dbt_log_event = store_unless_a_test


class BackgroundPusher:
    """Stores XComs in the order given, from one thread of its own: ``put`` returns at once.
    ``flush`` waits until everything put has been stored, then raises the first error a store
    met, if any."""

    def __init__(self, push):
        self.push = push
        self.queue: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, task_instance, key: str, value) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="xcom-pusher", daemon=True)
                self._thread.start()
        self.queue.put((task_instance, key, value))

    def _run(self) -> None:
        while True:
            task_instance, key, value = self.queue.get()
            try:
                self.push(task_instance=task_instance, key=key, value=value)
            except Exception as exc:  # noqa: BLE001 - raised by flush, in the producer's thread
                self.error = self.error or exc
            finally:
                self.queue.task_done()

    def flush(self) -> None:
        self.queue.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def push_reports_in_background() -> BackgroundPusher:
    """Make the producer store what dbt's threads report (each node's status, event, compiled
    SQL, its tests' summary) from a thread of its own (in the process that runs it), and store
    its own end (``task_status``) only after all of it.

    Each store is an XCom write under one lock (cosmos' ``safe_xcom_push``) that dbt's threads
    queued on after every node: dbt's run took 1.34 × its time alone in the producer. The
    per-node tasks read the reports after the producer has ended, so nothing reads them sooner.
    A store that fails fails the producer when it ends, as before."""
    store = watcher_base.safe_xcom_push
    pusher = BackgroundPusher(getattr(store, "original", store))

    def store_in_order(task_instance, key: str, value) -> None:
        pusher.put(task_instance, key, value)

    def store_after_the_reports(task_instance, key: str, value) -> None:
        try:
            pusher.flush()
        finally:
            pusher.push(task_instance=task_instance, key=key, value=value)

    store_in_order.original = store_after_the_reports.original = pusher.push
    watcher_base.safe_xcom_push = watcher_aggregation.safe_xcom_push = store_in_order
    watcher_operators.safe_xcom_push = store_after_the_reports
    return pusher


# How stale the producer's retry backup may be when its worker is lost: the nodes reported in
# that last stretch are not restored, and their tasks run their node alone.
BACKUP_EVERY_S = 5.0


def throttle_retry_backup(every: float = BACKUP_EVERY_S, clock=time.monotonic) -> None:
    """Make the producer write its retry backup at most every ``every`` seconds (in the process
    that runs it), and always once it has ended.

    With ``[cosmos] enable_watcher_reliable_retry`` (on by default) cosmos writes every report
    stored so far, compressed, to an Airflow Variable at each report, under the lock dbt's
    threads queue on: quadratic in the nodes, and the build's threads ran one after another
    (1.07 × overlap, 1.29 × with the backup off). The end is always written: the producer
    stores ``task_status`` when it ends, either way, and its failure callback flushes again.
    """
    persist = watcher_xcom._persist_backup
    if getattr(persist, "every", None) is not None:
        persist = persist.wrapped
    written: dict[str, float] = {}

    def persist_now_and_then(var_key: str, backup_buffer: dict) -> None:
        now = clock()
        if "task_status" in backup_buffer or now - written.get(var_key, -math.inf) >= every:
            written[var_key] = now
            persist(var_key, backup_buffer)

    persist_now_and_then.every, persist_now_and_then.wrapped = every, persist
    watcher_xcom._persist_backup = persist_now_and_then


def report_after_the_build(group) -> None:
    """Put the producer upstream of every per-node task that had no upstream in ``group``. Those
    run once the producer has succeeded or, after a failed try, been skipped by its retry (which
    restores the first try's reports: a failed build still reports every node), but not when
    the group's own upstream failed. Call it after the group's upstream is wired."""
    producer = group.get_child_by_label(PRODUCER_WATCHER_TASK_ID)
    cosmos_own = {group.child_id(PRODUCER_WATCHER_TASK_ID), group.child_id(PRODUCER_WATCHER_DONE_TASK_ID)}
    for task in list(group.roots):
        if task.task_id not in cosmos_own:
            producer >> task
            task.trigger_rule = TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS
