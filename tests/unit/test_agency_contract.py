"""The agency contract as data, what the contracts fill in the submission record, the sample
agency reports (deterministic, each malformed one breaking exactly its rule), and the follow-up
list's pure parts. No database."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest

from poverty_pipeline.ingest.batch import prepare
from poverty_pipeline.ingest.cell_safety import neutralise
from poverty_pipeline.ingest.discover import LandedFile, content_hash
from poverty_pipeline.ingest.normalise import to_period
from poverty_pipeline.ingest.validate import validate_batch, value_sets
from poverty_pipeline.reference import registry
from poverty_pipeline.reference.contract import header_index, header_key, load_contract
from poverty_pipeline.reporting.followup import choose_contact, period_file_name, to_xlsx_bytes
from poverty_pipeline.samples.agencies import build_reports, expected_periods, render

AGENCY = load_contract("agency_task_report")
COMMUNE = load_contract()


def test_agency_contract_as_data():
    assert AGENCY.landing_folder == "agencies"
    assert AGENCY.raw_tables == {"thong_tin": "agency_report_info", "hoat_dong": "agency_activities"}
    assert AGENCY.info_sheet.name == "thong_tin" and AGENCY.main_sheet == "hoat_dong"
    assert AGENCY.supersede_on == ("submitter_code", "period")
    assert [f.code for f in AGENCY.sheets["hoat_dong"].fields] == [
        "ma_nhiem_vu", "ma_hoat_dong", "noi_dung", "chi_tieu", "don_vi_tinh", "ke_hoach", "thuc_hien",
        "nguon_kinh_phi", "trang_thai", "han_hoan_thanh", "ngay_hoan_thanh", "ghi_chu",
    ]
    for sheet in AGENCY.sheets.values():  # no two fields share a header matching key
        owner: dict[str, str] = {}
        for f in sheet.fields:
            for key in (header_key(f.code), header_key(f.label)):
                assert owner.setdefault(key, f.code) == f.code
        assert set(header_index(sheet).values()) == set(sheet.codes)
    assert COMMUNE.raw_tables == {"thong_tin": "commune_submission_info", "tong_hop": "commune_area_totals",
                                  "danh_sach_ho": "commune_households"}


@pytest.mark.parametrize("pattern,period", [
    ("2024", "2024"), ("2024-03", "2024-03"), ("2024-Q1", "2024-Q1"), ("2024-q4", "2024-q4"),
])
def test_agency_period_folders(pattern, period):
    assert AGENCY.period_pattern.match(pattern).group("period") == period


@pytest.mark.parametrize("folder", ["2024-13", "2024-Q5", "24", "2024-1", "Q1-2024", ""])
def test_not_agency_period_folders(folder):
    assert AGENCY.period_pattern.match(folder) is None


@pytest.mark.parametrize(("info", "path_period", "expected"), [
    # the commune review's identity, as the loader filled it before the contract named it
    ({"ma_xa": "28249", "nam_ra_soat": 2021, "loai_ra_soat": "dinh_ky"}, "2021",
     {"submitter_code": "28249", "review_year": 2021, "review_type": "dinh_ky", "review_month": None,
      "period": "2021", "reported_on": None}),
    ({"ma_xa": "28249", "nam_ra_soat": 2021, "loai_ra_soat": "dinh_ky", "thang": 12}, "2021",
     {"submitter_code": "28249", "review_year": 2021, "review_type": "dinh_ky", "review_month": None,
      "period": "2021", "reported_on": None}),
    ({"ma_xa": "28249", "nam_ra_soat": 2021, "loai_ra_soat": "thuong_xuyen", "thang": 3}, "2021",
     {"submitter_code": "28249", "review_year": 2021, "review_type": "thuong_xuyen", "review_month": 3,
      "period": "2021-03", "reported_on": None}),
    ({"ma_xa": None, "ngay_lap": dt.date(2022, 12, 5)}, "2022",
     {"submitter_code": None, "review_year": None, "review_type": None, "review_month": None,
      "period": "2022", "reported_on": dt.date(2022, 12, 5)}),
])
def test_commune_record_values(info, path_period, expected):
    assert COMMUNE.record_values(info, path_period) == expected


def test_the_submitter_folder_names_the_submitter_whatever_the_file_says():
    values = COMMUNE.record_values({"ma_xa": "28252", "nam_ra_soat": 2021}, "2021", path_submitter="28261")
    assert values["submitter_code"] == "28261"
    assert AGENCY.record_values({"ma_don_vi": "SYT"}, "2024-Q1", "STC")["submitter_code"] == "STC"


def test_agency_record_values_take_the_folders_period():
    assert AGENCY.record_values({"ma_don_vi": "STC", "ky_bao_cao": "2023"}, "2024-Q1") == {
        "submitter_code": "STC", "period": "2024-Q1", "reported_on": None}
    assert AGENCY.record_values({"ma_don_vi": "STC", "ky_bao_cao": "2024-Q1"}, None) == {
        "submitter_code": "STC", "period": "2024-Q1", "reported_on": None}


def test_periods_read_from_cells():
    assert to_period(dt.datetime(2024, 3, 1)) == "2024-03"  # Excel made a date of "2024-03"
    assert to_period(" 2024-q2 ") == "2024-Q2"
    assert to_period(2024.0) == "2024"


def test_agency_codes_come_from_the_registry_seed_and_are_canonicalised():
    sets = value_sets(AGENCY.name, AGENCY.sheets)
    assert sets[("thong_tin", "ma_don_vi")] == sorted(registry.agency_codes())
    assert len(registry.agency_codes()) == 29 and "UBND-825" in registry.agency_codes()
    assert sets[("hoat_dong", "ma_nhiem_vu")] == list(registry.task_codes())


def test_registry_periods_of_an_agency():
    agencies = {a["agency_code"]: a for a in registry.agencies()}
    district = [p.code for p in expected_periods(agencies["UBND-815"], range(2021, 2026))]
    assert district[0] == "2021-Q3" and district[-1] == "2025-Q2"  # abolished 30 Jun 2025
    monthly = [p.code for p in expected_periods(agencies["SLDTBXH"], range(2021, 2026))]
    assert monthly[0] == "2021-09" and monthly[-1] == "2025-12" and len(monthly) == 52


@pytest.fixture(scope="module")
def sample_2024():
    return build_reports(years=[2024], seed=7)


def test_sample_reports_are_deterministic(sample_2024):
    again, _ = build_reports(years=[2024], seed=7)
    first, _ = sample_2024
    assert [(r.relative_path, content_hash(render(r))) for r in first] == [
        (r.relative_path, content_hash(render(r))) for r in again
    ]


def test_sample_reports_conform_and_malformed_ones_break_exactly_their_rule(sample_2024):
    reports, missing = sample_2024
    expected_rule = {
        "completion_without_date": ("completion_date_required",),
        "negative_quantity": ("range",),
        "unknown_task": ("known_task",),
        "period_mismatch": ("period_matches_path",),
        "completion_after_report": ("completion_not_after_report",),
        "unknown_agency": ("known_agency",),
    }
    sets = value_sets(AGENCY.name, AGENCY.sheets)
    subs = []
    for r in reports:
        data = render(r)
        subs.append(prepare(LandedFile(r.relative_path, content_hash(data), len(data)), data, AGENCY, sets))
    columns = {name: sheet.codes for name, sheet in AGENCY.sheets.items()}
    validate_batch(subs, AGENCY.name, columns, today=dt.date(2026, 1, 1))
    variants = set()
    for r, sub in zip(reports, subs, strict=True):
        rules = tuple(p.rule for p in sub.problems if p.is_error)
        warnings = {p.rule for p in sub.problems if not p.is_error}
        variants.add(r.variant.split(":")[0])
        assert warnings <= {"unusual_unit"}, r.relative_path
        if r.variant.startswith("malformed:"):
            assert rules == expected_rule[r.variant.split(":")[1]], (r.relative_path, sub.problems)
        else:
            assert rules == (), (r.relative_path, sub.problems)
    assert {"ok", "malformed"} <= variants
    # every agency of the registry reports, except the few reports left missing on purpose
    expected = sum(len(expected_periods(a, [2024])) for a in registry.agencies())
    first_files = {(r.agency_code, r.period) for r in reports}
    assert len(first_files) + missing == expected and 0 < missing < expected * 0.1


def test_contact_is_the_files_else_the_last_known_else_the_registrys():
    row = {"own_name": None, "own_phone": None, "previous_name": "Võ Thị Hoa", "previous_phone": None,
           "registry_name": "Văn phòng Sở", "registry_phone": "02733000000", "registry_email": "vp@x.vn"}
    assert choose_contact(row) == {"contact_name": "Võ Thị Hoa", "contact_phone": None,
                                   "contact_email": None, "contact_source": "previous_submission"}
    assert choose_contact({**row, "own_phone": "0912"})["contact_source"] == "submission"
    assert choose_contact({**row, "previous_name": None}) == {
        "contact_name": "Văn phòng Sở", "contact_phone": "02733000000", "contact_email": "vp@x.vn",
        "contact_source": "registry"}
    assert choose_contact({})["contact_source"] is None


@pytest.mark.parametrize(("text", "safe"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+84912345678", "'+84912345678"),
    ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("Nguyễn Văn A", "Nguyễn Văn A"),
])
def test_formula_like_text_is_neutralised(text, safe):
    assert neutralise(text) == safe


def test_period_file_names_are_safe():
    assert period_file_name("2024-Q1") == "2024-Q1.xlsx"
    assert period_file_name("../../etc") == "etc.xlsx"
    assert period_file_name(None) == "khong_xac_dinh.xlsx"


def test_follow_up_workbook_has_both_languages_words_dates_and_no_formulas():
    from python_calamine import CalamineWorkbook

    from poverty_pipeline.reporting.followup import SHEET_NAME

    data = to_xlsx_bytes([{"period": "2024-Q1", "submitter_code": "SYT", "contact_name": "=1+1",
                           "submission_kind": "agency_quarterly_report",
                           "deadline_on": dt.date(2024, 4, 10),
                           "latest_received_at": dt.datetime(2024, 4, 12, 8, 5),
                           "days_overdue": 21, "contact_source": "registry"}], dt.date(2024, 5, 1))
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == [SHEET_NAME] == ["Cần đôn đốc"]
    rows = book.get_sheet_by_name(SHEET_NAME).to_python()
    assert rows[0][:3] == ["Kỳ", "Loại báo cáo", "Mã"]
    assert rows[1][:3] == ["Period", "Kind of submission", "Code"]
    assert rows[2][0] == "2024-Q1" and rows[2][2] == "SYT" and rows[2][7] == 21
    assert rows[2][1] == "Báo cáo quý / quarterly report"
    # real dates, shown dd/mm/yyyy whatever the reader's date separator
    assert rows[2][5] == dt.date(2024, 4, 10) and rows[2][9] == dt.datetime(2024, 4, 12, 8, 5)
    # formula-like text as written, in a quote-prefixed cell
    assert rows[2][12] == "=1+1" and rows[2][15] == "danh bạ đơn vị / the registry"
    parts = zipfile.ZipFile(io.BytesIO(data))
    sheet_xml = parts.read("xl/worksheets/sheet1.xml").decode()
    styles = parts.read("xl/styles.xml").decode()
    assert "<f>" not in sheet_xml  # no formula cells anywhere
    xfs = re.findall(r"<xf [^>]*>", styles.split("<cellXfs")[1])
    style_of = dict(re.findall(r'<c r="([A-Z]+\d+)" s="(\d+)"', sheet_xml))
    assert 'quotePrefix="1"' in xfs[int(style_of["M3"])]
    formats = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    assert formats[re.search(r'numFmtId="(\d+)"', xfs[int(style_of["F3"])]).group(1)] == "dd\\/mm\\/yyyy"
    # printed landscape, one page wide, both header rows on every page; filters on the columns
    assert 'orientation="landscape"' in sheet_xml and '<pageSetUpPr fitToPage="1"/>' in sheet_xml
    assert "<autoFilter " in sheet_xml and "!$1:$2</definedName>" in parts.read("xl/workbook.xml").decode()
