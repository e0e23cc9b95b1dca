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
