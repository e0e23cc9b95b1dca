"""The build's producer stores, per dbt node, only the events its per-node tasks read: the node's
end and errors, not its start, compiling and executing (each an XCom write dbt's threads queue
on). Checked against cosmos' own event handler, so an upgrade that moves it fails here."""

from __future__ import annotations

from cosmos.operators._watcher import base as watcher_base

from poverty_pipeline.orchestration.dbt_watcher import push_final_node_events_only


class RecordingTaskInstance:
    def __init__(self) -> None:
        self.pushed: list[str] = []

    def xcom_push(self, key: str, value) -> None:
        self.pushed.append(value["status"] or value["msg"])


def event(name: str, status: str | None, msg: str | None = None) -> dict:
    return {"info": {"name": name, "msg": msg},
            "data": {"node_info": {"unique_id": "model.poverty_warehouse.m", "node_status": status}}}


def test_only_a_nodes_end_and_its_errors_are_stored(monkeypatch):
    monkeypatch.setattr(watcher_base, "_DBT_EVENT_ALLOWLIST", watcher_base._DBT_EVENT_ALLOWLIST)
    push_final_node_events_only()
    ti = RecordingTaskInstance()
    for name, status in [("NodeStart", "started"), ("NodeCompiling", "compiling"),
                         ("NodeExecuting", "executing"), ("NodeFinished", "error")]:
        watcher_base._process_dbt_log_event(ti, event(name, status))
    watcher_base._process_dbt_log_event(ti, event("RunResultError", None, "relation does not exist"))
    assert ti.pushed == ["error", "relation does not exist"]


class BackedUpTaskInstance:
    """A producer's task instance as cosmos sets it up for its retry backup."""

    def __init__(self) -> None:
        self._cosmos_xcom_backup_buffer: dict = {}
        self._cosmos_xcom_persist_incrementally = True
        self._cosmos_xcom_backup_var_key = "cosmos_xcom_backup__warehouse_build__dbt__run"

    def xcom_push(self, key: str, value) -> None:
        pass


def test_the_retry_backup_is_written_now_and_then_and_always_at_the_end(monkeypatch):
    from cosmos.operators._watcher import xcom as watcher_xcom
    from cosmos.operators._watcher.state import safe_xcom_push

    from poverty_pipeline.orchestration.dbt_watcher import throttle_retry_backup

    written: list[list[str]] = []
    monkeypatch.setattr(watcher_xcom, "_persist_backup",
                        lambda key, buffer: written.append(sorted(buffer)))
    times = iter(float(t) for t in [0, 1, 2, 6, 7, 8, 9])
    throttle_retry_backup(every=5, clock=lambda: next(times))
    ti = BackedUpTaskInstance()
    for node in "abcde":  # reported at 0, 1, 2, 6, 7 s
        safe_xcom_push(ti, f"{node}_status", "success")
    assert written == [["a_status"], ["a_status", "b_status", "c_status", "d_status"]]
    safe_xcom_push(ti, "task_status", "completed")  # the producer's end, 1 s later: written
    assert written[-1] == ["a_status", "b_status", "c_status", "d_status", "e_status", "task_status"]
    watcher_xcom._backup_xcom_to_variable({"ti": ti})  # the failure callback's flush: written
    assert len(written) == 4


def test_throttling_twice_wraps_cosmos_once(monkeypatch):
    from cosmos.operators._watcher import xcom as watcher_xcom

    from poverty_pipeline.orchestration.dbt_watcher import throttle_retry_backup

    current = watcher_xcom._persist_backup  # throttled already if the DAG was imported
    cosmos_own = getattr(current, "wrapped", current)
    monkeypatch.setattr(watcher_xcom, "_persist_backup", current)  # put back after the test
    throttle_retry_backup()
    throttle_retry_backup(every=1)
    assert watcher_xcom._persist_backup.wrapped is cosmos_own and watcher_xcom._persist_backup.every == 1
