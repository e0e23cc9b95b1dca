"""The warehouse build in cosmos' watcher mode: one ``dbt build`` (the producer task, with dbt's
own threads) and one light task per model and per model's tests that reports what dbt did to it.

Cosmos starts the per-model tasks beside the producer, to wait for its results. Here they start
after it instead: ``airflow dags test`` (``poverty run``, the tests) runs one task at a time and
would sit in the first waiting task before the producer ever started, and a worker slot held by a
waiting task is one the producer may need. Started after the producer, each task reads its node's
result at once: the grid still shows every model and test, a failed one fails the task that names
it (and, on that task's retry, dbt runs that model alone), the models downstream of it are
``upstream_failed``, and the rest succeed.

Since those tasks only read a node's final state, the producer keeps to the events that carry it
(``push_final_node_events_only``).
"""

from __future__ import annotations

from airflow.task.trigger_rule import TriggerRule
from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID
from cosmos.operators._watcher import base as watcher_base

# The dbt events whose details the producer stores for the per-node tasks' logs: a node's end
# and the errors. Cosmos 1.15 also stores its start, compiling and executing, each an XCom write
# under one lock that dbt's threads queue on (astronomer-cosmos#2777: the tasks use them only to
# log, and read them once the node has ended); at ~600 nodes that doubled dbt's run time.
FINAL_NODE_EVENTS = watcher_base._DBT_ERROR_EVENTS_TYPES | {"NodeFinished"}


def push_final_node_events_only() -> None:
    """Make the producer store only FINAL_NODE_EVENTS (in the process that runs it)."""
    watcher_base._DBT_EVENT_ALLOWLIST = FINAL_NODE_EVENTS


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
