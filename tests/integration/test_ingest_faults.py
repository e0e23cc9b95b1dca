"""Every fault is one file's outcome, through the real ingest against PostgreSQL: a file that
vanishes after discovery, a symbolic link, hidden and temporary files, copies of the same bytes
in two period folders, a feedback report that cannot be written, names of a megabyte — each
ends as that file's recorded outcome (or a logged reason), and the rest of the batch loads.
(The faults a file's bytes carry are in the corpus, tests/corpus/expected.yml.)"""

from __future__ import annotations

import json
import logging
import os
import shutil

import pytest
from support.builders import household, json_bytes, land, submission

from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import content_hash, new_files
from poverty_pipeline.ingest.problems import MAX_NAME_CHARS, MAX_VALUE_CHARS
from poverty_pipeline.warehouse.database import connect, ensure_schema

SECRET = "Bí Mật Ngoài Landing"


def run(url: str, landing, folder: str = "communes", contract: str = "commune_household_review"):
    with connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), folder)
        return ingest_files(conn, landing.as_uri(), files, run_id="faults", contract_name=contract)


def statuses(report) -> dict[str, str]:
    return {o.path: o.status for o in report.outcomes}


def rows(url: str, sql: str, params=()) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def problems(url: str, path: str) -> list[tuple]:
    return rows(url, """select p.severity, p.rule, p.value from audit.submission_problems p
                          join audit.submissions s using (submission_id)
                         where s.path = %s order by p.problem_id""", (path,))


@pytest.fixture
def messages(caplog):
    caplog.set_level(logging.INFO, logger="poverty_pipeline")
    return lambda: "\n".join(r.getMessage() for r in caplog.records)


def test_a_file_removed_after_discovery_is_its_own_outcome_and_is_taken_when_it_lands_again(
        warehouse, landing):
    gone = json_bytes(submission(ma_xa="28249"))
    land(landing, "gone.json", gone)
    land(landing, "stays.json", json_bytes(submission(ma_xa="28252")))
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), "communes")
        (landing / "communes" / "2021" / "gone.json").unlink()
        report = ingest_files(conn, landing.as_uri(), files, run_id="vanish")
    assert statuses(report) == {"communes/2021/gone.json": "rejected", "communes/2021/stays.json": "accepted"}
    assert problems(warehouse, "communes/2021/gone.json") == [
        ("error", "file_vanished", "communes/2021/gone.json")]
    # recorded under an identity of its own: the same bytes are not blocked
    (recorded,) = rows(warehouse, "select submission_id from audit.submissions where path = %s",
                       ("communes/2021/gone.json",))
    assert recorded[0] != content_hash(gone)

    land(landing, "gone.json", gone)
    assert statuses(run(warehouse, landing)) == {"communes/2021/gone.json": "accepted"}


def test_a_symbolic_link_is_rejected_and_never_followed(warehouse, landing, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_bytes(json_bytes(submission(ma_xa="28252", nguoi_lap=SECRET)))
    folder = landing / "communes" / "2021"
    folder.mkdir(parents=True)
    os.symlink(outside / "secret.json", folder / "link.json")
    os.symlink(outside, folder / "linked_folder")
    land(landing, "good.json", json_bytes(submission(ma_xa="28249")))

    assert statuses(run(warehouse, landing)) == {
        "communes/2021/good.json": "accepted",
        "communes/2021/link.json": "rejected",
        "communes/2021/linked_folder": "rejected",
    }
    assert [r[1] for r in problems(warehouse, "communes/2021/link.json")] == ["symbolic_link"]
    recorded = json.dumps(rows(warehouse, "select * from audit.submission_problems"), default=str)
    recorded += json.dumps(rows(warehouse, "select * from raw.commune_submission_info"), default=str)
    reports = "".join(p.read_text("utf-8") for p in (landing / "_feedback").rglob("*.feedback.*"))
    assert SECRET not in recorded + reports and "28252" not in reports
    assert run(warehouse, landing).outcomes == []  # a link is recorded by its path: once


def test_hidden_temporary_and_underscore_files_get_a_row_or_a_logged_reason(warehouse, landing, messages):
    land(landing, "_draft.json", json_bytes(submission(ma_xa="28252")))
    land(landing, ".DS_Store", b"\x00\x00\x00\x01Bud1")
    land(landing, "~$28249_2021.xlsx", b"\x0bTran Thi Binh" + bytes(150))
    land(landing, ".git/HEAD", b"ref: refs/heads/main\n")
    os.mkfifo(landing / "communes" / "2021" / "pipe.json")  # reading it would wait forever

    assert statuses(run(warehouse, landing)) == {"communes/2021/_draft.json": "accepted"}
    log = messages()
    assert ("skipped communes/2021/.DS_Store: a hidden file (its name starts with '.'), "
            "not a submission") in log
    assert "skipped communes/2021/~$28249_2021.xlsx: an Excel lock file (~$)" in log
    assert "skipped communes/2021/.git/: a hidden folder, not read" in log
    assert "skipped communes/2021/pipe.json: not a regular file" in log


def test_copies_of_the_same_bytes_are_recorded_in_the_folder_of_their_own_period(warehouse, landing,
                                                                                  messages):
    data = json_bytes(submission(ma_xa="28252", year=2023))
    land(landing, "ds.json", data, year=2022)
    land(landing, "ds.json", data, year=2023)
    assert statuses(run(warehouse, landing)) == {"communes/2023/ds.json": "accepted"}
    assert ("communes/2022/ds.json: the same bytes as communes/2023/ds.json, recorded there: "
            "the folder of the file's own period 2023") in messages()

    land(landing, "copy again.json", data, year=2021)  # later: logged, not taken again
    assert run(warehouse, landing).outcomes == []
    assert ("communes/2021/copy again.json: the same bytes as communes/2023/ds.json, "
            "recorded already") in messages()


def test_a_feedback_report_that_cannot_be_written_is_that_files_internal_error(warehouse, landing, messages):
    stuck = json_bytes(submission(ma_xa="28249"))
    land(landing, "stuck.json", stuck, year=2021)
    land(landing, "fine.json", json_bytes(submission(ma_xa="28252", year=2022)), year=2022)
    obstacle = landing / "_feedback" / "communes" / "2021"  # a file where its folder must go
    obstacle.parent.mkdir(parents=True)
    obstacle.write_text("not a folder")

    assert statuses(run(warehouse, landing)) == {"communes/2021/stuck.json": "rejected",
                                                 "communes/2022/fine.json": "accepted"}
    assert [r[1] for r in problems(warehouse, "communes/2021/stuck.json")] == ["internal_error"]
    assert "internal error recording communes/2021/stuck.json: " in messages()
    assert rows(warehouse, "select count(*) from raw.commune_households h join audit.submissions s "
                           "using (submission_id) where s.path = 'communes/2021/stuck.json'") == [(0,)]

    obstacle.unlink()  # the operators fix it: the next run takes the same bytes in
    assert statuses(run(warehouse, landing)) == {"communes/2021/stuck.json": "accepted"}
    assert rows(warehouse, "select status from audit.submissions where submission_id = %s",
                (content_hash(stuck),)) == [("accepted",)]


def test_names_of_a_megabyte_are_bounded_wherever_they_are_stored_or_echoed(warehouse, landing):
    sheet, column = "S" * 2**20, "C" * 2**20
    doc = submission(ma_xa="28249", households=[household("HO001", **{column: "x"}), household("HO002")])
    doc[sheet] = [{"a": 1}]
    land(landing, "names.json", json_bytes(doc))
    assert statuses(run(warehouse, landing)) == {"communes/2021/names.json": "accepted_with_warnings"}
    stored = rows(warehouse, "select sheet, column_name, value, message_vi, message_en "
                             "from audit.submission_problems")
    assert len(stored) == 2
    for texts in stored:
        assert all(len(t or "") <= MAX_VALUE_CHARS + 400 for t in texts)
    assert {len(s or "") for s, *_ in stored} <= {len("danh_sach_ho"), MAX_NAME_CHARS + 1}
    (extra,) = rows(warehouse, "select extra_columns from raw.commune_households where row_number = 1")
    assert all(len(key) < 2 * MAX_NAME_CHARS for key in extra[0])
    report = next((landing / "_feedback").rglob("names.json.feedback.json"))
    assert report.stat().st_size < 20_000


def test_a_file_in_a_communes_folder_may_report_only_for_that_commune(warehouse, landing):
    land(landing, "28261/own.json", json_bytes(submission(ma_xa="28261")))
    land(landing, "28261/other.json", json_bytes(submission(ma_xa="28252")))
    land(landing, "huyen Cai Be/28264.json", json_bytes(submission(ma_xa="28264")))  # operator's order
    assert statuses(run(warehouse, landing)) == {
        "communes/2021/28261/own.json": "accepted",
        "communes/2021/28261/other.json": "rejected",
        "communes/2021/huyen Cai Be/28264.json": "accepted",
    }
    (message,) = rows(warehouse, "select p.message_en from audit.submission_problems p "
                                 "join audit.submissions s using (submission_id) "
                                 "where s.path = 'communes/2021/28261/other.json'")
    assert "commune 28261's folder" in message[0] and "'28252'" in message[0]
    assert rows(warehouse, "select path, submitter_code from audit.submissions order by path") == [
        ("communes/2021/28261/other.json", "28261"), ("communes/2021/28261/own.json", "28261"),
        ("communes/2021/huyen Cai Be/28264.json", "28264")]


def test_submitter_folders_can_be_required(warehouse, landing, monkeypatch):
    monkeypatch.setenv("POVERTY_REQUIRE_SUBMITTER_FOLDERS", "1")
    land(landing, "28261/own.json", json_bytes(submission(ma_xa="28261")))
    land(landing, "loose.json", json_bytes(submission(ma_xa="28252")))
    land(landing, "huyen Cai Be/28264.json", json_bytes(submission(ma_xa="28264")))
    assert statuses(run(warehouse, landing)) == {
        "communes/2021/28261/own.json": "accepted",
        "communes/2021/loose.json": "rejected",
        "communes/2021/huyen Cai Be/28264.json": "rejected",
    }
    assert problems(warehouse, "communes/2021/loose.json") == [
        ("error", "submitter_folder_required", "communes/2021/loose.json")]


def test_an_agencys_folder_takes_only_its_own_reports(warehouse, landing):
    from support.builders import agency_report as report
    from test_agency_ingest import land as land_report

    from poverty_pipeline.samples.agencies import to_json_bytes

    land_report(landing, "STC/own.json", to_json_bytes(report("STC")))
    land_report(landing, "STC/other.json", to_json_bytes(report("SYT")))
    outcome = statuses(run(warehouse, landing, "agencies", "agency_task_report"))
    assert outcome == {"agencies/2024-Q1/STC/own.json": "accepted",
                       "agencies/2024-Q1/STC/other.json": "rejected"}
    assert [r[1] for r in problems(warehouse, "agencies/2024-Q1/STC/other.json")] == [
        "submitter_matches_folder"]


def test_a_household_prefixed_by_a_commune_not_merged_into_the_submitter_is_rejected(warehouse, landing):
    # 28252-HO00001 listed by 28261 would be household HO00001 of 28252: a duplicate key
    land(landing, "28261.json", json_bytes(submission(ma_xa="28261", households=[
        household("28252-HO00001"), household("HO00002")])))
    land(landing, "28252.json", json_bytes(submission(ma_xa="28252", households=[household("HO00001")])))
    # 28531 merged into 28519 on 1 Nov 2024: 28519 keeps 28531's households under their key
    land(landing, "28519.json", json_bytes(submission(ma_xa="28519", year=2024, households=[
        household("28531-HO00012"), household("HO00001")])), year=2024)
    # 28540, closed on 1 Jul 2025, still reports for 2025; 28546 went into the same unit (28564)
    # in 2024, so 28540 speaks for territory of its own unit
    land(landing, "28540.json", json_bytes(submission(ma_xa="28540", year=2025, ngay_lap="2025-12-05",
                                                      households=[household("28546-HO00003")])), year=2025)
    # 28252 went into another unit: not 28540's to list
    land(landing, "28540_other.json", json_bytes(submission(ma_xa="28540", year=2025, ngay_lap="2025-12-06",
                                                            households=[household("28252-HO00003")])),
         year=2025)
    found = statuses(run(warehouse, landing))
    assert found.pop("communes/2025/28540.json") in {"accepted", "accepted_with_warnings", "superseded"}
    assert found == {
        "communes/2021/28261.json": "rejected", "communes/2021/28252.json": "accepted",
        "communes/2024/28519.json": "accepted", "communes/2025/28540_other.json": "rejected"}
    messages = [m for (m,) in rows(warehouse, "select message_en from audit.submission_problems "
                                              "where rule = 'household_prefix' order by message_en")]
    assert len(messages) == 2
    assert "'28252-HO00001'" in messages[0] and "commune 28261" in messages[0]
    assert "'28252-HO00003'" in messages[1] and "commune 28540" in messages[1]


def test_a_review_year_after_the_current_year_is_rejected(warehouse, landing):
    import datetime as dt

    year = dt.date.today().year + 1
    land(landing, "next_year.json", json_bytes(submission(ma_xa="28249", year=year, ngay_lap="2021-12-05")),
         year=year)
    assert statuses(run(warehouse, landing)) == {f"communes/{year}/next_year.json": "rejected"}
    assert problems(warehouse, f"communes/{year}/next_year.json") == [
        ("error", "review_year_range", str(year))]


def test_files_removed_with_their_folder_are_each_their_own_outcome(warehouse, landing):
    """A whole period folder removed between discovery and reading: each file its own outcome."""
    land(landing, "a.json", json_bytes(submission(ma_xa="28249")), year=2022)
    land(landing, "b.json", json_bytes(submission(ma_xa="28252")), year=2022)
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), "communes")
        shutil.rmtree(landing / "communes" / "2022")
        report = ingest_files(conn, landing.as_uri(), files, run_id="gone")
    assert set(statuses(report).values()) == {"rejected"}
    assert rows(warehouse, "select distinct rule from audit.submission_problems") == [("file_vanished",)]
