"""Property-based fuzzing of the ingest (Hypothesis) against a real PostgreSQL.

Each example lands a few submissions made from good ones and mutated — cell values (huge and
odd numbers, NaN, control characters, lone surrogates, lists, wrong types), sheet layouts
(title rows, missing, renamed, extra, hidden or reordered sheets, headers as labels), the bytes
of the file (flipped, inserted, cut) and, for workbooks, the zip members (dropped, replaced,
damaged, added) — and runs the real ingest on them. Whatever the files hold, the batch
completes and every file ends in exactly one recorded outcome, with its feedback report, its
rows loaded only when accepted, and never an ``internal_error`` (which would be a bug of ours).

Bounded for ``make test``: a few files per example, ``POVERTY_FUZZ_EXAMPLES`` examples per
contract (default 6, derandomised so every run tries the same ones; set the variable for a
longer, random search), one reader process for all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.builders import household, submission
from support.databases import create_database, drop_database

from poverty_pipeline.ingest import locations
from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.ingest.read_worker import ReadWorker
from poverty_pipeline.reference.contract import load_contract
from poverty_pipeline.warehouse.database import connect, ensure_schema

EXAMPLES = int(os.environ.get("POVERTY_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="POVERTY_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
OUTCOMES = {"accepted", "accepted_with_warnings", "superseded", "rejected"}

VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8", categories=("Cc", "Cs", "Co", "Zs")), max_size=4),
    st.sampled_from(["", " ", "1.500.000", "1,500", "٤", "１５", "28252-HO1", "\x00", "2021-02-30",
                     "05/12/2021", "9999-12-31", "-1", "3000000000", '=HYPERLINK("x")', "ngheo",
                     "thuong_xuyen", "NaN", "Infinity", "Thành thị", "0" * 30, "x" * 1500]),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(max_value=5), max_size=2),
)
NAMES = st.one_of(st.text(max_size=12), st.sampled_from(
    ["thong_tin", "tong_hop", "danh_sach_ho", "Danh sách hộ", "DANH_SACH_HO", "ma_ho", "Mã hộ",
     "nam_ra_soat", "thang", "x" * 300]))


def commune_base(code: str) -> dict:
    return submission(ma_xa=code, households=[
        household("HO001", thu_nhap_binh_quan=1_200_000, td_bhyt=1, td_nha_tieu=1, td_viec_lam=1,
                  phan_loai_cua_xa="ngheo"),
        household("HO002", ho_ten_chu_ho="Lê Thị Hồng", phan_loai_cua_xa="khong"),
        household("28531-HO003"), household("HO004", so_dinh_danh_chu_ho="082000000004"),
    ])


def agency_base(code: str) -> dict:
    from support.builders import agency_report as report

    return report(ma_don_vi=code)


# --- mutations of the document ---------------------------------------------------------------

def _rows(doc: dict) -> list[dict]:
    return [row for part in doc.values() if isinstance(part, list) for row in part if isinstance(row, dict)]


def set_value(draw, doc: dict) -> None:
    targets = [p for p in doc.values() if isinstance(p, dict)] + _rows(doc)
    if targets:
        target = draw(st.sampled_from(targets))
        keys = list(target) or ["x"]
        target[draw(st.one_of(st.sampled_from(keys), NAMES))] = draw(VALUES)


def drop_key(draw, doc: dict) -> None:
    targets = [t for t in [p for p in doc.values() if isinstance(p, dict)] + _rows(doc) if t]
    if targets:
        target = draw(st.sampled_from(targets))
        del target[draw(st.sampled_from(sorted(target)))]


def reshape_sheet(draw, doc: dict) -> None:
    name = draw(st.sampled_from(sorted(doc)))
    action = draw(st.sampled_from(["drop", "rename", "scalar", "swap", "empty", "duplicate_rows"]))
    part = doc[name]
    if action == "drop":
        del doc[name]
    elif action == "rename":
        doc[draw(NAMES)] = doc.pop(name)
    elif action == "scalar":
        doc[name] = draw(VALUES)
    elif action == "swap":
        doc[name] = list(part.items()) if isinstance(part, dict) else {"x": part}
    elif action == "empty":
        doc[name] = [] if isinstance(part, list) else {}
    elif isinstance(part, list):
        doc[name] = part + part[: draw(st.integers(1, 3))] * draw(st.integers(1, 20))


def add_sheet(draw, doc: dict) -> None:
    rows = st.lists(st.dictionaries(NAMES, VALUES, max_size=3), max_size=3)
    doc[draw(NAMES)] = draw(st.one_of(VALUES, rows))


DOC_MUTATIONS = [set_value, set_value, set_value, drop_key, reshape_sheet, add_sheet]


# --- writing a document as a file ------------------------------------------------------------

def _cell(ws, r: int, c: int, value) -> None:
    try:
        if value is None:
            return
        if isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value)
        elif isinstance(value, str):
            ws.write_string(r, c, value[:32767])
        else:
            ws.write_string(r, c, json.dumps(value))
    except Exception:  # noqa: BLE001 - what xlsxwriter refuses (NaN, a number beyond Excel) as text
        ws.write_string(r, c, str(value))


def as_xlsx(draw, doc: dict, contract) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"created": dt.datetime(2024, 4, 5)})
    labels = draw(st.booleans())
    names = list(doc)
    if draw(st.booleans()):
        names = draw(st.permutations(names))
    used: set[str] = set()
    for name in names:
        title = (str(name).replace("/", "_").replace("[", "(").replace("]", ")").replace("*", "x")
                 .replace("?", "_").replace(":", "_").replace("\\", "_").replace("'", "_")[:31] or "Sheet")
        if title.lower() in used:
            continue
        used.add(title.lower())
        try:
            ws = book.add_worksheet(title)
        except Exception:  # noqa: BLE001 - a name Excel refuses: the sheet is left out
            continue
        part, top = doc[name], draw(st.integers(0, 2))  # title rows above the header
        for r in range(top):
            ws.write_string(r, 0, f"BIỂU {r + 1}")
        spec = contract.sheets.get(name)
        label = {f.code: f.label for f in spec.fields} if spec and labels else {}
        if isinstance(part, dict):
            ws.write_row(top, 0, ["truong", "gia_tri"])
            for i, (k, v) in enumerate(part.items(), start=top + 1):
                _cell(ws, i, 0, label.get(k, k))
                _cell(ws, i, 1, v)
        elif isinstance(part, list):
            header = list(dict.fromkeys(k for row in part if isinstance(row, dict) for k in row))
            for c, k in enumerate(header):
                _cell(ws, top, c, label.get(k, k))
            for i, row in enumerate(part, start=top + 1):
                for c, k in enumerate(header):
                    _cell(ws, i, c, row.get(k) if isinstance(row, dict) else row)
        else:
            _cell(ws, top, 0, part)
        if draw(st.integers(0, 9)) == 0:
            ws.hide()
    if not used:
        book.add_worksheet("empty")
    book.close()
    return buffer.getvalue()


def as_json(draw, doc: dict) -> bytes:
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True, default=str)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1258"]))
    return text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")


# --- mutations of the bytes ------------------------------------------------------------------

def mutate_bytes(draw, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if action == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del out[at:at + draw(st.integers(1, 16))]
        else:
            del out[at:]
    return bytes(out)


def mutate_members(draw, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    members = [(info.filename, source.read(info)) for info in source.infolist()]
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "damage", "replace", "add", "grow"]))
        i = draw(st.integers(0, len(members) - 1)) if members else 0
        if action == "drop" and members:
            members.pop(i)
        elif action == "damage" and members:
            members[i] = (members[i][0], mutate_bytes(draw, members[i][1]))
        elif action == "replace" and members:
            members[i] = (members[i][0], draw(st.binary(max_size=64)))
        elif action == "add":
            members.append((draw(st.sampled_from(["xl/worksheets/sheet9.xml", "xl/media/x.bin", "junk"])),
                            draw(st.binary(max_size=64))))
        elif members:  # a sheet reaching far: a cell appended where a row ends
            name, body = members[i]
            ref = draw(st.sampled_from(["XFD1048576", "A1048576", "ZZ199999", "B3", "AAA1"]))
            row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            cell = f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>'.encode()
            members[i] = (name, body.replace(b"</sheetData>", cell))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in members:
            target.writestr(name, body)
    return out.getvalue()


@st.composite
def landed_file(draw, contract_name: str) -> tuple[str, bytes]:
    """(path under the landing, bytes) of one mutated submission."""
    contract = load_contract(contract_name)
    if contract_name == "commune_household_review":
        code = draw(st.sampled_from(["28249", "28252", "28261", "28519", "99999"]))
        doc, period = commune_base(code), draw(st.sampled_from(["2021", "2021", "2024", "0000"]))
    else:
        code = draw(st.sampled_from(["STC", "SYT", "UBND-815"]))
        doc, period = agency_base(code), draw(st.sampled_from(["2024-Q1", "2024-Q1", "2024-13"]))
    for _ in range(draw(st.integers(0, 3))):
        draw(st.sampled_from(DOC_MUTATIONS))(draw, doc)
    fmt = draw(st.sampled_from(["json", "xlsx"]))
    data = as_json(draw, doc) if fmt == "json" else as_xlsx(draw, doc, contract)
    damages = ["none", "none", "bytes", "members"] if fmt == "xlsx" else ["none", "bytes"]
    damage = draw(st.sampled_from(damages))
    if damage == "bytes":
        data = mutate_bytes(draw, data)
    elif damage == "members":
        data = mutate_members(draw, data)
    folder = draw(st.sampled_from(["", "", f"{code}/", "28252/", "so lieu/"]))
    name = draw(st.sampled_from(["bao cao", "Báo cáo xã", "ds #2 (50%)", "x" * 240])) + f".{fmt}"
    return f"{contract.landing_folder}/{period}/{folder}{name}", data


def landed_batch(contract_name: str):
    return st.lists(landed_file(contract_name), min_size=1, max_size=3, unique_by=lambda f: f[0])


# --- the property ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_warehouse():
    name, url = create_database("poverty_fuzz")
    with connect(url, autocommit=True) as conn:
        ensure_schema(conn)
    with ReadWorker() as reader:
        yield url, reader
    drop_database(name)


def check_batch(url: str, reader: ReadWorker, contract_name: str, files: list[tuple[str, bytes]]) -> None:
    landing = Path(tempfile.mkdtemp(prefix="fuzz_landing_"))
    run_id = f"fuzz-{uuid.uuid4().hex[:8]}"
    try:
        for path, data in files:
            (landing / path).parent.mkdir(parents=True, exist_ok=True)
            (landing / path).write_bytes(data)
        folder = load_contract(contract_name).landing_folder
        with connect(url, autocommit=True) as conn:
            found = new_files(conn, landing.as_uri(), folder)
            report = ingest_files(conn, landing.as_uri(), found, run_id=run_id, contract_name=contract_name,
                                  reader=reader)
            recorded = conn.execute(
                "select submission_id, path, status, household_rows, feedback_url from audit.submissions "
                "where ingest_run_id = %s", (run_id,)).fetchall()
            rules = {r[0] for r in conn.execute(
                "select distinct rule from audit.submission_problems p join audit.submissions s "
                "using (submission_id) where s.ingest_run_id = %s", (run_id,)).fetchall()}
            loaded = dict(conn.execute(
                "select h.submission_id, count(*) from raw.commune_households h join audit.submissions s "
                "using (submission_id) where s.ingest_run_id = %s group by 1", (run_id,)).fetchall())
            known = {r[0] for r in conn.execute("select submission_id from audit.submissions").fetchall()}
        # every distinct content landed: one recorded outcome, under one of its paths (copies are
        # one file), unless the same bytes were recorded by an earlier example
        by_content: dict[str, set[str]] = {}
        for path, data in files:
            by_content.setdefault(hashlib.sha256(data).hexdigest(), set()).add(path)
        paths = [r[1] for r in recorded]
        assert len(paths) == len(set(paths)) == len([o for o in report.outcomes if o.status != "duplicate"])
        for digest, copies in by_content.items():
            mine = [p for p in paths if p in copies]
            assert len(mine) == 1 or (not mine and digest in known), (copies, paths)
        assert not set(paths) - {p for c in by_content.values() for p in c}
        assert "internal_error" not in rules, files
        for submission_id, path, status, households, feedback in recorded:
            assert status in OUTCOMES
            assert feedback and locations.parse(feedback).path().exists(), path
            assert loaded.get(submission_id, 0) == (households if status != "rejected" else 0)
    finally:
        shutil.rmtree(landing, ignore_errors=True)


@FUZZ
@given(files=landed_batch("commune_household_review"))
def test_every_mutated_commune_file_ends_in_exactly_one_recorded_outcome(fuzz_warehouse, files):
    url, reader = fuzz_warehouse
    check_batch(url, reader, "commune_household_review", files)


@FUZZ
@given(files=landed_batch("agency_task_report"))
def test_every_mutated_agency_report_ends_in_exactly_one_recorded_outcome(fuzz_warehouse, files):
    url, reader = fuzz_warehouse
    check_batch(url, reader, "agency_task_report", files)


def test_the_fuzzing_mutates_each_way_it_claims():
    """The strategies reach every kind of damage the docstring names (a guard on the fuzzer)."""
    @settings(max_examples=60, database=None, derandomize=True, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def sample(data):
        path, body = data.draw(landed_file("commune_household_review"))
        seen.add("xlsx" if path.endswith(".xlsx") else "json")
        seen.add("zip" if body.startswith(b"PK") else "not zip")
        if path.endswith(".json"):
            try:
                json.loads(body.decode("utf-8"))
                seen.add("valid json")
            except (UnicodeDecodeError, ValueError):
                seen.add("damaged json")

    seen: set[str] = set()
    sample()
    assert {"xlsx", "json", "zip", "valid json", "damaged json"} <= seen
