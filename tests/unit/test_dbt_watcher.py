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


def event(name: str, status: str | None, msg: str | None = None,
          node: str = "model.poverty_warehouse.m") -> dict:
    return {"info": {"name": name, "msg": msg},
            "data": {"node_info": {"unique_id": node, "node_status": status}}}


def test_only_a_nodes_end_and_its_errors_are_stored(monkeypatch):
    from cosmos.operators._watcher.state import safe_xcom_push

    monkeypatch.setattr(watcher_base, "_DBT_EVENT_ALLOWLIST", watcher_base._DBT_EVENT_ALLOWLIST)
    monkeypatch.setattr(watcher_base, "_process_dbt_log_event", watcher_base._process_dbt_log_event)
    # stored at once, as cosmos does (importing the DAG makes a background thread store them)
    monkeypatch.setattr(watcher_base, "safe_xcom_push", safe_xcom_push)
    push_final_node_events_only()
    ti = RecordingTaskInstance()
    for name, status in [("NodeStart", "started"), ("NodeCompiling", "compiling"),
                         ("NodeExecuting", "executing"), ("NodeFinished", "error")]:
        watcher_base._process_dbt_log_event(ti, event(name, status))
    watcher_base._process_dbt_log_event(ti, event("RunResultError", None, "relation does not exist"))
    assert ti.pushed == ["error", "relation does not exist"]


def test_a_data_tests_own_events_are_not_stored_its_models_are(monkeypatch):
    """A model's test task logs the model's event and reads its tests' aggregated status (stored
    apart, by cosmos' aggregation): a test's own events are read by no task."""
    from cosmos.operators._watcher.state import safe_xcom_push

    monkeypatch.setattr(watcher_base, "_DBT_EVENT_ALLOWLIST", watcher_base._DBT_EVENT_ALLOWLIST)
    monkeypatch.setattr(watcher_base, "_process_dbt_log_event", watcher_base._process_dbt_log_event)
    monkeypatch.setattr(watcher_base, "safe_xcom_push", safe_xcom_push)
    push_final_node_events_only()
    push_final_node_events_only()  # twice: cosmos' handler is wrapped once
    assert not hasattr(watcher_base._process_dbt_log_event.wrapped, "wrapped")
    ti = RecordingTaskInstance()
    test = "test.poverty_warehouse.not_null_columns_m.1a2b3c"
    watcher_base._process_dbt_log_event(ti, event("NodeFinished", "fail", node=test))
    watcher_base._process_dbt_log_event(ti, event("RunResultError", None, "1 row failed", node=test))
    watcher_base._process_dbt_log_event(ti, event("NodeFinished", "success", node="seed.poverty_warehouse.s"))
    watcher_base._process_dbt_log_event(ti, event("NodeFinished", "success"))
    assert ti.pushed == ["success", "success"]


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


def test_reports_are_stored_in_order_without_waiting_and_before_the_producers_end(monkeypatch):
    """dbt's threads hand a report over and go on; the reports are stored in the order given,
    and the producer's end (``task_status``) only after all of them."""
    import threading

    from cosmos.operators import watcher as watcher_operators
    from cosmos.operators._watcher import aggregation as watcher_aggregation

    from poverty_pipeline.orchestration.dbt_watcher import push_reports_in_background

    for module in (watcher_base, watcher_aggregation, watcher_operators):
        monkeypatch.setattr(module, "safe_xcom_push", module.safe_xcom_push)
    stored: list[str] = []
    storing = threading.Event()

    class SlowTaskInstance:
        def xcom_push(self, key: str, value) -> None:
            storing.wait(timeout=10)
            stored.append(key)

    push_reports_in_background()
    ti = SlowTaskInstance()
    for node in ("a", "b"):
        watcher_base._process_dbt_log_event(ti, event("NodeFinished", "success",
                                                      node=f"model.poverty_warehouse.{node}"))
    assert stored == []  # handed over while the store still waits
    storing.set()
    watcher_operators.safe_xcom_push(task_instance=ti, key="task_status", value="completed")
    assert stored == ["model__poverty_warehouse__a_dbt_event", "model__poverty_warehouse__b_dbt_event",
                      "task_status"]


def test_a_report_that_could_not_be_stored_fails_the_producer_at_its_end():
    import pytest

    from poverty_pipeline.orchestration.dbt_watcher import BackgroundPusher

    stored: list[str] = []

    def push(task_instance, key, value):
        if key == "b":
            raise ConnectionError("the API server went away")
        stored.append(key)

    pusher = BackgroundPusher(push)
    for key in "abc":
        pusher.put(None, key, None)
    with pytest.raises(ConnectionError):
        pusher.flush()
    assert stored == ["a", "c"]
    pusher.flush()  # the error is raised once
