"""Reading both formats and normalising them to the contract (no database)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from support.builders import json_bytes, submission, xlsx_bytes

from poverty_pipeline.ingest.normalise import normalise, to_date, to_integer, to_number
from poverty_pipeline.ingest.read import ReadError, read_workbook
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.ingest.validate import value_sets
from poverty_pipeline.ingest.vietnamese_encodings import (
    decode_bytes,
    decode_text,
    decode_texts,
    encode,
    encode_cp1258,
)
from poverty_pipeline.reference.contract import header_index, header_key, load_contract

CONTRACT = load_contract()
SETS = value_sets(CONTRACT.name, CONTRACT.sheets)


@pytest.mark.parametrize("header", [
    "Thu nhập bình quân (đồng/người/tháng)", "THU NHAP BINH QUAN (dong/nguoi/thang)",
    " thu_nhap_binh_quan ", "Thu nhập bình quân\n(đồng/người/tháng)", "THU_NHAP_BINH_QUAN",
])
def test_headers_match_by_code_or_label_ignoring_case_diacritics_and_spaces(header):
    assert header_index(CONTRACT.sheets["danh_sach_ho"])[header_key(header)] == "thu_nhap_binh_quan"


def test_no_two_fields_of_a_sheet_share_a_matching_key():
    for sheet in CONTRACT.sheets.values():
        keys = [(header_key(f.code), f.code) for f in sheet.fields]
        keys += [(header_key(f.label), f.code) for f in sheet.fields]
        owner: dict[str, str] = {}
        for key, code in keys:
            assert owner.setdefault(key, code) == code, f"{key} matches {owner[key]} and {code}"


@pytest.mark.parametrize(("text", "expected"), [
    (1500000, 1_500_000), (1500000.0, 1_500_000), ("1500000", 1_500_000),
    ("1.500.000", 1_500_000), (" 1 500 000 ", 1_500_000), ("1200.5", 1200.5),
    # Vietnamese decimal commas
    ("12,5", 12.5), ("1.500.000,5", 1_500_000.5), ("1,500,000", 1_500_000), ("0,08", 0.08),
])
def test_numbers(text, expected):
    assert to_number(text) == expected


@pytest.mark.parametrize("text", [
    "abc", "NaN", "Infinity", "1,5,0",
    # ambiguous (a thousands or a decimal separator?) or infinite
    "1,500", "-Infinity", "1e400",
])
def test_not_numbers(text):
    from poverty_pipeline.ingest.normalise import ValueProblem

    with pytest.raises(ValueProblem):
        to_number(text)


def test_integers_and_dates():
    assert to_integer("28.249") == 28249 and to_integer(4.0) == 4
    assert to_date("05/12/2021") == to_date("2021-12-05") == to_date(44535) == dt.date(2021, 12, 5)


@pytest.mark.parametrize("fmt", ["json", "xlsx-codes", "xlsx-labels"])
def test_both_formats_normalise_to_the_same_frames(fmt):
    doc = submission()
    data = {"json": lambda: json_bytes(doc), "xlsx-codes": lambda: xlsx_bytes(doc),
            "xlsx-labels": lambda: xlsx_bytes(doc, labels=True)}[fmt]()
    name = "f.json" if fmt == "json" else "f.xlsx"
    sub = Submission("id", f"communes/2021/{name}", "2021")
    sub = normalise(sub, read_workbook(name, data), CONTRACT, SETS)
    assert sub.problems == []
    assert sub.info["ma_xa"] == "28249" and sub.info["ngay_lap"] == dt.date(2021, 12, 5)
    households = sub.tables["danh_sach_ho"]
    assert households["ma_ho"].tolist() == ["HO001", "HO002", "HO003"]
    assert households["thu_nhap_binh_quan"].tolist() == [1_200_000, 1_400_000, 2_500_000]
    first_data_row = 1 if fmt == "json" else 2
    assert households["_row_number"].tolist() == [first_data_row, first_data_row + 1, first_data_row + 2]


def test_coded_values_are_matched_like_headers():
    doc = submission()
    doc["danh_sach_ho"][0].update(khu_vuc="Nông thôn", gioi_tinh_chu_ho="NỮ", phan_loai_cua_xa="Ngheo")
    sub = normalise(Submission("id", "p", "2021"), read_workbook("f.json", json_bytes(doc)), CONTRACT, SETS)
    row = sub.tables["danh_sach_ho"].iloc[0]
    assert (row["khu_vuc"], row["gioi_tinh_chu_ho"], row["phan_loai_cua_xa"]) == ("nong_thon", "nu", "ngheo")


def test_unreadable_and_unsupported_files():
    with pytest.raises(ReadError) as err:
        read_workbook("a.xlsx", b"garbage")
    assert err.value.rule == "unreadable_file"
    with pytest.raises(ReadError) as err:
        read_workbook("a.csv", b"x,y")
    assert err.value.rule == "unsupported_format"
    with pytest.raises(ReadError):
        read_workbook("a.json", b"[1, 2]")


# ----------------------------------------------------------------------------- bad input

NAMES = "Nguyễn Văn Tâm; Trần Thị Bình; Đặng Hữu Phước; Lê Thị Cúc; khu phố Mỹ Lợi; giữa người khuya quốc"


@pytest.mark.parametrize("encoding", ["TCVN3", "VNI"])
def test_legacy_font_text_is_recognised_and_decoded(encoding):
    legacy = encode(NAMES, encoding)
    assert legacy != NAMES and all(ord(ch) < 0x100 for ch in legacy)
    assert decode_texts(legacy.split("; ")) == encoding
    assert decode_text(legacy, encoding) == NAMES


@pytest.mark.parametrize("encoding", ["Windows-1258", "TCVN3", "VNI"])
def test_legacy_bytes_are_decoded_to_nfc(encoding):
    data = encode_cp1258(NAMES) if encoding == "Windows-1258" else encode(NAMES, encoding).encode("latin-1")
    text, found = decode_bytes(data)
    assert found == encoding
    assert text == NAMES == unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("texts", [
    [NAMES], ["Hà Lê Tú", "Kinh", "Café"], ["nong_thon", "HO001"], [],
    [unicodedata.normalize("NFD", NAMES)],
])
def test_unicode_text_is_never_taken_for_a_legacy_encoding(texts):
    assert decode_texts(texts) is None


def test_a_unicode_header_beside_legacy_data_still_matches():
    doc = submission()
    for row in doc["danh_sach_ho"]:
        row["ho_ten_chu_ho"] = encode("Nguyễn Văn Tâm", "TCVN3")
        row["ghi_chu"] = encode("Hộ có người ốm đau, thiếu hụt bảo hiểm y tế", "TCVN3")
    workbook = read_workbook("f.xlsx", xlsx_bytes(doc, labels=True))
    sub = normalise(Submission("id", "p", "2021"), workbook, CONTRACT, SETS)
    assert [p.rule for p in sub.problems] == ["legacy_encoding"]
    households = sub.tables["danh_sach_ho"]
    assert set(households["ho_ten_chu_ho"]) == {"Nguyễn Văn Tâm"}
    assert "ghi_chu" in households and "ho_ten_chu_ho" in households


def test_integers_beyond_the_warehouse_are_refused():
    from poverty_pipeline.ingest.normalise import ValueProblem

    assert to_integer(2**63 - 1) == 2**63 - 1
    for value in (2**63, 1e20, "100000000000000000000"):
        with pytest.raises(ValueProblem) as err:
            to_integer(value)
        assert err.value.rule == "number_too_large"


def test_the_header_row_is_found_below_title_rows():
    from poverty_pipeline.ingest.read import Grid

    doc = submission()
    workbook = read_workbook("f.json", json_bytes(doc))
    rows = workbook["danh_sach_ho"].rows
    workbook["danh_sach_ho"] = Grid(rows=[["DANH SÁCH HỘ NĂM 2021"], [], *rows], header_row_number=1)
    sub = normalise(Submission("id", "p", "2021"), workbook, CONTRACT, SETS)
    assert sub.problems == []
    assert sub.tables["danh_sach_ho"]["_row_number"].tolist() == [4, 5, 6]


def _zip_with_declared_size(member_size: int, declared: int) -> bytes:
    """A zip whose one member inflates to ``member_size`` bytes but whose headers say ``declared``."""
    import io
    import struct
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(member_size))
    data = bytearray(buffer.getvalue())
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


@pytest.mark.parametrize(("size", "declared", "rule"), [
    (300 * 2**20, 300 * 2**20, "zip_bomb"),  # honest headers: refused before inflating
    (300 * 2**20, 1000, "unreadable_file"),  # lying headers: inflating stops at the declared size
])
def test_zip_bombs_are_refused_quickly(size, declared, rule):
    import time

    data = _zip_with_declared_size(size, declared)
    started = time.monotonic()
    with pytest.raises(ReadError) as err:
        read_workbook("bomb.xlsx", data)
    assert err.value.rule == rule
    assert time.monotonic() - started < 2.0


def test_json_problems_name_sheet_row_and_column():
    text = json_bytes(submission()).decode().replace('"ma_ho": "HO002"', '"ma_ho": "HO002", "ma_ho": "X"', 1)
    workbook = read_workbook("f.json", text.encode())
    assert [(p.rule, p.sheet, p.row_number, p.column_name) for p in workbook.problems] == [
        ("duplicate_key", "danh_sach_ho", 2, "ma_ho")]


@pytest.mark.parametrize("code", ["nam_sinh_chu_ho", "thu_nhap_binh_quan", "td_bhyt", "ma_ho", "khu_vuc",
                                  "nguyen_nhan_ngheo"])
def test_a_column_converts_as_its_cells_would_one_by_one(code):
    """convert_column maps each distinct cell (by type: 1, 1.0 and True are different cells)
    through one conversion; values and problems are those of converting every cell alone, in
    row order, also where a cell is a JSON list or object."""
    from poverty_pipeline.ingest.normalise import convert, convert_column

    contract = load_contract()
    spec = contract.sheets["danh_sach_ho"].field(code)
    coded = value_sets(contract.name, contract.sheets).get(("danh_sach_ho", code), [])
    canon = {header_key(v): v for v in coded}
    cells = [1, 1.0, True, "1", " 1 ", None, "", float("nan"), 2.5, "2,5", "1.500.000", 0, False, "x",
             "Thành thị", "thanh_thi", "a;b", ["a", "b"], 1, True, "x", dt.date(2024, 3, 1), 10**20]
    hashable = [c for c in cells if not isinstance(c, list)]
    for column in (cells, hashable):
        rows = list(range(2, 2 + len(column)))
        one_by_one, together = Submission("a", "f.json", None), Submission("b", "f.json", None)
        expected = [convert(one_by_one, spec, c, sheet="danh_sach_ho", row=r, canon=canon or None)
                    for c, r in zip(column, rows, strict=True)]
        got = convert_column(together, spec, column, rows, sheet="danh_sach_ho", canon=canon or None)
        assert [(type(v), v) for v in got] == [(type(v), v) for v in expected]
        assert together.problems == one_by_one.problems and together.bad_cells == one_by_one.bad_cells


def test_short_rows_and_uneven_json_items_read_as_blanks():
    """A row shorter than the header (a sheet's last cells left empty) and a JSON item without
    some keys give blanks there, and the keys of later items still become columns."""
    doc = submission()
    doc["danh_sach_ho"][1].pop("ghi_chu", None)
    doc["danh_sach_ho"][1].pop("so_nhan_khau")
    doc["danh_sach_ho"][2]["cot_moi"] = "x"
    workbook = read_workbook("f.json", json_bytes(doc))
    grid = workbook["danh_sach_ho"]
    assert grid.rows[0][-1] == "cot_moi" and [row[-1] for row in grid.rows[1:]] == [None, None, "x"]
    contract = load_contract()
    codes = value_sets(contract.name, contract.sheets)
    sub = normalise(Submission("s", "f.json", None), workbook, contract, codes)
    frame = sub.tables["danh_sach_ho"]
    assert frame["so_nhan_khau"].isna().tolist() == [False, True, False]
    assert frame["extra_columns"].tolist() == [{"cot_moi": None}, {"cot_moi": None}, {"cot_moi": "x"}]

    workbook = read_workbook("f.xlsx", xlsx_bytes(submission()))
    grid = workbook["danh_sach_ho"]
    grid.rows[2] = grid.rows[2][:3]  # calamine's rows are even; a short one reads as blanks too
    sub = normalise(Submission("s", "f.xlsx", None), workbook, contract, codes)
    assert sub.tables["danh_sach_ho"]["so_nhan_khau"].isna().tolist() == [False, True, False]
