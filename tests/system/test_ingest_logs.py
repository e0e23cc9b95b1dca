"""No personal data in the ingest's logs, through Airflow: names and citizen IDs planted in
submissions — accepted ones, and rejected ones whose problems quote them (a mistyped citizen ID,
a name with a control character, a preparer named twice, a name too long), and a file whose
recording fails inside the pipeline — go through ``airflow dags test commune_ingest``; every log
file of the run (the task logs under AIRFLOW_HOME, the captured output) is scanned for them.
The problem rows do quote them (restricted audit schema): the test would see a leak."""

from __future__ import annotations

import json

import pytest
from support.builders import household, json_bytes, land, submission, xlsx_bytes
from support.databases import create_database, drop_database

from poverty_pipeline.orchestration import runner
from poverty_pipeline.warehouse.database import connect

pytestmark = pytest.mark.airflow

# Each planted value carries an ASCII token, so an escaped form (\u1ea1) cannot hide it.
NAMES = ["Phạm Thị Zyxhead", "Võ Văn Zyxpreparer", "Đặng Zyxlong " + "Hữu " * 300, "Lê Zyx\x01control"]
IDS = ["082987650001", "0829876"]  # a valid one (accepted) and a mistyped one (rejected, quoted)
TOKENS = ["Zyxhead", "Zyxpreparer", "Zyxlong", "Zyx\\x01", "Zyx\x01", "Zyxtwice", "082987650001", "0829876"]


def planted_landing(landing) -> None:
    land(landing, "accepted.xlsx", xlsx_bytes(submission(ma_xa="28249", nguoi_lap=NAMES[1], households=[
        household("HO001", ho_ten_chu_ho=NAMES[0], so_dinh_danh_chu_ho=IDS[0]), household("HO002")])))
    land(landing, "mistyped id.json", json_bytes(submission(ma_xa="28252", households=[
        household("HO001", so_dinh_danh_chu_ho=IDS[1], ho_ten_chu_ho=NAMES[0])])))
    land(landing, "control.json", json_bytes(submission(ma_xa="28261", households=[
        household("HO001", ho_ten_chu_ho=NAMES[3])])))
    land(landing, "long name.json", json_bytes(submission(ma_xa="28264", nguoi_lap=NAMES[2])))
    twice = json_bytes(submission(ma_xa="28270")).decode().replace(
        '"nguoi_lap": "Trần Thị Bình",', '"nguoi_lap": "Trần Thị Bình", "nguoi_lap": "Bùi Zyxtwice",', 1)
    land(landing, "twice.json", twice.encode())
    # its report cannot be written (a file where its folder must go): an internal error
    stuck = submission(ma_xa="28273", year=2022, nguoi_lap=NAMES[1])
    land(landing, "stuck.json", json_bytes(stuck), year=2022)
    obstacle = landing / "_feedback" / "communes" / "2022"
    obstacle.parent.mkdir(parents=True)
    obstacle.write_text("not a folder")


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    name, url = create_database("poverty_logs")
    landing = tmp_path_factory.mktemp("landing")
    planted_landing(landing)
    home, logs = tmp_path_factory.mktemp("airflow"), tmp_path_factory.mktemp("logs")
    env = runner.airflow_env(url, landing.as_uri(), home=home)
    env["POVERTY_DATA_DOCS_DIR"] = str(tmp_path_factory.mktemp("data_docs"))
    runner.migrate(env)
    echoed: list[str] = []
    runner.dags_test("commune_ingest", env, log_dir=logs, echo=echoed.append)
    yield {"url": url, "home": home, "logs": logs, "echoed": echoed}
    drop_database(name)


def test_the_planted_values_reach_the_problem_rows(logged_run):
    with connect(logged_run["url"]) as conn:
        rows = dict(conn.execute("select path, status from audit.submissions").fetchall())
        quoted = " ".join(v for (v,) in conn.execute("select value from audit.submission_problems "
                                                     "where value is not null").fetchall())
    assert rows == {
        "communes/2021/accepted.xlsx": "accepted",
        "communes/2021/mistyped id.json": "rejected",
        "communes/2021/control.json": "rejected",
        "communes/2021/long name.json": "rejected",
        "communes/2021/twice.json": "rejected",
        "communes/2022/stuck.json": "rejected",
    }
    assert IDS[1] in quoted and "Zyx\\x01control" in quoted and "Zyxtwice" in quoted


def test_no_log_of_the_run_carries_a_name_or_citizen_id(logged_run):
    files = [p for root in (logged_run["home"] / "logs", logged_run["logs"]) for p in root.rglob("*")
             if p.is_file()]
    texts = {str(p): p.read_text("utf-8", errors="replace") for p in files}
    texts["echoed"] = "\n".join(logged_run["echoed"])
    assert any("rejected communes/2021/mistyped id.json" in t for t in texts.values())  # the logs were read
    assert any("internal error recording communes/2022/stuck.json" in t for t in texts.values())
    leaks = [(where, token) for where, text in texts.items() for token in TOKENS
             if token in text or json.dumps(token)[1:-1] in text]
    assert not leaks, leaks
