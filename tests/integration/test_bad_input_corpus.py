"""The bad-input corpus against the real ingest and a real PostgreSQL, then dbt.

Every file of tests/corpus/files/ (built by tests/corpus/build_corpus.py), a file of over 100 MB
made here, and good sample submissions land in ONE landing location; one ingest run per contract
takes them all. Each corpus file must get exactly the outcome tests/corpus/expected.yml gives it
(status, every problem row, and where given the values loaded and its audit columns), and its
feedback report, while the good files of the same run load whole. Then dbt builds the marts,
with every data test, over what was accepted: nothing a file can send fails the province build.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import time
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from support.databases import create_database, drop_database
from support.pipeline_helpers import dbt

from poverty_pipeline.ingest import locations
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.cell_safety import neutralise
from poverty_pipeline.ingest.discover import LandedFile, fetch, landing_root, new_files
from poverty_pipeline.ingest.read import MAX_FILE_BYTES
from poverty_pipeline.samples import agencies as agency_samples
from poverty_pipeline.samples.generate import build_submissions, render
from poverty_pipeline.warehouse.database import connect, ensure_schema

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yml").read_text("utf-8"))["cases"]
HUGE = "communes/2021/ho so quet (ban goc).xlsx"
HUGE_SIZE = 2 * 1024**3  # sparse: instant to make, slow to read were it read
CONTRACTS = (("communes", "commune_household_review"), ("agencies", "agency_task_report"))


def landed_path(case: dict) -> str:
    folder = "agencies/2024-Q1" if case["file"].startswith("agency") else "communes/2021"
    path = case.get("land_as") or f"{folder}/{case['file']}"
    return unicodedata.normalize("NFD", path) if case.get("land_as_nfd") else path


def land(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def land_huge(root: Path) -> None:
    """An .xlsx of 2 GiB, almost all a hole in the file: only its first bytes are written."""
    path = root / HUGE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(b"PK\x03\x04" + os.urandom(4096))
        f.truncate(HUGE_SIZE)


def good_files() -> dict[str, tuple[str, int]]:
    """Sample submissions (full-size communes, one agency's reports): path → (bytes, rows)."""
    files = {}
    for sub in build_submissions(years=[2021], seed=2021, communes=["28405", "28408"]):
        files[sub.relative_path] = (render(sub), len(sub.parts["danh_sach_ho"]))
    reports, _ = agency_samples.build_reports(years=[2023], agencies=["UBMTTQ"])
    for report in [r for r in reports if r.variant == "ok"][:2]:
        files[report.relative_path] = (agency_samples.render(report), len(report.parts["hoat_dong"]))
    return files


def plain(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def expected_value(path: str, value: object) -> object:
    return path if value == "{path}" else value


def value_matches(expected: object, actual: str | None) -> bool:
    if isinstance(expected, dict):  # a long value, quoted shortened
        return (actual is not None and actual.startswith(expected["startswith"])
                and len(actual) == expected["length"])
    return expected == actual


def run_corpus(warehouse: str, landing: Path):
    for case in EXPECTED:
        land(landing, landed_path(case), (CORPUS / "files" / case["file"]).read_bytes())
    goods = good_files()
    for rel, (data, _) in goods.items():
        land(landing, rel, data)
    land_huge(landing)

    statuses: dict[str, str] = {}
    started = time.monotonic()
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)
        for folder, contract in CONTRACTS:
            files = new_files(conn, landing.as_uri(), folder)
            report = ingest_files(conn, landing.as_uri(), files, run_id="corpus", contract_name=contract)
            statuses.update({o.path: o.status for o in report.outcomes})
    return warehouse, landing, statuses, goods, time.monotonic() - started


def problem_rows(conn, path: str) -> list[tuple]:
    return conn.execute(
        """select p.severity, p.sheet, p.row_number, p.column_name, p.rule, p.value
             from audit.submission_problems p join audit.submissions s using (submission_id)
            where s.path = %s order by p.problem_id""",
        (path,),
    ).fetchall()


def audit_values(conn, path: str, columns: list[str]) -> dict:
    row = conn.execute(
        f"select {', '.join(columns)} from audit.submissions where path = %s", (path,)).fetchone()
    return {column: plain(value) for column, value in zip(columns, row, strict=True)}


def raw_values(conn, path: str, target: str) -> list:
    table, column = target.split(".")
    keyed = "row_number" in [r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s",
        (table,)).fetchall()]
    rows = conn.execute(
        f"select r.{column} from raw.{table} r join audit.submissions s using (submission_id) "
        f"where s.path = %s {'order by r.row_number' if keyed else ''}",
        (path,),
    ).fetchall()
    return [plain(r[0]) for r in rows]


def test_corpus_has_every_case_of_the_issue():
    assert len(EXPECTED) >= 40
    assert sorted(p.name for p in (CORPUS / "files").iterdir()) == sorted(c["file"] for c in EXPECTED)
    assert {c["status"] for c in EXPECTED} == {"accepted", "accepted_with_warnings", "rejected"}


def check_outcomes(url: str, statuses: dict[str, str], goods: dict) -> None:
    """Every corpus file's status, problem rows and loaded values; the good files loaded whole."""
    mismatches = []
    with connect(url) as conn:
        for case in EXPECTED:
            path = landed_path(case)
            if statuses.get(path) != case["status"]:
                mismatches.append(f"{case['file']}: status {statuses.get(path)}, expected {case['status']}")
            actual = problem_rows(conn, path)
            wanted = [(*p[:5], expected_value(path, p[5])) for p in case["problems"]]
            unmatched = list(actual)
            for want in wanted:
                hit = next((a for a in unmatched
                            if a[:5] == tuple(want[:5]) and value_matches(want[5], a[5])), None)
                if hit is None:
                    mismatches.append(f"{case['file']}: missing problem {want}")
                else:
                    unmatched.remove(hit)
            mismatches += [f"{case['file']}: unexpected problem {a}" for a in unmatched]
            for target, values in (case.get("raw") or {}).items():
                loaded = raw_values(conn, path, target)
                if loaded != values:
                    mismatches.append(f"{case['file']}: raw {target} = {loaded}, expected {values}")
            if audit := case.get("audit"):
                recorded = audit_values(conn, path, list(audit))
                if recorded != audit:
                    mismatches.append(f"{case['file']}: audit {recorded}, expected {audit}")

        for rel, (_, rows) in goods.items():
            assert statuses[rel] in ("accepted", "accepted_with_warnings"), rel
            table = "commune_households" if rel.startswith("communes") else "agency_activities"
            assert len(raw_values(conn, rel, f"{table}.row_number")) == rows, rel
    assert not mismatches, "\n".join(mismatches)


def check_records(url: str, statuses: dict[str, str], goods: dict) -> None:
    """One audit row per landed file; nothing of a rejected file in raw."""
    landed = {landed_path(c) for c in EXPECTED} | set(goods) | {HUGE}
    with connect(url) as conn:
        recorded = Counter(r[0] for r in conn.execute("select path from audit.submissions").fetchall())
        rejected_rows = conn.execute(
            """select count(*) from audit.submissions s
                where s.status = 'rejected'
                  and (exists (select from raw.commune_households h where h.submission_id = s.submission_id)
                       or exists (select from raw.agency_activities a where a.submission_id = s.submission_id)
                       or exists (select from raw.commune_submission_info i
                                   where i.submission_id = s.submission_id))"""
        ).fetchone()[0]
    assert set(recorded) == landed and set(recorded.values()) == {1}
    assert set(statuses) == landed
    assert rejected_rows == 0


def check_huge_file(url: str, landing: Path, statuses: dict[str, str]) -> None:
    """Refused by its size; its identity and refusal cost two MiB of reading, not two GiB."""
    assert statuses[HUGE] == "rejected"
    with connect(url) as conn:
        assert problem_rows(conn, HUGE) == [("error", None, None, None, "file_too_large", HUGE)]
    root = landing_root(landing.as_uri())
    started = time.monotonic()
    landed, data = fetch(root, LandedFile(HUGE, "", 0))
    assert data is None and landed.size == HUGE_SIZE > MAX_FILE_BYTES
    assert time.monotonic() - started < 1.0


def check_messages(url: str) -> None:
    """Every problem in Vietnamese and English, its placeholders filled."""
    with connect(url) as conn:
        rows = conn.execute("select rule, message_vi, message_en from audit.submission_problems").fetchall()
    assert rows
    for rule, vi, en in rows:
        assert vi and en and vi != en, rule
        for placeholder in ("{value}", "{sheet}", "{column}", "{detail}"):
            assert placeholder not in vi + en, (rule, vi, en)


def check_formula_text(url: str) -> None:
    """Formula-like text is stored as the text it is, and neutralised in any file written."""
    with connect(url) as conn:
        notes = conn.execute(
            "select ghi_chu from raw.commune_households where ghi_chu like '=HYPERLINK%'").fetchall()
        tables = conn.execute("select count(*) from raw.commune_households").fetchone()[0]
    assert len(notes) == 2 and tables > 0  # the SQL-looking name dropped nothing
    assert all(neutralise(n) == "'" + n for (n,) in notes)


def check_feedback(url: str) -> None:
    """Every recorded file has its report where audit.submissions says, whatever its name."""
    with connect(url) as conn:
        rows = conn.execute("select path, feedback_url from audit.submissions").fetchall()
    missing = [path for path, link in rows if not link or not locations.parse(link).path().exists()]
    assert not missing, missing
    for _, link in rows:
        assert all(len(part.encode()) <= 255 for part in locations.parse(link).path().parts)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    name, url = create_database("poverty_corpus")
    landing = tmp_path_factory.mktemp("landing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POVERTY_DATA_DOCS_DIR", str(tmp_path_factory.mktemp("data_docs")))
        yield run_corpus(url, landing)
    drop_database(name)


def test_bad_input_corpus(corpus_run):
    """One landing, one ingest run per contract: every outcome exact, the good files loaded."""
    url, landing, statuses, goods, seconds = corpus_run
    check_outcomes(url, statuses, goods)
    check_records(url, statuses, goods)
    check_huge_file(url, landing, statuses)
    check_messages(url)
    check_formula_text(url)
    check_feedback(url)
    assert seconds < 150, f"the corpus took {seconds:.0f} s to ingest"


def test_the_marts_build_with_every_test_over_every_accepted_file_of_the_corpus(corpus_run, tmp_path):
    """dbt build — seeds, models, every data test — over the corpus warehouse passes: bounded
    counts, household keys unique by construction, no value that breaks a mart."""
    url, *_ = corpus_run
    dbt(url, tmp_path, "build")
    with connect(url) as conn:
        communes = conn.execute(
            "select count(distinct commune_code), max(total_households) from marts.fct_poverty_indicators"
        ).fetchone()
        merged = conn.execute(
            "select count(*) from marts.fct_poverty_indicators "
            "where commune_code = '28519' and review_year = 2024").fetchone()[0]
    assert communes[0] > 20 and communes[1] <= 200_000
    assert merged > 0  # the file listing 28531's household under 28519 is in the marts
