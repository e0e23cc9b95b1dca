"""Versions of one review against a real PostgreSQL: recorded one at a time under a lock on the
review — two versions committed at the same moment leave one accepted — and ordered by the date
each file says it was prepared (ngay_lap), arrival breaking a tie, so an older version arriving
later is kept as superseded history with a warning and never replaces the correction."""

from __future__ import annotations

import subprocess
import sys
import time

from support.builders import household, json_bytes, land, submission

from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import content_hash, new_files
from poverty_pipeline.warehouse.database import connect, ensure_schema

LOCK_KEY = 640_111  # held by the test; each version's COPY waits on it half-way
INGEST_ONE = """
import sys
from pathlib import Path
from poverty_pipeline.ingest.discover import LandedFile, content_hash
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.warehouse.database import connect
url, landing, path = sys.argv[1:4]
data = (Path(landing) / path).read_bytes()
with connect(url, autocommit=True) as conn:
    report = ingest_files(conn, Path(landing).as_uri(), [LandedFile(path, content_hash(data), len(data))],
                          run_id=path)
print(report.outcomes[0].status)
"""


def run(url: str, landing, folder: str = "communes", contract: str = "commune_household_review"):
    with connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        report = ingest_files(conn, landing.as_uri(), new_files(conn, landing.as_uri(), folder),
                              run_id="versions", contract_name=contract)
    return {o.path: o.status for o in report.outcomes}


def submissions(url: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute("select path, status, superseded_by, reported_on::text, warning_count "
                            "from audit.submissions order by path").fetchall()


def test_two_versions_of_one_review_committed_at_the_same_moment_leave_one_accepted(warehouse, landing):
    first = json_bytes(submission(ma_xa="28249"))
    second = json_bytes(submission(ma_xa="28249", households=[household("HO001"), household("HO002")]))
    land(landing, "first.json", first)
    land(landing, "second.json", second)
    with connect(warehouse, autocommit=True) as admin:
        ensure_schema(admin)
        admin.execute(f"""
            create function raw.pause_copy() returns trigger language plpgsql as $$
            begin
                perform pg_advisory_lock({LOCK_KEY});
                perform pg_advisory_unlock({LOCK_KEY});
                return new;
            end $$;
            create trigger pause_copy before insert on raw.commune_households
                for each row execute function raw.pause_copy();
        """)
        admin.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        procs = [subprocess.Popen([sys.executable, "-c", INGEST_ONE, warehouse, str(landing),
                                   f"communes/2021/{name}"], stdout=subprocess.PIPE, text=True)
                 for name in ("first.json", "second.json")]
        try:
            # both versions are inside their recording transactions: one in its COPY, waiting
            # on the test; the other waiting on the lock of the review (or, without that lock,
            # in its COPY too)
            deadline = time.monotonic() + 180
            while admin.execute("select count(*) from pg_stat_activity where wait_event = 'advisory' "
                                "and datname = current_database()").fetchone()[0] < 2:
                assert time.monotonic() < deadline, "the two versions did not meet"
                assert all(p.poll() is None for p in procs)
                time.sleep(0.2)
            time.sleep(1)
        finally:
            admin.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
        # each was accepted when it was recorded; the later one superseded the first
        outcomes = [p.communicate(timeout=300)[0].strip().splitlines()[-1] for p in procs]
    assert outcomes == ["accepted", "accepted"]
    rows = submissions(warehouse)
    assert sorted(r[1] for r in rows) == ["accepted", "superseded"]
    (current,) = [r for r in rows if r[1] == "accepted"]
    (earlier,) = [r for r in rows if r[1] == "superseded"]
    assert earlier[2] == content_hash(second if current[0].endswith("second.json") else first)


def test_an_older_version_arriving_later_is_kept_as_superseded_with_a_warning(warehouse, landing):
    correction = submission(ma_xa="28249", ngay_lap="2021-12-10", households=[household("HO001")])
    draft = submission(ma_xa="28249", ngay_lap="2021-12-05")
    land(landing, "correction.json", json_bytes(correction))
    assert run(warehouse, landing) == {"communes/2021/correction.json": "accepted"}
    land(landing, "draft sent again.json", json_bytes(draft))
    assert run(warehouse, landing) == {"communes/2021/draft sent again.json": "superseded"}
    assert submissions(warehouse) == [
        ("communes/2021/correction.json", "accepted", None, "2021-12-10", 0),
        ("communes/2021/draft sent again.json", "superseded", content_hash(json_bytes(correction)),
         "2021-12-05", 1),
    ]
    with connect(warehouse) as conn:
        (problem,) = conn.execute(
            "select severity, rule, value, message_en from audit.submission_problems").fetchall()
        loaded = conn.execute("select count(*) from raw.commune_households").fetchone()[0]
    assert problem[:3] == ("warning", "older_version", "05/12/2021") and "10/12/2021" in problem[3]
    assert loaded == 1 + 3  # the draft is loaded, as history

    newest = submission(ma_xa="28249", ngay_lap="2021-12-20", households=[household("HO009")])
    land(landing, "newest.json", json_bytes(newest))
    assert run(warehouse, landing) == {"communes/2021/newest.json": "accepted"}
    assert [r[:3] for r in submissions(warehouse)] == [
        ("communes/2021/correction.json", "superseded", content_hash(json_bytes(newest))),
        ("communes/2021/draft sent again.json", "superseded", content_hash(json_bytes(correction))),
        ("communes/2021/newest.json", "accepted", None),
    ]


def test_an_agencys_older_report_arriving_later_is_superseded_by_its_report_date(warehouse, landing):
    from support.builders import agency_report as report
    from test_agency_ingest import land as land_report

    from poverty_pipeline.samples.agencies import to_json_bytes

    land_report(landing, "v2.json", to_json_bytes(report(ngay_lap="2024-04-10")))
    agencies = ("agencies", "agency_task_report")
    assert run(warehouse, landing, *agencies) == {"agencies/2024-Q1/v2.json": "accepted"}
    land_report(landing, "v1.json", to_json_bytes(report(ngay_lap="2024-04-05")))
    assert run(warehouse, landing, *agencies) == {"agencies/2024-Q1/v1.json": "superseded"}
