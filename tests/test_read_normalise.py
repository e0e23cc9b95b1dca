"""Reading both formats and normalising them to the contract (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from builders import json_bytes, submission, xlsx_bytes

from poverty_pipeline.contract import header_index, header_key, load_contract
from poverty_pipeline.normalise import Submission, normalise, to_date, to_integer, to_number
from poverty_pipeline.read import ReadError, read_workbook
from poverty_pipeline.validate import value_sets

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
])
def test_numbers(text, expected):
    assert to_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", "1,5,0"])
def test_not_numbers(text):
    from poverty_pipeline.normalise import ValueProblem

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
