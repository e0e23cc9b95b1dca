"""Agency task reports against a real PostgreSQL: the agency contract's rules each give an exact
outcome (status and problem rows), accepted reports load whole and once, the newest accepted
report of an agency for a period supersedes the earlier ones, and the commune ingest beside it
is untouched. Contract: docs/submitting.md."""

from __future__ import annotations

import copy

import pytest
from support import ingest_checks
from support.builders import agency_activity, agency_report
from support.databases import throwaway_database
from support.ingest_checks import messages, problems, recorded

from poverty_pipeline.ingest.discover import content_hash, new_files
from poverty_pipeline.samples.agencies import to_json_bytes, to_xlsx_bytes
from poverty_pipeline.warehouse.database import connect

CONTRACT = "agency_task_report"


def changed(doc: dict, row: int, **values) -> dict:
    """``doc`` with activity ``row`` (0-based) changed."""
    out = copy.deepcopy(doc)
    out["hoat_dong"][row].update(values)
    return out


def land(landing, name: str, data: bytes, period: str = "2024-Q1"):
    path = landing / "agencies" / period / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run_ingest(url: str, landing) -> dict[str, str]:
    return ingest_checks.run_ingest(url, landing, "agencies", CONTRACT)


def raw_counts(url: str) -> dict[str, int]:
    return ingest_checks.raw_counts(url, ("agency_report_info", "agency_activities"))


GOOD = agency_report()

# name → (bytes, folder, expected problem rows: severity, sheet, row, column, value, rule).
# JSON rows are the item's position in its list (thong_tin: 1 ma_don_vi, 2 ky_bao_cao, 3
# nguoi_lap, 4 ngay_lap); xlsx rows are the spreadsheet's (header = row 1).
BAD_CASES = {
    "unknown_agency.json": (to_json_bytes(agency_report(ma_don_vi="SXYZ")), "2024-Q1", [
        ("error", "thong_tin", 1, "ma_don_vi", "SXYZ", "known_agency"),
    ]),
    "task_outside_plan.xlsx": (to_xlsx_bytes(changed(GOOD, 1, ma_nhiem_vu="NV7")), "2024-Q1", [
        ("error", "hoat_dong", 3, "ma_nhiem_vu", "NV7", "known_task"),
    ]),
    "completed_without_date.json": (to_json_bytes(changed(GOOD, 1, ngay_hoan_thanh=None)), "2024-Q1", [
        ("error", "hoat_dong", 2, "ngay_hoan_thanh", None, "completion_date_required"),
    ]),
    "completed_after_report.json": (
        to_json_bytes(changed(GOOD, 1, ngay_hoan_thanh="2024-04-20")), "2024-Q1", [
            ("error", "hoat_dong", 2, "ngay_hoan_thanh", "2024-04-20", "completion_not_after_report"),
        ]),
    "period_differs_from_folder.json": (to_json_bytes(agency_report(period="2024-Q2")), "2024-Q1", [
        ("error", "thong_tin", 2, "ky_bao_cao", "2024-Q2", "period_matches_path"),
    ]),
    "negative_quantities.xlsx": (
        to_xlsx_bytes(changed(changed(GOOD, 0, ke_hoach=-5), 2, thuc_hien=-1)), "2024-Q1", [
            ("error", "hoat_dong", 2, "ke_hoach", "-5", "range"),
            ("error", "hoat_dong", 4, "thuc_hien", "-1", "range"),
        ]),
    "funds_without_source.json": (to_json_bytes(changed(GOOD, 0, nguon_kinh_phi=None)), "2024-Q1", [
        ("error", "hoat_dong", 1, "nguon_kinh_phi", None, "funding_source_required"),
    ]),
    "quantity_without_unit.json": (to_json_bytes(changed(GOOD, 1, don_vi_tinh=None)), "2024-Q1", [
        ("error", "hoat_dong", 2, "don_vi_tinh", None, "unit_required"),
    ]),
    "completion_date_while_in_progress.json": (
        to_json_bytes(changed(GOOD, 0, ngay_hoan_thanh="2024-03-01")), "2024-Q1", [
            ("error", "hoat_dong", 1, "ngay_hoan_thanh", "2024-03-01", "completion_date_only_when_completed"),
        ]),
    "duplicate_activity.json": (to_json_bytes(changed(GOOD, 2, ma_hoat_dong="HD-01")), "2024-Q1", [
        ("error", "hoat_dong", 1, "ma_hoat_dong", "HD-01", "unique_activity"),
        ("error", "hoat_dong", 3, "ma_hoat_dong", "HD-01", "unique_activity"),
    ]),
    "unknown_status.json": (to_json_bytes(changed(GOOD, 2, trang_thai="xong")), "2024-Q1", [
        ("error", "hoat_dong", 3, "trang_thai", "xong", "allowed_values"),
    ]),
    "prepared_in_future.json": (to_json_bytes(agency_report(ngay_lap="2099-01-01")), "2024-Q1", [
        ("error", "thong_tin", 4, "ngay_lap", "2099-01-01", "date_not_future"),
    ]),
    "not_a_period.json": (to_json_bytes(agency_report(period="Q1/2024")), "2024", [
        ("error", "thong_tin", 2, "ky_bao_cao", "Q1/2024", "period_format"),
        ("error", "thong_tin", 2, "ky_bao_cao", "Q1/2024", "period_matches_path"),
    ]),
    "folder_not_a_period.json": (to_json_bytes(GOOD), "2024-13", [
        ("error", None, None, None, "2024-13", "path_period"),
    ]),
    "missing_sheet.xlsx": (to_xlsx_bytes(GOOD, sheets=("thong_tin",)), "2024-Q1", [
        ("error", "hoat_dong", None, None, None, "missing_sheet"),
    ]),
    "text_quantity.json": (to_json_bytes(changed(GOOD, 0, thuc_hien="hai trăm triệu")), "2024-Q1", [
        ("error", "hoat_dong", 1, "thuc_hien", "hai trăm triệu", "not_number"),
    ]),
}

WARNED = changed(GOOD, 1, don_vi_tinh="buoi")  # an unusual unit: accepted with a warning
LOWER_CASE = agency_report(ma_don_vi="ubnd-815", activities=[  # codes and values matched like headers
    agency_activity("A1", ma_nhiem_vu="nv3", chi_tieu="So ho duoc ho tro", don_vi_tinh="Hộ", ke_hoach=10,
             thuc_hien=4, trang_thai="Đang thực hiện"),
])


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One warehouse for the module's mixed batch (the shared ``warehouse`` fixture is per test)."""
    with throwaway_database("agency_ingest") as url:
        landing = tmp_path_factory.mktemp("landing")
        land(landing, "good.xlsx", to_xlsx_bytes(GOOD, headers="label"))
        land(landing, "good_json_other_agency.json", to_json_bytes(agency_report(ma_don_vi="SNNPTNT")))
        land(landing, "lower_case_codes.json", to_json_bytes(LOWER_CASE))
        land(landing, "warned.xlsx",
             to_xlsx_bytes(agency_report(ma_don_vi="HND", activities=WARNED["hoat_dong"])))
        for file_name, (data, folder, _) in BAD_CASES.items():
            land(landing, file_name, data, folder)
        yield url, run_ingest(url, landing)


def test_good_reports_load_while_bad_ones_are_rejected(mixed_run):
    url, statuses = mixed_run
    assert statuses == {
        "agencies/2024-Q1/good.xlsx": "accepted",
        "agencies/2024-Q1/good_json_other_agency.json": "accepted",
        "agencies/2024-Q1/lower_case_codes.json": "accepted",
        "agencies/2024-Q1/warned.xlsx": "accepted_with_warnings",
        **{f"agencies/{folder}/{name}": "rejected" for name, (_, folder, _) in BAD_CASES.items()},
    }
    # 4 reports loaded: 3 + 3 + 1 + 3 activities
    assert raw_counts(url) == {"agency_report_info": 4, "agency_activities": 10}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_each_rejection_has_exactly_its_problem_rows(mixed_run, name):
    url, _ = mixed_run
    _, folder, expected = BAD_CASES[name]
    assert problems(url, f"agencies/{folder}/{name}") == expected


def test_a_warning_does_not_reject(mixed_run):
    url, _ = mixed_run
    assert problems(url, "agencies/2024-Q1/warned.xlsx") == [
        ("warning", "hoat_dong", 3, "don_vi_tinh", "buoi", "unusual_unit"),
    ]


def test_messages_in_both_languages(mixed_run):
    url, _ = mixed_run
    found = {rule: f"{vi} | {en}" for _, rule, vi, en in
             messages(url, "known_agency", "completion_date_required", "path_period")}
    assert found == {
        "known_agency": "Mã đơn vị 'SXYZ' không có trong danh sách đơn vị báo cáo của Kế hoạch 24-KH/TU. | "
                        "Agency code 'SXYZ' is not in the registry of reporting agencies of Plan 24-KH/TU.",
        "completion_date_required": "Hoạt động đã hoàn thành (hoan_thanh) phải ghi ngày hoàn thành. | "
                                    "A completed activity (hoan_thanh) must give its completion date.",
        "path_period": "Tệp phải nằm trong thư mục agencies/<kỳ báo cáo>/ (YYYY, YYYY-MM hoặc YYYY-Qn); "
                       "thư mục '2024-13' không phải là kỳ báo cáo. | The file must be under "
                       "agencies/<reporting period>/ (YYYY, YYYY-MM or YYYY-Qn); folder '2024-13' is not "
                       "a reporting period.",
    }


def test_the_submission_record_names_agency_and_period(mixed_run):
    url, _ = mixed_run
    with connect(url) as conn:
        rows = conn.execute(
            """select s.path, s.contract, s.submitter_code, s.period, s.review_year, s.review_type,
                      s.row_count, s.household_rows, c.contact_name
                 from audit.submissions s left join raw.submission_contacts c using (submission_id)
                where s.path in ('agencies/2024-Q1/good.xlsx', 'agencies/2024-Q1/lower_case_codes.json',
                                 'agencies/2024-Q1/period_differs_from_folder.json',
                                 'agencies/2024-Q1/unknown_agency.json')
                order by s.path"""
        ).fetchall()
    assert rows == [
        ("agencies/2024-Q1/good.xlsx", CONTRACT, "STC", "2024-Q1", None, None, 3, 0, "Lê Thị Cúc"),
        ("agencies/2024-Q1/lower_case_codes.json", CONTRACT, "UBND-815", "2024-Q1", None, None, 1, 0,
         "Lê Thị Cúc"),
        # rejected: still attributed to the agency and to the period it was sent for (the folder's)
        ("agencies/2024-Q1/period_differs_from_folder.json", CONTRACT, "STC", "2024-Q1", None, None, 0,
         0, "Lê Thị Cúc"),
        ("agencies/2024-Q1/unknown_agency.json", CONTRACT, "SXYZ", "2024-Q1", None, None, 0, 0,
         "Lê Thị Cúc"),
    ]


def test_values_load_typed_and_canonical(mixed_run):
    url, _ = mixed_run
    with connect(url) as conn:
        rows = conn.execute(
            """select i.ma_don_vi, a.ma_nhiem_vu, a.ma_hoat_dong, a.chi_tieu, a.don_vi_tinh, a.ke_hoach,
                      a.thuc_hien, a.trang_thai, a.ngay_hoan_thanh
                 from raw.agency_activities a join raw.agency_report_info i using (submission_id)
                where i.ma_don_vi in ('STC', 'UBND-815') order by 1, 3"""
        ).fetchall()
    assert [tuple(str(v) if v is not None else None for v in r) for r in rows] == [
        ("STC", "NV4", "HD-01", "kinh_phi_huy_dong", "dong", "500000000.0", "200000000.0",
         "dang_thuc_hien", None),
        ("STC", "NV4", "HD-02", "so_lop_tap_huan", "lop", "2.0", "2.0", "hoan_thanh", "2024-03-20"),
        ("STC", "NV4", "HD-03", None, None, None, None, "chua_thuc_hien", None),
        ("UBND-815", "NV3", "A1", "so_ho_duoc_ho_tro", "ho", "10.0", "4.0", "dang_thuc_hien", None),
    ]


def test_newest_accepted_report_of_an_agency_for_a_period_supersedes(warehouse, landing):
    first = agency_report()
    correction = changed(first, 0, thuc_hien=250_000_000)
    land(landing, "v1.json", to_json_bytes(first))
    land(landing, "other_agency.json", to_json_bytes(agency_report(ma_don_vi="SNNPTNT")))
    land(landing, "other_period.json", to_json_bytes(agency_report(period="2024-Q2")), period="2024-Q2")
    run_ingest(warehouse, landing)
    land(landing, "v2.json", to_json_bytes(correction))
    run_ingest(warehouse, landing)
    land(landing, "v3_rejected.json", to_json_bytes(changed(correction, 0, ke_hoach=-1)))
    run_ingest(warehouse, landing)
    assert recorded(warehouse) == [
        ("agencies/2024-Q1/other_agency.json", "accepted", None),
        ("agencies/2024-Q1/v1.json", "superseded", content_hash(to_json_bytes(correction))),
        ("agencies/2024-Q1/v2.json", "accepted", None),
        ("agencies/2024-Q1/v3_rejected.json", "rejected", None),  # a rejected file supersedes nothing
        ("agencies/2024-Q2/other_period.json", "accepted", None),
    ]
    assert raw_counts(warehouse) == {"agency_report_info": 4, "agency_activities": 12}  # history kept


def test_same_report_twice_loads_once_and_communes_are_left_alone(warehouse, landing):
    data = to_json_bytes(GOOD)
    land(landing, "first.json", data)
    land(landing, "copy of first.json", data)
    assert run_ingest(warehouse, landing) == {"agencies/2024-Q1/copy of first.json": "accepted"}
    assert run_ingest(warehouse, landing) == {}
    with connect(warehouse, autocommit=True) as conn:
        assert new_files(conn, landing.as_uri(), "communes") == []
        tables = {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'")}
    assert tables == {"commune_submission_info", "commune_area_totals", "commune_households",
                      "agency_report_info", "agency_activities", "submission_contacts"}


def test_lower_case_quarter_folder_is_the_same_period(warehouse, landing):
    land(landing, "q.json", to_json_bytes(agency_report(period="2024-q1")), period="2024-q1")
    assert run_ingest(warehouse, landing) == {"agencies/2024-q1/q.json": "accepted"}
    with connect(warehouse) as conn:
        assert conn.execute("select period, ky_bao_cao from audit.submissions "
                            "join raw.agency_report_info using (submission_id)").fetchone() == (
            "2024-Q1", "2024-Q1")
