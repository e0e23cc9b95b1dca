"""Feedback to each submitter, through a real ingest into PostgreSQL: one HTML report (and its
JSON twin) per file under <landing>/_feedback/, recorded in audit.submissions.feedback_url,
listing exactly the file's problem rows with how to fix them, escaped, values as submitted in
text cells, columns and the submitter in words, errors first, and naming no other submitter;
the suites' results in the Data Docs site without the failing values."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from support.builders import household, json_bytes, land, submission, xlsx_bytes

from poverty_pipeline.ingest import locations
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.warehouse.database import connect, ensure_schema

SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://evil.example","bấm vào đây")'
CITIZEN_ID_BAD = "08212345"  # too short: a citizen_id problem whose value must stay out of Data Docs

FILES = {
    "good.xlsx": xlsx_bytes(submission(ma_xa="28249")),
    "other commune Phường 4.json": json_bytes(submission(ma_xa="28252", households=[
        household("HO101", ho_ten_chu_ho="Lê Thị Riêng"), household("HO102"),
    ])),
    "bad.json": json_bytes(submission(ma_xa="28261", households=[
        household("HO201", thu_nhap_binh_quan=SCRIPT),
        household("HO202", so_nhan_khau=FORMULA),
        household("HO203", so_dinh_danh_chu_ho=CITIZEN_ID_BAD),
    ])),
}


@pytest.fixture
def ingested(warehouse, landing, tmp_path, monkeypatch):
    monkeypatch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path / "docs"))
    for name, data in FILES.items():
        land(landing, name, data)
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), "communes")
        ingest_files(conn, landing.as_uri(), files, run_id="feedback_test")
        rows = conn.execute(
            "select submission_id, path, status, feedback_url from audit.submissions order by path"
        ).fetchall()
        problems = conn.execute(
            "select s.path, p.severity, p.sheet, p.row_number, p.column_name, p.value, p.rule "
            "from audit.submission_problems p join audit.submissions s using (submission_id) "
            "order by p.problem_id"
        ).fetchall()
    return {"landing": landing, "rows": rows, "problems": problems, "docs": tmp_path / "docs"}


def feedback_files(landing: Path, path: str) -> tuple[str, dict]:
    base = landing / "_feedback" / path
    html = base.with_name(base.name + ".feedback.html").read_text("utf-8")
    data = json.loads(base.with_name(base.name + ".feedback.json").read_text("utf-8"))
    return html, data


def test_every_submission_has_its_report_where_audit_says(ingested):
    landing = ingested["landing"]
    assert [(r[1], r[2]) for r in ingested["rows"]] == [
        ("communes/2021/bad.json", "rejected"),
        ("communes/2021/good.xlsx", "accepted"),
        ("communes/2021/other commune Phường 4.json", "accepted"),
    ]
    for submission_id, path, status, url in ingested["rows"]:
        # percent-encoded (a name with # ? % or spaces round-trips), decoding back to the report
        report_path = landing / "_feedback" / f"{path}.feedback.html"
        assert url == report_path.as_uri() and locations.parse(url).local_path() == report_path
        assert report_path.read_text(encoding="utf-8").startswith("<!doctype html>")
        html, data = feedback_files(landing, path)
        assert data["status"] == status and data["submission_id"] == submission_id
        assert status in ("accepted", "rejected")
        assert ("Bị từ chối" in html) == (status == "rejected")
        assert "Đã tiếp nhận" in html if status == "accepted" else "Rejected" in html


def test_report_lists_exactly_the_files_problem_rows_with_a_fix(ingested):
    _, data = feedback_files(ingested["landing"], "communes/2021/bad.json")
    listed = [(p["severity"], p["sheet"], p["row"], p["column"], p["value"], p["rule"])
              for p in data["problems"]]
    recorded = [tuple(p[1:]) for p in ingested["problems"] if p[0] == "communes/2021/bad.json"]
    assert listed == recorded
    assert {p["rule"] for p in data["problems"]} >= {"not_number", "not_integer", "citizen_id"}
    for p in data["problems"]:
        assert p["message_vi"] and p["message_en"] and p["fix_vi"] and p["fix_en"]
    assert data["errors"] == len([p for p in data["problems"] if p["severity"] == "error"]) > 0


def test_html_is_escaped_and_shows_values_as_submitted_in_text_cells(ingested):
    html, data = feedback_files(ingested["landing"], "communes/2021/bad.json")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    formula_values = [p["value"] for p in data["problems"] if p["value"] and p["value"].startswith("=")]
    assert formula_values, "the formula value is reported as submitted in the JSON"
    # each value is shown as submitted (escaped, no apostrophe added), in a cell a spreadsheet
    # program opening the page reads as text, never as a formula
    values = re.findall(r'<td class="value" style="mso-number-format:\'\\@\'">([^<]*)</td>', html)
    shown = [v for v in (p["value"] for p in data["problems"]) if v is not None]
    assert len(values) == len(data["problems"]) and set(shown) <= {unescape(v) for v in values}
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;bấm vào đây&#34;)" in html
    assert not any(v.startswith(("&#39;", "'")) for v in values)  # no apostrophe added


def test_html_names_columns_and_the_submitter_in_words_errors_first(ingested):
    html, data = feedback_files(ingested["landing"], "communes/2021/bad.json")
    assert data["submitter_code"] == "28261" and data["submitter_name"] == "Phường 1"
    assert "Phường 1 <small>(28261)</small>" in html
    # a column is named by the contract's label, its code in small text below
    columns = re.findall(r"<td>([^<]+)<br><small[^>]*>([a-z_]+)</small>", html)
    assert ("Số nhân khẩu", "so_nhan_khau") in columns and ("Thu nhập bình quân", "thu_nhap_binh_quan") \
        in [(label.split(" (")[0], code) for label, code in columns]
    severities = re.findall(r'<tr class="(error|warning)">', html)
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert severities.count("error") == data["errors"] and severities.count("warning") == data["warnings"]


def test_errors_come_before_warnings_whatever_order_they_were_found_in():
    from poverty_pipeline.ingest.feedback import render_html

    problem = {"sheet": "tong_hop", "row": 3, "column": "tong_so_ho", "value": "-1", "rule": "r",
               "message_vi": "m", "message_en": "m", "fix_vi": "f", "fix_en": "f"}
    data = {"file": "a.json", "path": "communes/2024/a.json", "submission_id": "s",
            "submitter_code": None, "submitter_name": None, "period": None, "status": "rejected",
            "status_vi": "Bị từ chối", "status_en": "Rejected", "rows_loaded": 12345, "errors": 1,
            "warnings": 2, "written_at": "2024-12-31T17:30:00+00:00",
            "problems": [{**problem, "severity": "warning", "row": 1},
                         {**problem, "severity": "error", "row": 2},
                         {**problem, "severity": "warning", "row": 3}]}
    html = render_html(data)
    assert re.findall(r'<tr class="(\w+)">', html) == ["error", "warning", "warning"]
    assert re.findall(r'<td class="number">(\d+)</td>', html) == ["2", "1", "3"]
    assert "Tổng số hộ dân cư<br><small" in html and ">-1</td>" in html and "'-1" not in html
    assert ">12.345</td>" in html and "01/01/2025 00:30" in html  # Vietnamese number, local time
    assert "chưa xác định / not known" in html


def test_a_report_names_no_other_submitter(ingested):
    landing = ingested["landing"]
    others = {"communes/2021/bad.json": ["28249", "28252", "Lê Thị Riêng", "HO101", "Phường 4"],
              "communes/2021/good.xlsx": ["28252", "28261", "Lê Thị Riêng", "HO201", SCRIPT]}
    for path, foreign in others.items():
        html, data = feedback_files(landing, path)
        text = html + json.dumps(data, ensure_ascii=False)
        for item in foreign:
            assert item not in text, f"{path} mentions {item!r}"


def test_data_docs_show_the_submission_suites_without_values(ingested):
    docs = ingested["docs"]
    index = (docs / "index.html").read_text("utf-8")
    assert "commune_household_review.danh_sach_ho" in index
    pages = [p.read_text("utf-8", errors="replace") for p in docs.rglob("*.html")]
    assert len(pages) > 1
    for page in pages:
        assert CITIZEN_ID_BAD not in page and "Nguyễn Văn An" not in page


def test_every_rule_tells_the_submitter_how_to_fix_it():
    """Each rule of rules.yml and of the suites has its own fix in contracts/fixes.yml."""
    from poverty_pipeline.config import EXPECTATIONS_DIR
    from poverty_pipeline.ingest.feedback import fixes
    from poverty_pipeline.ingest.problems import _catalogue

    rules = set(_catalogue())
    for suite in (EXPECTATIONS_DIR / "suites").glob("*.json"):
        rules |= {e["meta"]["rule"] for e in json.loads(suite.read_text("utf-8"))["expectations"]}
    assert sorted(rules - set(fixes())) == []
    assert all(fix["vi"] and fix["en"] for fix in fixes().values())


def test_report_names_are_bounded_by_construction_and_stay_distinct():
    from poverty_pipeline.ingest.feedback import PATH_BYTES, feedback_key

    long_a, long_b = "a" * 251 + ".json", "a" * 250 + "b.json"  # 256 bytes would not land; these do
    keys = {feedback_key(f"communes/2021/{name}", ".feedback.html") for name in (long_a, long_b, "x.json")}
    assert len(keys) == 3
    assert all(len(part.encode()) <= 255 for key in keys for part in key.split("/"))
    deep = "communes/2021/" + "/".join(["thư mục rất dài " * 10] * 12) + "/x.json"
    key = feedback_key(deep, ".feedback.json")
    assert len(key.encode()) <= PATH_BYTES and key.startswith("_feedback/communes/2021/")
    assert (feedback_key("communes/2021/x.json", ".feedback.html")
            == "_feedback/communes/2021/x.json.feedback.html")
