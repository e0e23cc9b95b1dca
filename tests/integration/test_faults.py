"""Nothing lost, nothing twice — against a real PostgreSQL, real processes and dbt:

- running the ingest again for the same landing leaves raw, audit and every marts table
  identical (md5 of every table's rows, after a dbt build each time);
- an ingest process killed with SIGKILL in the middle of a COPY leaves no partial submission,
  and the next run completes the batch;
- with the warehouse down the task fails with a clear message, Airflow is set to retry it, and
  nothing is marked as loaded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.databases import create_database, drop_database
from support.pipeline_helpers import build_marts, ingest, schema_checksums, small_landing

from poverty_pipeline.warehouse.database import WarehouseUnavailable, connect, ensure_schema

COMMUNES = ["28249", "28252", "28360"]
YEARS = (2021, 2022)


@pytest.fixture(scope="module")
def database():
    name, url = create_database("poverty_faults")
    yield url
    drop_database(name)


def test_running_again_changes_nothing(database, tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    small_landing(landing, years=YEARS, communes=COMMUNES)
    target = tmp_path_factory.mktemp("dbt")

    first = ingest(database, landing, run_id="run_1")
    assert first.loaded == len(COMMUNES) * len(YEARS)
    build_marts(database, target)
    before = schema_checksums(database, ("raw", "audit", "marts"))

    second = ingest(database, landing, run_id="run_2")
    assert second.outcomes == []  # every file is already recorded under its content hash
    build_marts(database, target)
    after = schema_checksums(database, ("raw", "audit", "marts"))

    assert {k for k in before if k.startswith("marts.")} >= {
        "marts.fct_poverty_indicators", "marts.rpt_poverty_indicators_by_area", "marts.rpt_review_summary"}
    assert all(not v.startswith("0:") for k, v in before.items()
               if k in ("raw.commune_households", "marts.fct_poverty_indicators"))
    assert after == before


# --- killed in the middle of a COPY --------------------------------------------------------

LOCK_KEY = 640_021  # the test holds this advisory lock; the COPY waits on it half-way
INGEST = """
import sys
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.warehouse.database import connect
url, landing = sys.argv[1], sys.argv[2]
with connect(url, autocommit=True) as conn:
    ingest_files(conn, landing, new_files(conn, landing, "communes"), run_id="killed")
"""


def pause_copy_at_row(conn, row_number: int) -> None:
    """A trigger that makes the household COPY wait, with the rows before ``row_number`` already
    written inside its transaction, until the test releases the advisory lock."""
    conn.execute(f"""
        create function raw.pause_copy() returns trigger language plpgsql as $$
        begin
            if new.row_number = {row_number} then
                perform pg_advisory_lock({LOCK_KEY});
                perform pg_advisory_unlock({LOCK_KEY});
            end if;
            return new;
        end $$;
        create trigger pause_copy before insert on raw.commune_households
            for each row execute function raw.pause_copy();
    """)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_mid_copy_leaves_nothing_partial_and_the_next_run_completes(tmp_path):
    name, url = create_database("poverty_kill")
    try:
        landing = tmp_path / "landing"
        small_landing(landing, years=(2021,), communes=COMMUNES[:2])
        with connect(url, autocommit=True) as admin:
            ensure_schema(admin)
            pause_copy_at_row(admin, row_number=50)
            admin.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
            proc = subprocess.Popen([sys.executable, "-c", INGEST, url, landing.as_uri()],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                backend = wait_for(lambda: admin.execute(
                    "select pid from pg_stat_activity where wait_event_type = 'Lock' "
                    "and query ilike 'copy raw.commune_households%%'").fetchone(), 120, "the COPY to wait")
                os.kill(proc.pid, signal.SIGKILL)
                assert proc.wait(30) == -signal.SIGKILL
            finally:
                if proc.poll() is None:
                    proc.kill()
            admin.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
            # the server notices the dead client, rolls back and ends its backend
            wait_for(lambda: not admin.execute("select 1 from pg_stat_activity where pid = %s",
                                               backend).fetchone(), 60, "the killed session to end")
            partial = admin.execute("""
                select s.path, s.household_rows, count(h.submission_id)
                  from audit.submissions s
                  left join raw.commune_households h using (submission_id)
                 group by 1, 2 having count(h.submission_id) <> s.household_rows""").fetchall()
            recorded = admin.execute("select count(*) from audit.submissions").fetchone()[0]
            orphans = admin.execute(
                "select count(*) from raw.commune_households h where not exists "
                "(select 1 from audit.submissions s where s.submission_id = h.submission_id)").fetchone()[0]
            assert (partial, orphans) == ([], 0)
            assert recorded < 2  # the file being copied is not recorded, nor told it was
            assert len(list(landing.rglob("*.feedback.html"))) == recorded

        report = ingest(url, landing, run_id="after_kill")
        assert report.loaded == 2 - recorded
        with connect(url) as conn:
            rows = conn.execute("""
                select s.status, s.household_rows, count(h.submission_id), s.feedback_url is not null
                  from audit.submissions s join raw.commune_households h using (submission_id)
                 group by s.submission_id order by s.path""").fetchall()
        assert len(rows) == 2
        assert all(status == "accepted" and stated == loaded and feedback
                   for status, stated, loaded, feedback in rows)
    finally:
        drop_database(name)


# --- the warehouse is down ------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_warehouse_down_fails_clearly_and_marks_nothing(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    small_landing(landing, years=(2021,), communes=COMMUNES[:1])
    down = f"postgresql://poverty:{os.urandom(4).hex()}@127.0.0.1:{closed_port()}/poverty"
    monkeypatch.setenv("POVERTY_WAREHOUSE_URL", down)
    with pytest.raises(WarehouseUnavailable) as failure:
        ingest(down, landing, run_id="down")
    message = str(failure.value)
    assert "warehouse is unavailable" in message and "Airflow retries" in message
    assert f"127.0.0.1:{down.rsplit(':', 1)[1].split('/')[0]}" in message
    assert down.split(":")[2].split("@")[0] not in message  # never the password
    assert not (landing / "_feedback").exists()

    # Airflow retries every ingest and build task
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    for dag_id in ("commune_ingest", "agency_ingest", "warehouse_build"):
        dag = bag.dags[dag_id]
        for task_id in ("prepare_warehouse", "discover_new_files", "ingest_batch", "prepare_sources"):
            if task_id in dag.task_ids:
                assert dag.get_task(task_id).retries >= 1, f"{dag_id}.{task_id}"

    # when it is back, the same files load
    report = ingest(warehouse, landing, run_id="back")
    assert [o.status for o in report.outcomes] == ["accepted"]
