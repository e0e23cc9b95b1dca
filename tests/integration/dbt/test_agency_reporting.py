"""The plan-monitoring marts against a real PostgreSQL, on a hand-computed fixture: task
completion, activity progress and yearly results from agency reports; completeness and
timeliness of every expected submission (communes and agencies) — missing, late, rejected,
superseded; the reporting rates rolled up; and the follow-up lists written from them.

Audit rows are inserted with explicit received_at values (lateness is measured on the date a
file was received, in Vietnam), and dbt runs with reporting_as_of = 2024-05-01, so:
  commune periodic review 2023 due 2023-12-15 (due); 2024 not yet due;
  agency quarterly 2024-Q1 due 2024-04-10 (due); 2023-Q4 due 2024-01-10;
  agency annual 2023 due 2024-01-15; SLDTBXH's monthly 2024-04 due 2024-05-10 (not yet due).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

import psycopg
import pytest
from support.databases import dict_rows

from poverty_pipeline.reference import admin_units, registry
from poverty_pipeline.reference.contract import load_contract

AS_OF = dt.date(2024, 5, 1)
AGENCY = load_contract("agency_task_report")
MY_THO = ["28249", "28252", "28261", "28264"]  # communes of district 815 in the fixture


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def act(code: str, task: str, status: str = "dang_thuc_hien", **values) -> dict:
    return {"ma_nhiem_vu": task, "ma_hoat_dong": code, "noi_dung": f"Hoạt động {code}",
            "trang_thai": status, **values}


def insert_agency_report(conn, submission_id: str, agency: str | None, period: str, received_at,
                         status: str = "accepted", activities=(), preparer: str | None = "Cán bộ",
                         path: str | None = None) -> None:
    """An agency report as the loader records it (audit row, contact, raw rows when accepted)."""
    conn.execute(
        """insert into audit.submissions (submission_id, contract, path, submitter_code, period,
               received_at, status, row_count, error_count)
           values (%s, 'agency_task_report', %s, %s, %s, %s, %s, %s, %s)""",
        (submission_id, path or f"agencies/{period}/{agency}_{submission_id}.json", agency, period,
         received_at, status, 0 if status == "rejected" else len(activities),
         1 if status == "rejected" else 0),
    )
    if preparer:
        conn.execute("insert into raw.submission_contacts values (%s, %s, null)", (submission_id, preparer))
    if status == "rejected":
        conn.execute(
            """insert into audit.submission_problems (submission_id, severity, sheet, row_number,
                   column_name, value, rule, message_vi, message_en)
               values (%s, 'error', 'hoat_dong', 2, 'thuc_hien', '-5', 'range', 'Giá trị âm', 'Negative')""",
            (submission_id,),
        )
        return
    conn.execute(
        "insert into raw.agency_report_info (submission_id, ma_don_vi, ky_bao_cao, nguoi_lap, ngay_lap) "
        "values (%s, %s, %s, %s, %s)",
        (submission_id, agency, period, preparer, received_at.date()),
    )
    codes = AGENCY.sheets["hoat_dong"].codes
    for number, row in enumerate(activities, start=2):
        assert set(row) <= set(codes), set(row) - set(codes)
        conn.execute(
            f"insert into raw.agency_activities (submission_id, row_number, {', '.join(codes)}) "
            f"values (%s, %s, {', '.join(['%s'] * len(codes))})",
            (submission_id, number, *(row.get(c) for c in codes)),
        )


def supersede(conn, older: str, newer: str) -> None:
    conn.execute("update audit.submissions set status = 'superseded', superseded_by = %s "
                 "where submission_id = %s", (newer, older))


STC_HD01 = dict(chi_tieu="kinh_phi_huy_dong", don_vi_tinh="dong", ke_hoach=500_000_000,
                nguon_kinh_phi="ngan_sach", han_hoan_thanh=dt.date(2024, 6, 30))
STC_HD02 = dict(chi_tieu="so_lop_tap_huan", don_vi_tinh="lop", ke_hoach=2, thuc_hien=2,
                han_hoan_thanh=dt.date(2024, 3, 31), ngay_hoan_thanh=dt.date(2024, 3, 20))


def _load(conn: psycopg.Connection, load_submission) -> None:
    # ---- agencies
    # STC (quarterly; NV4): 2023-Q4 late by 10 days; 2024-Q1 on time, then corrected after the deadline
    insert_agency_report(conn, "stc_q4", "STC", "2023-Q4", utc(2024, 1, 20, 3), activities=[
        act("HD-01", "NV4", thuc_hien=50_000_000, **STC_HD01),
    ], preparer="Lê Thị Cúc")
    insert_agency_report(conn, "stc_q1_v1", "STC", "2024-Q1", utc(2024, 4, 8, 2), activities=[
        act("HD-01", "NV4", thuc_hien=200_000_000, **STC_HD01),
        act("HD-02", "NV4", "hoan_thanh", **STC_HD02),
    ], preparer="Lê Thị Cúc")
    insert_agency_report(conn, "stc_q1_v2", "STC", "2024-Q1", utc(2024, 4, 15, 2), activities=[
        act("HD-01", "NV4", thuc_hien=250_000_000, **STC_HD01),
        act("HD-02", "NV4", "hoan_thanh", **STC_HD02),
        act("HD-03", "NV4", "chua_thuc_hien", han_hoan_thanh=dt.date(2024, 3, 31)),  # overdue
    ], preparer="Lê Thị Cúc")
    supersede(conn, "stc_q1_v1", "stc_q1_v2")
    # SNNPTNT (quarterly; NV3): 2024-Q1 only a rejected file
    insert_agency_report(conn, "snn_q1", "SNNPTNT", "2024-Q1", utc(2024, 4, 5, 2), status="rejected",
                         preparer="Phạm Văn Đức")
    # SYT (quarterly; NV3): reported 2023-Q4 on time, nothing for 2024-Q1
    insert_agency_report(conn, "syt_q4", "SYT", "2023-Q4", utc(2024, 1, 9, 2), activities=[
        act("YT-1", "NV3", "hoan_thanh", chi_tieu="so_ho_duoc_ho_tro", don_vi_tinh="ho", ke_hoach=40,
            thuc_hien=40, ngay_hoan_thanh=dt.date(2023, 12, 20)),
    ], preparer="Võ Thị Hoa")
    # HND (quarterly; NV2, NV3, NV6): 2024-Q1 received on the deadline day (at 23:00 in Vietnam),
    # with warnings, reporting on NV3 only; the activity completed after its due date
    insert_agency_report(
        conn, "hnd_q1", "HND", "2024-Q1", utc(2024, 4, 10, 16), status="accepted_with_warnings",
        activities=[act("ND-1", "NV3", "hoan_thanh", chi_tieu="so_ho_duoc_ho_tro", don_vi_tinh="ho",
                        ke_hoach=100, thuc_hien=120, han_hoan_thanh=dt.date(2024, 2, 29),
                        ngay_hoan_thanh=dt.date(2024, 3, 15))],
    )
    # an agency code outside the registry (rejected), and a file nobody can be attributed to
    insert_agency_report(conn, "sxyz_q1", "SXYZ", "2024-Q1", utc(2024, 4, 2), status="rejected",
                         preparer="Trần Văn Sáu")
    insert_agency_report(conn, "broken", None, "2024-Q1", utc(2024, 4, 3), status="rejected",
                         preparer=None, path="agencies/2024-Q1/broken.xlsx")
    # ---- communes (review year 2023, due 15 Dec 2023)
    area = [{"khu_vuc": "thanh_thi", "tong_so_ho": 10, "tong_so_nhan_khau": 40}]
    load_submission(conn, submission_id="x49", commune_code="28249", review_year=2023,
                    received_at=utc(2023, 12, 10, 2), areas=area)                        # on time
    load_submission(conn, submission_id="x52_rejected", commune_code="28252", review_year=2023,
                    status="rejected", received_at=utc(2023, 12, 1, 2))
    load_submission(conn, submission_id="x52", commune_code="28252", review_year=2023,
                    received_at=utc(2023, 12, 20, 2), areas=area)                        # 5 days late
    load_submission(conn, submission_id="x61", commune_code="28261", review_year=2023,
                    received_at=utc(2023, 12, 15, 18, 30), areas=area)  # 16 Dec 01:30 in Vietnam: 1 day
    load_submission(conn, submission_id="x64", commune_code="28264", review_year=2023,
                    status="rejected", received_at=utc(2023, 12, 10, 2))                 # only rejected
    conn.execute("insert into raw.submission_contacts values ('x64', %s, %s)",
                 ('=HYPERLINK("http://x","y")', "+84912345678"))
    # a monthly review the calendar does not expect (is_expected false), due 5 Jan 2024
    load_submission(conn, submission_id="x49_m12", commune_code="28249", review_year=2023,
                    review_type="thuong_xuyen", review_month=12, received_at=utc(2023, 12, 25, 2),
                    areas=area)


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_submission, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        _load(conn, load_submission)
    target = tmp_path_factory.mktemp("dbt_target")
    # only these marts and what they read; tests that also read other models are left out
    run_dbt(warehouse_url, target, "build", "--select", "+path:models/marts/tasks",
            "+path:models/marts/reporting", "+rst_follow_up_list", "--indirect-selection", "cautious",
            "--vars", json.dumps({"reporting_as_of": AS_OF.isoformat()}))
    return warehouse_url


def status(url: str, submitter_code: str, period: str, kind: str | None = None) -> dict:
    found = dict_rows(url, "select * from marts.fct_submission_status "
                           "where submitter_code = %s and period = %s "
                           "and (%s::text is null or submission_kind = %s)",
                      submitter_code, period, kind, kind)
    assert len(found) == 1, found
    return found[0]


def pick(row: dict, *columns: str) -> tuple:
    return tuple(row[c] for c in columns)


STATUS_COLUMNS = ("is_expected", "is_due", "is_received", "file_count", "outcome", "timeliness",
                  "days_late", "days_overdue", "follow_up_reason", "current_submission_id", "deadline_on")


@pytest.mark.parametrize(("code", "period", "kind", "expected"), [
    ("STC", "2024-Q1", None,  # first acceptable file on time; the correction supersedes it
     (True, True, True, 2, "accepted", "on_time", 0, None, None, "stc_q1_v2", dt.date(2024, 4, 10))),
    ("STC", "2023-Q4", None,
     (True, True, True, 1, "accepted", "late", 10, None, None, "stc_q4", dt.date(2024, 1, 10))),
    ("SNNPTNT", "2024-Q1", None,
     (True, True, True, 1, "rejected", "overdue", None, 21, "rejected", None, dt.date(2024, 4, 10))),
    ("SYT", "2024-Q1", None,
     (True, True, False, 0, "missing", "overdue", None, 21, "overdue", None, dt.date(2024, 4, 10))),
    ("HND", "2024-Q1", None,  # 16:00 UTC = 23:00 on the deadline day in Vietnam
     (True, True, True, 1, "accepted_with_warnings", "on_time", 0, None, None, "hnd_q1",
      dt.date(2024, 4, 10))),
    ("SXYZ", "2024-Q1", None,
     (False, True, True, 1, "rejected", "overdue", None, 21, "rejected", None, dt.date(2024, 4, 10))),
    ("SLDTBXH", "2024-04", None,
     (True, False, False, 0, "missing", "not_yet_due", None, None, None, None, dt.date(2024, 5, 10))),
    ("SKHDT", "2023", None,
     (True, True, False, 0, "missing", "overdue", None, 107, "overdue", None, dt.date(2024, 1, 15))),
    ("28249", "2023", "commune_periodic_review",
     (True, True, True, 1, "accepted", "on_time", 0, None, None, "x49", dt.date(2023, 12, 15))),
    ("28252", "2023", "commune_periodic_review",  # a rejected file, then an accepted one late
     (True, True, True, 2, "accepted", "late", 5, None, None, "x52", dt.date(2023, 12, 15))),
    ("28261", "2023", "commune_periodic_review",
     (True, True, True, 1, "accepted", "late", 1, None, None, "x61", dt.date(2023, 12, 15))),
    ("28264", "2023", "commune_periodic_review",
     (True, True, True, 1, "rejected", "overdue", None, 138, "rejected", None, dt.date(2023, 12, 15))),
    ("28297", "2023", "commune_periodic_review",
     (True, True, False, 0, "missing", "overdue", None, 138, "overdue", None, dt.date(2023, 12, 15))),
    ("28297", "2024", "commune_periodic_review",
     (True, False, False, 0, "missing", "not_yet_due", None, None, None, None, dt.date(2024, 12, 15))),
    ("28249", "2023-12", "commune_monthly_review",
     (False, True, True, 1, "accepted", "on_time", 0, None, None, "x49_m12", dt.date(2024, 1, 5))),
])
def test_submission_status(built, code, period, kind, expected):
    assert pick(status(built, code, period, kind), *STATUS_COLUMNS) == expected


def test_every_commune_and_agency_is_expected(built):
    counts = {(r["submission_kind"], r["period"]): r["n"] for r in dict_rows(
        built, "select submission_kind, period, count(*) as n from marts.fct_submission_status "
               "where is_expected group by 1, 2")}
    quarterly = [a for a in registry.agencies() if a["reporting_frequency"] == "quarterly"]
    # the units of each year's review date: 164 + the 8 communes closed in 2024, then 164
    assert counts[("commune_periodic_review", "2021")] == 172  # configured years from 2021 …
    assert counts[("commune_periodic_review", "2024")] == 164  # … to the as-of year
    assert counts[("commune_periodic_review", "2021")] == len(admin_units.units_on(dt.date(2021, 12, 31)))
    assert ("commune_periodic_review", "2025") not in counts
    assert ("commune_monthly_review", "2023-12") not in counts  # not expected by the calendar
    assert counts[("agency_quarterly_report", "2024-Q1")] == len(quarterly)
    assert counts[("agency_quarterly_report", "2021-Q3")] == len(quarterly)  # the plan began 16 Aug 2021
    assert ("agency_quarterly_report", "2021-Q2") not in counts
    assert counts[("agency_monthly_report", "2024-05")] == 1  # started; not yet due
    assert ("agency_monthly_report", "2024-06") not in counts


def rate(numerator: int, denominator: int) -> Decimal:
    return Decimal(numerator) / Decimal(denominator)


def test_reporting_rates(built):
    group_size = {}
    for a in registry.agencies():
        if a["reporting_frequency"] == "quarterly":
            group_size[a["agency_group"]] = group_size.get(a["agency_group"], 0) + 1
    found = {(r["rollup_level"], r["rollup_code"], r["submission_kind"], r["period"]): r for r in dict_rows(
        built, "select * from marts.rpt_reporting_rates where period in ('2023', '2024-Q1')")}
    columns = ("expected_count", "received_count", "accepted_count", "accepted_with_warnings_count",
               "on_time_count", "late_count", "rejected_count", "missing_count", "reporting_rate",
               "on_time_rate")
    units_2023 = admin_units.units_on(dt.date(2023, 12, 31))
    communes = len(units_2023)
    my_tho = sum(1 for u in units_2023 if u.district_code == "815")
    so, mt = group_size["so_ban_nganh"], group_size["mat_tran_doan_the"]
    quarterly = sum(group_size.values())
    expected = {
        # Mỹ Tho: 28249 on time, 28252 and 28261 late, 28264 rejected, the rest missing
        ("district", "815", "commune_periodic_review", "2023"):
            (my_tho, 4, 3, 0, 1, 2, 1, my_tho - 4, rate(3, my_tho), rate(1, my_tho)),
        # Gò Công had 12 units until two of its wards merged on 1 May 2024
        ("district", "816", "commune_periodic_review", "2023"): (12, 0, 0, 0, 0, 0, 0, 12, 0, 0),
        ("province", "82", "commune_periodic_review", "2023"):
            (communes, 4, 3, 0, 1, 2, 1, communes - 4, rate(3, communes), rate(1, communes)),
        # departments: STC on time, SNNPTNT rejected, the rest (SYT …) missing
        ("agency_group", "so_ban_nganh", "agency_quarterly_report", "2024-Q1"):
            (so, 2, 1, 0, 1, 0, 1, so - 2, rate(1, so), rate(1, so)),
        ("agency_group", "mat_tran_doan_the", "agency_quarterly_report", "2024-Q1"):
            (mt, 1, 1, 1, 1, 0, 0, mt - 1, rate(1, mt), rate(1, mt)),
        ("agency_group", "ubnd_cap_huyen", "agency_quarterly_report", "2024-Q1"):
            (11, 0, 0, 0, 0, 0, 0, 11, 0, 0),
        # the unknown agency's rejected file is not an expected report
        ("all_agencies", "all", "agency_quarterly_report", "2024-Q1"):
            (quarterly, 3, 2, 1, 2, 0, 1, quarterly - 3, rate(2, quarterly), rate(2, quarterly)),
        ("all_agencies", "all", "agency_annual_report", "2023"): (4, 0, 0, 0, 0, 0, 0, 4, 0, 0),
    }
    for key, values in expected.items():
        actual = pick(found[key], *columns)
        assert actual[:8] == values[:8], key
        assert [float(v) for v in actual[8:]] == pytest.approx([float(v) for v in values[8:]], abs=1e-15)
    assert found[("province", "82", "commune_periodic_review", "2023")]["rollup_name"] == "Tỉnh Tiền Giang"


TASK_COLUMNS = ("is_expected", "has_current_report", "is_task_reported", "submission_id",
                "activities_reported", "activities_completed", "activities_in_progress",
                "activities_not_started", "activities_overdue", "activities_completed_on_time",
                "activities_completed_late", "completion_rate", "on_time_completion_rate",
                "funds_planned_vnd", "funds_mobilised_vnd", "funds_mobilised_in_period_vnd")


@pytest.mark.parametrize(("agency", "task", "period", "expected"), [
    ("STC", "NV4", "2024-Q1",  # HD-01 in progress (due later), HD-02 done on time, HD-03 overdue
     (True, True, True, "stc_q1_v2", 3, 1, 1, 1, 1, 1, 0, Fraction(1, 3), 1,
      500_000_000, 250_000_000, 200_000_000)),
    ("STC", "NV4", "2023-Q4",
     (True, True, True, "stc_q4", 1, 0, 1, 0, 0, 0, 0, 0, None, 500_000_000, 50_000_000, 50_000_000)),
    ("HND", "NV3", "2024-Q1",  # completed after its due date
     (True, True, True, "hnd_q1", 1, 1, 0, 0, 0, 0, 1, 1, 0, None, None, None)),
    ("HND", "NV2", "2024-Q1",  # reported, but not on this task
     (True, True, False, "hnd_q1", 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None)),
    ("SYT", "NV3", "2024-Q1",  # no report at all
     (True, False, False, None, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None)),
])
def test_task_completion(built, agency, task, period, expected):
    found = dict_rows(built, "select * from marts.fct_task_completion "
                             "where agency_code = %s and task_code = %s and period = %s",
                      agency, task, period)
    assert len(found) == 1
    actual = list(pick(found[0], *TASK_COLUMNS))
    for i in (11, 12):  # rates: compare as fractions
        actual[i] = None if actual[i] is None else Fraction(actual[i]).limit_denominator(1000)
    assert tuple(actual) == expected


def test_every_expected_task_has_a_row(built):
    found = dict_rows(built, "select task_code, is_expected, is_task_reported from marts.fct_task_completion "
                             "where agency_code = 'HND' and period = '2024-Q1' order by task_code")
    assert [tuple(r.values()) for r in found] == [("NV2", True, False), ("NV3", True, True),
                                                  ("NV6", True, False)]


def test_activity_progress(built):
    found = dict_rows(built, "select period, previous_period, achieved_cumulative_quantity, "
                             "achieved_in_period_quantity, progress_rate, is_overdue "
                             "from marts.fct_activity_progress "
                             "where agency_code = 'STC' and activity_code = 'HD-01' order by period_end")
    assert [tuple(r.values()) for r in found] == [
        ("2023-Q4", None, 50_000_000, 50_000_000, Decimal("0.1"), False),
        ("2024-Q1", "2023-Q4", 250_000_000, 200_000_000, Decimal("0.5"), False),
    ]


def test_plan_results_by_year(built):
    found = {(r["result_year"], r["indicator_code"], r["funding_source"]): (
        *pick(r, "agency_count", "activity_count", "planned_cumulative_quantity",
              "achieved_cumulative_quantity", "achieved_in_year_quantity"),
        Fraction(r["cumulative_progress_rate"]).limit_denominator(1000))
        for r in dict_rows(built, "select * from marts.rpt_plan_results_by_year")}
    assert found == {
        # NV4 funds by source: STC's HD-01, 50 M by the end of 2023, 250 M by its 2024-Q1 report
        (2023, "kinh_phi_huy_dong", "ngan_sach"): (1, 1, 500_000_000, 50_000_000, 50_000_000,
                                                   Fraction(1, 10)),
        (2024, "kinh_phi_huy_dong", "ngan_sach"): (1, 1, 500_000_000, 250_000_000, 200_000_000,
                                                   Fraction(1, 2)),
        # NV3 households supported: SYT 40 in 2023 (carried into 2024's cumulative), HND 120 in 2024
        (2023, "so_ho_duoc_ho_tro", "khong_ap_dung"): (1, 1, 40, 40, 40, 1),
        (2024, "so_ho_duoc_ho_tro", "khong_ap_dung"): (2, 2, 140, 160, 120, Fraction(160, 140)),
        (2024, "so_lop_tap_huan", "khong_ap_dung"): (1, 1, 2, 2, 2, 1),
    }  # HD-03 has no measured quantity: not in the results


def test_follow_up_lists(built, tmp_path, monkeypatch):
    from python_calamine import CalamineWorkbook

    from poverty_pipeline.reporting.followup import SHEET_NAME, run_follow_up

    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    stale = tmp_path / "_reports" / "follow_up" / "2019.xlsx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    with psycopg.connect(built) as conn:
        result = run_follow_up(conn, tmp_path.as_uri())
    assert result["emailed"] is False  # no SMTP connection configured: written only
    assert not stale.exists() and len(result["removed"]) == 1  # nothing to chase for 2019 any more

    def sheet(period: str) -> list[dict]:
        book = CalamineWorkbook.from_path(str(tmp_path / "_reports" / "follow_up" / f"{period}.xlsx"))
        grid = book.get_sheet_by_name(SHEET_NAME).to_python()
        assert grid[1][0] == "Period"
        return [dict(zip(grid[1], r, strict=True)) for r in grid[2:]]

    q1 = sheet("2024-Q1")
    quarterly = sum(1 for a in registry.agencies() if a["reporting_frequency"] == "quarterly")
    # missing: every quarterly agency but STC, HND, SNNPTNT; rejected: SNNPTNT, SXYZ, the unreadable file
    assert len(q1) == (quarterly - 3) + 3
    by_code = {r["Code"]: r for r in q1}
    assert pick(by_code["SNNPTNT"], "Status", "Contact", "Contact from", "First problem (English)") == (
        "Bị từ chối, cần nộp lại / rejected, to be resubmitted", "Phạm Văn Đức", "tệp đã nộp / the file",
        "Negative")
    assert pick(by_code["SYT"], "Status", "Days overdue", "Contact", "Contact from", "Deadline") == (
        "Quá hạn, chưa nộp / overdue, nothing received", 21, "Võ Thị Hoa",
        "tệp trước của đơn vị / an earlier file", dt.date(2024, 4, 10))
    assert by_code["SXYZ"]["Contact"] == "Trần Văn Sáu"
    unattributed = [r for r in q1 if r["Latest file"] == "agencies/2024-Q1/broken.xlsx"]
    assert len(unattributed) == 1 and unattributed[0]["Code"] == ""
    assert by_code["UBND-815"]["Contact"] == ""  # nobody known yet (the registry's contacts are blank)

    year_2023 = {r["Code"]: r for r in sheet("2023")}
    assert pick(year_2023["28264"], "Status", "Contact", "Phone") == (
        "Bị từ chối, cần nộp lại / rejected, to be resubmitted", "=HYPERLINK(\"http://x\",\"y\")",
        "+84912345678")  # text a spreadsheet would run as a formula: as written, quote-prefixed
    assert "28249" not in year_2023 and "28252" not in year_2023 and "SKHDT" in year_2023
    for not_due in ("2024", "2024-04"):  # nothing overdue or rejected yet
        assert not (tmp_path / "_reports" / "follow_up" / f"{not_due}.xlsx").exists()


def test_follow_up_is_not_emailed_without_recipients(built, tmp_path, monkeypatch):
    from poverty_pipeline.reporting.followup import run_follow_up

    # an SMTP connection without recipients: nothing is sent (and nothing tries to connect)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://user:secret@127.0.0.1:1")
    with psycopg.connect(built) as conn:
        result = run_follow_up(conn, tmp_path.as_uri())
    assert result["emailed"] is False and result["files"]


def test_follow_up_workbook_bytes_are_reproducible(built, tmp_path):
    from poverty_pipeline.reporting.followup import run_follow_up

    with psycopg.connect(built) as conn:
        run_follow_up(conn, (tmp_path / "a").as_uri())
        run_follow_up(conn, (tmp_path / "b").as_uri())
    first = (tmp_path / "a" / "_reports" / "follow_up" / "2024-Q1.xlsx").read_bytes()
    assert first == (tmp_path / "b" / "_reports" / "follow_up" / "2024-Q1.xlsx").read_bytes()
    assert io.BytesIO(first).getbuffer().nbytes > 0
