"""The poverty measures against a real PostgreSQL on a hand-written fixture: flows between
reviews followed across a resubmission, Alkire–Foster measures, household profiles, the
reconciliation of the communes' claims (the exact warning rows, written into the audit record
by ``poverty_pipeline.quality.reconcile``, idempotently), the target progress and the .xlsx export.

Three communes, NĐ07 households whose class is plain from income and flags (rural line
1,500,000: ≤ it with 3 deprivations poor, with none near-poor; above it neither):

- 28249 (district 815) reviews 2021, 2022 (a first file and a correction received later) and
  2023 — every flow of docs/poverty-standards.md (flows between reviews);
- 28252 (815) reviews 2022 and 2023, and in 2023 states 3 near-poor households where its list
  has 2 (count warning);
- 28297 (816) reviews 2023 only, states a poor rate of 1.5% for 2 poor of 100 households
  (rate warning) and lists a near-poor household as poor (classification warning).

Every other claim matches its list, so exactly these warnings are expected.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from support.databases import dict_rows

from poverty_pipeline.quality.reconcile import record_reconciliation
from poverty_pipeline.warehouse.pii import household_key

ND07, QD59 = "ND07_2022_2025", "QD59_2016_2020"
# the measure marts with everything they are built from (and their tests)
MEASURES = (
    "+rpt_review_summary", "+rpt_alkire_foster_by_area", "+rpt_household_profiles_by_area",
    "+rpt_commune_reconciliation", "+rpt_submission_discrepancies", "+rpt_target_progress",
)
RURAL = "nong_thon"
D3 = ("td_bhyt", "td_chat_luong_nha", "td_dien_tich_nha")
CLASS_CODE = {"P": "ngheo", "N": "can_ngheo", "X": "khong", "U": "ngheo"}
# class → (income, deprived flags); U has no income: the warehouse cannot classify it
CLASS_INPUT = {"P": (1_200_000, D3), "N": (1_200_000, ()), "X": (3_000_000, ()), "U": (None, D3)}


def household(code: str, cls: str, *, claimed: str | None = None, **extra) -> dict:
    """A rural household of class P, N, X or U, classified by the commune as ``claimed``
    (default: its own class)."""
    income, deprived = CLASS_INPUT[cls]
    return {
        "ma_ho": code,
        "khu_vuc": RURAL,
        "thu_nhap_binh_quan": income,
        "so_nhan_khau": 4,
        "deprived": deprived,
        "phan_loai_cua_xa": CLASS_CODE[claimed or cls],
        **extra,
    }


def area(households: list[dict], total: int = 100, **claims) -> dict:
    """The tong_hop row of the households' area, consistent with the commune's own list
    unless ``claims`` overrides a value."""
    poor = sum(h["phan_loai_cua_xa"] == "ngheo" for h in households)
    near = sum(h["phan_loai_cua_xa"] == "can_ngheo" for h in households)
    row = {
        "khu_vuc": RURAL,
        "tong_so_ho": total,
        "tong_so_nhan_khau": 4 * total,
        "so_ho_ngheo": poor,
        "ty_le_ho_ngheo": round(100 * poor / total, 2),
        "so_ho_can_ngheo": near,
        "ty_le_ho_can_ngheo": round(100 * near / total, 2),
    }
    row.update(claims)
    return row


SUBMISSIONS = {
    # submission: (commune, year, received day of December, households, area claims)
    "a21": ("28249", 2021, 10, [
        household("H1", "P"), household("H2", "P"), household("H3", "N"),
        household("H4", "N"), household("H5", "X"), household("H7", "P"),
        household("H8", "P"),
    ], {}),
    # a first 2022 file, corrected by a22_fix received later: it must not count
    "a22_first": ("28249", 2022, 5, [
        household("H1", "X"), household("H2", "P"), household("H3", "N"), household("H7", "P"),
    ], {}),
    "a22_fix": ("28249", 2022, 15, [
        household("H1", "P"), household("H2", "X"), household("H3", "P"), household("H4", "X"),
        household("H5", "P"), household("H6", "N"), household("H8", "U"),
    ], {}),
    "a23": ("28249", 2023, 10, [
        household("H1", "N"), household("H2", "X"),
        household("H3", "P", gioi_tinh_chu_ho="nu", nguyen_nhan_ngheo="thieu_von;om_dau"),
        household("H4", "P", dan_toc="Khmer", nguyen_nhan_ngheo="thieu_dat"),
        household("H5", "P"), household("H6", "N"), household("H8", "P"), household("H9", "P"),
    ], {}),
    "b22": ("28252", 2022, 10, [household("B1", "P"), household("B2", "N")], {}),
    "b23": ("28252", 2023, 10, [
        household("B1", "N"), household("B2", "N"), household("B3", "X"),
    ], {"so_ho_can_ngheo": 3, "ty_le_ho_can_ngheo": 3.0}),
    "c23": ("28297", 2023, 10, [
        household("C1", "P"), household("C2", "N", claimed="P"),
    ], {"ty_le_ho_ngheo": 1.5}),
}


def _load(conn: psycopg.Connection, load_submission) -> None:
    for submission_id, (commune, year, day, households, claims) in SUBMISSIONS.items():
        load_submission(
            conn, submission_id=submission_id, commune_code=commune, review_year=year,
            received_at=dt.datetime(year, 12, day, tzinfo=dt.UTC),
            areas=[area(households, **claims)], households=households,
        )
    # b23 arrived with an ingest warning of its own; a23 carries a stale reconciliation
    # warning from an earlier run that no longer applies
    conn.execute(
        """
        insert into audit.submission_problems
            (submission_id, severity, sheet, row_number, column_name, value, rule,
             message_vi, message_en)
        values ('b23', 'warning', 'danh_sach_ho', 1, 'cot_la', 'cot_la', 'unknown_column',
                'Cột lạ', 'Unknown column'),
               ('a23', 'warning', 'tong_hop', 2, 'ty_le_ho_ngheo', '9', 'reconcile_poor_rate',
                'cũ', 'stale')
        """
    )
    conn.execute(
        "update audit.submissions set status = 'accepted_with_warnings', warning_count = 1 "
        "where submission_id in ('b23', 'a23')"
    )


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_submission, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        _load(conn, load_submission)
    run_dbt(warehouse_url, tmp_path_factory.mktemp("dbt_target"), "build",
            "--indirect-selection", "cautious", "--select", *MEASURES)
    return warehouse_url



# --- flows -------------------------------------------------------------------------------

FLOW_COLUMNS = (
    "communes_compared", "poor_start", "poor_escaped", "poor_escaped_to_near_poor",
    "near_poor_to_poor", "newly_poor", "re_poor", "poor_left_review", "poor_to_unclassifiable",
    "poor_not_compared", "poor_end", "near_poor_start", "near_poor_escaped", "newly_near_poor",
    "re_near_poor", "near_poor_left_review", "near_poor_not_compared", "near_poor_end",
)


def flows(*values: int) -> dict:
    return dict(zip(FLOW_COLUMNS, values, strict=True))


# Hand-computed from SUBMISSIONS (NĐ07), commune rows, area type total.
EXPECTED_FLOWS = {
    # 2021, the first review: nothing to compare with
    ("28249", 2021): flows(0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, 2, 2),
    # 2022 (the correction): H1 stays poor, H2 escapes, H7 leaves the list, H8 becomes
    # unclassifiable, H3 near-poor → poor, H5 newly poor; H4 escapes near-poverty, H6 is new
    ("28249", 2022): flows(1, 4, 1, 0, 1, 1, 0, 1, 1, 0, 3, 2, 1, 1, 0, 0, 0, 1),
    # 2023: H1 poor → near-poor, H8 (poor in 2021, unclassifiable in 2022) re-poor, H4
    # (near-poor in 2021, never poor) and H9 newly poor
    ("28249", 2023): flows(1, 3, 1, 1, 0, 2, 1, 0, 0, 0, 5, 1, 0, 0, 0, 0, 0, 2),
    ("28252", 2022): flows(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1),
    # B1 poor → near-poor, B2 stays near-poor
    ("28252", 2023): flows(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2),
    ("28297", 2023): flows(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1),
}


@pytest.fixture(scope="module")
def summary(built) -> dict[tuple, dict]:
    rows = dict_rows(built, "select * from marts.rpt_review_summary where standard_code = %s", ND07)
    return {(r["area_level"], r["area_code"], r["review_year"], r["area_type"]): r for r in rows}


@pytest.mark.parametrize(("commune", "year"), EXPECTED_FLOWS, ids=lambda v: str(v))
def test_commune_flows(summary, commune, year):
    row = summary[("commune", commune, year, "total")]
    assert {c: row[c] for c in FLOW_COLUMNS} == EXPECTED_FLOWS[(commune, year)]
    assert summary[("commune", commune, year, RURAL)]["poor_end"] == row["poor_end"]
    assert summary[("commune", commune, year, "thanh_thi")]["total_households"] is None


def test_district_and_province_flows_are_sums_with_rates_from_sums(summary):
    for year, districts in {2022: {"815": ["28249", "28252"]},
                            2023: {"815": ["28249", "28252"], "816": ["28297"]}}.items():
        for district, communes in districts.items():
            row = summary[("district", district, year, "total")]
            for column in FLOW_COLUMNS:
                assert row[column] == sum(EXPECTED_FLOWS[(c, year)][column] for c in communes)
            assert row["total_households"] == 100 * len(communes)
            assert row["poor_rate"] == Decimal(row["poor_end"]) / (100 * len(communes))
    province = summary[("province", "82", 2023, "total")]
    assert (province["poor_end"], province["total_households"]) == (5 + 0 + 1, 300)
    assert province["poor_rate"] == Decimal("0.02")
    assert province["communes_reporting"] == 3 and province["communes_compared"] == 2


def test_flows_follow_the_household_across_the_resubmission(built):
    rows = dict_rows(built, """
        select previous_state, current_state, poverty_flow, near_poverty_flow
          from intermediate.int_household_flows
         where household_key = %s and standard_code = %s and review_year = 2022
    """, household_key("28249", "H1"), ND07)
    # the corrected file says poor; the superseded one said neither
    assert rows == [{"previous_state": "poor", "current_state": "poor",
                     "poverty_flow": "stayed_poor", "near_poverty_flow": None}]


# --- Alkire–Foster ---------------------------------------------------------------------------

def test_alkire_foster_measures(built):
    """28249 in 2023: 5 poor of 100 households (20 of 400 residents), each deprived in the same
    3 of NĐ07's 12 equally weighted indicators."""
    (row,) = dict_rows(built, """
        select * from marts.rpt_alkire_foster_by_area
         where area_level = 'commune' and area_code = '28249' and review_year = 2023
           and standard_code = %s""", ND07)
    assert row["indicator_count"] == 12
    assert row["deprivation_cutoff_share"] == Decimal("0.25")
    assert row["headcount_ratio"] == Decimal("0.05")
    assert row["intensity"] == Decimal("0.25")
    assert row["adjusted_headcount_ratio"] == Decimal("0.0125")
    assert row["headcount_ratio_persons"] == Decimal("0.05")
    assert row["adjusted_headcount_ratio_persons"] == Decimal("0.0125")
    indicators = dict_rows(built, """
        select indicator_code, censored_headcount_ratio, contribution_to_adjusted_headcount
          from marts.rpt_alkire_foster_indicators_by_area
         where area_level = 'commune' and area_code = '28249' and review_year = 2023
           and standard_code = %s""", ND07)
    assert len(indicators) == 12
    deprived = {"bhyt", "chat_luong_nha", "dien_tich_nha"}
    for r in indicators:
        if r["indicator_code"] in deprived:
            assert r["censored_headcount_ratio"] == Decimal("0.05")
            assert r["contribution_to_adjusted_headcount"] == pytest.approx(Decimal(1) / 3)
        else:
            assert (r["censored_headcount_ratio"], r["contribution_to_adjusted_headcount"]) == (0, 0)


# --- who and why -----------------------------------------------------------------------------

def test_household_profiles(built):
    rows = dict_rows(built, """
        select characteristic_type, characteristic_code, poor_households, near_poor_households,
               share_of_poor_households
          from marts.rpt_household_profiles_by_area
         where area_level = 'commune' and area_code = '28249' and review_year = 2023
           and standard_code = %s""", ND07)
    profile = {(r["characteristic_type"], r["characteristic_code"]): r for r in rows}
    poor = {key: r["poor_households"] for key, r in profile.items()}
    assert poor[("special_group", "chu_ho_nu")] == 1  # H3
    assert poor[("special_group", "chu_ho_dan_toc_thieu_so")] == 1  # H4, Khmer
    assert poor[("poverty_cause", "thieu_von")] == 1  # H3
    assert poor[("poverty_cause", "om_dau")] == 1  # H3
    assert poor[("poverty_cause", "thieu_dat")] == 1  # H4
    # no cause recorded for H5, H8, H9 nor for the near-poor H1, H6; no need for anyone
    no_cause = profile[("poverty_cause", "khong_ghi_nhan")]
    assert (no_cause["poor_households"], no_cause["near_poor_households"]) == (3, 2)
    assert no_cause["share_of_poor_households"] == Decimal("0.6")
    assert poor[("support_need", "khong_ghi_nhan")] == 5


# --- reconciliation --------------------------------------------------------------------------

EXPECTED_DISCREPANCIES = [
    ("b23", "tong_hop", 2, "so_ho_can_ngheo", "3", "reconcile_near_poor_count",
     "Số hộ cận nghèo 3 của khu vực nong_thon khác với số hộ được xã phân loại là hộ cận nghèo "
     "trong danh sách hộ (2 hộ).",
     "The 3 near-poor households stated for area nong_thon differ from the households the "
     "commune classified as near-poor in its household list (2)."),
    ("c23", "danh_sach_ho", 3, "phan_loai_cua_xa", "ngheo", "reconcile_household_classification",
     "Xã phân loại hộ là 'ngheo', nhưng tính lại theo chuẩn ND07_2022_2025 từ thu nhập và các "
     "chỉ số thiếu hụt đã khai thì hộ là 'can_ngheo'.",
     "The commune classified the household as 'ngheo', but recomputed under ND07_2022_2025 from "
     "the income and deprivation flags it reported the household is 'can_ngheo'."),
    ("c23", "tong_hop", 2, "ty_le_ho_ngheo", "1.5", "reconcile_poor_rate",
     "Tỷ lệ hộ nghèo 1,5% của khu vực nong_thon không khớp với số hộ nghèo 2 trên tổng số hộ 100 "
     "(= 2,00% khi làm tròn 2 chữ số thập phân).",
     "The poor rate 1.5% of area nong_thon does not match 2 poor households of 100 resident "
     "households (= 2.00% rounded to 2 decimals)."),
]

PROBLEMS_SQL = """
    select submission_id, sheet, row_number, column_name, value, rule, message_vi, message_en
      from audit.submission_problems
     where rule like 'reconcile%%' order by submission_id, sheet, row_number, rule
"""


def _tuples(rows: list[dict]) -> list[tuple]:
    keys = ("submission_id", "sheet", "row_number", "column_name", "value", "rule", "message_vi",
            "message_en")
    return [tuple(r[k] for k in keys) for r in rows]


def test_discrepancies_mart_lists_exactly_the_expected_warnings(built):
    rows = dict_rows(built, """
        select * from marts.rpt_submission_discrepancies
         order by submission_id, sheet, row_number, rule""")
    assert _tuples(rows) == EXPECTED_DISCREPANCIES
    assert {r["severity"] for r in rows} == {"warning"}


def test_commune_reconciliation_mart(built):
    rows = dict_rows(built, "select * from marts.rpt_commune_reconciliation")
    by_submission = {r["submission_id"]: r for r in rows}
    # current periodic reviews only: a22_first was corrected by a22_fix
    assert set(by_submission) == {"a21", "a22_fix", "a23", "b22", "b23", "c23"}
    c23 = by_submission["c23"]
    assert (c23["reported_poor_households"], c23["listed_poor_households"],
            c23["recomputed_poor_households"], c23["recomputed_near_poor_households"]) == (2, 2, 1, 1)
    assert (c23["rate_discrepancies"], c23["count_discrepancies"],
            c23["classification_discrepancies"], c23["households_classified_differently"]) == (
        1, 0, 1, 1)
    assert by_submission["b23"]["count_discrepancies"] == 1
    assert not by_submission["a23"]["has_discrepancies"]


def _statuses(url: str) -> dict[str, tuple[str, int]]:
    rows = dict_rows(url, "select submission_id, status, warning_count from audit.submissions")
    return {r["submission_id"]: (r["status"], r["warning_count"]) for r in rows}


def test_reconciliation_is_recorded_as_warnings_idempotently(built):
    with psycopg.connect(built) as conn:
        first = record_reconciliation(conn)
    problems = dict_rows(built, PROBLEMS_SQL)
    statuses = _statuses(built)
    assert _tuples(problems) == EXPECTED_DISCREPANCIES
    assert first.submissions_checked == 6
    assert first.warnings_deleted == 1  # a23's stale warning
    assert first.warnings_written == 3
    assert first.submissions_with_warnings == 2
    assert statuses["c23"] == ("accepted_with_warnings", 2)
    assert statuses["b23"] == ("accepted_with_warnings", 2)  # its ingest warning is kept
    assert statuses["a23"] == ("accepted", 0)  # the stale warning is gone
    assert statuses["a22_first"] == ("accepted", 0)  # not a current review: untouched
    assert dict_rows(built, "select count(*) as n from audit.submission_problems "
                            "where rule = 'unknown_column'") == [{"n": 1}]

    with psycopg.connect(built) as conn:
        second = record_reconciliation(conn)
    assert _tuples(dict_rows(built, PROBLEMS_SQL)) == _tuples(problems)
    assert _statuses(built) == statuses
    assert (second.warnings_deleted, second.warnings_written, second.submissions_updated) == (
        3, 3, 0)


# --- targets ---------------------------------------------------------------------------------

def test_target_progress_reads_the_province_rates(built):
    rows = dict_rows(built, "select * from marts.rpt_target_progress order by target_code, review_year")
    by_key = {(r["target_code"], r["review_year"]): r for r in rows}
    assert set(by_key) == {
        ("plan24_qd59_poor_rate", 2021), ("plan24_qd59_poor_rate", 2022),
        ("plan24_qd59_poor_rate", 2023), ("ntp_poor_rate_annual_fall", 2022),
        ("ntp_poor_rate_annual_fall", 2023), ("ntp_poor_near_poor_halved", 2021),
        ("ntp_poor_near_poor_halved", 2022), ("ntp_poor_near_poor_halved", 2023),
    }
    # NĐ07 province: 2022 3 + 1 poor of 200, 2023 6 of 300 → a fall of 2.0 − 2.0 = 0 pp
    fall = by_key[("ntp_poor_rate_annual_fall", 2023)]
    assert (fall["standard_code"], fall["actual_value"], fall["is_on_track"]) == (ND07, 0, False)
    halved = by_key[("ntp_poor_near_poor_halved", 2023)]
    # base 2021: 4 poor + 2 near-poor; 2023: 6 poor + 5 near-poor
    assert (halved["base_value"], halved["target_value"], halved["actual_value"]) == (6, 3, 11)
    plan = by_key[("plan24_qd59_poor_rate", 2023)]
    assert plan["standard_code"] == QD59 and plan["target_value"] == 1


# --- the official summary table as .xlsx -----------------------------------------------------

def test_review_summary_workbooks(built, tmp_path):
    from python_calamine import CalamineWorkbook

    from poverty_pipeline.reporting.review_report import export_review_summaries

    with psycopg.connect(built) as conn:
        written = export_review_summaries(conn, tmp_path.as_uri())
    folder = tmp_path / "_reports" / "review_summary"
    assert sorted(p.name for p in folder.iterdir()) == ["2021.xlsx", "2022.xlsx", "2023.xlsx"]
    assert len(written) == 3

    rows = CalamineWorkbook.from_path(str(folder / "2023.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "BẢNG TỔNG HỢP KẾT QUẢ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2023"
    assert rows[1][0].endswith("chuẩn nghèo theo Nghị định 07/2021/NĐ-CP (2022–2025)")
    assert rows[4][:7] == ["STT", "Mã đơn vị", "Tên đơn vị", "Cấp", "Khu vực",
                           "Tổng số hộ dân cư", "Hộ nghèo"]
    assert rows[5][6:17] == [
        "Số hộ nghèo đầu năm", "Số hộ nghèo năm trước của địa bàn không rà soát năm nay",
        "Số hộ thoát nghèo", "Số hộ tái nghèo",
        "Số hộ nghèo phát sinh mới", "Số hộ cận nghèo chuyển thành hộ nghèo",
        "Số hộ nghèo không còn trong danh sách rà soát", "Số hộ nghèo không phân loại được",
        "Số hộ nghèo chưa đối chiếu được với năm trước", "Số hộ nghèo cuối năm",
        "Tỷ lệ hộ nghèo cuối năm (%)",
    ]
    data = [r for r in rows[7:] if r[1]]
    # province first (urban, rural, total), then district 815 and its communes, then 816
    assert [(r[1], r[4]) for r in data[:3]] == [
        ("82", "Thành thị"), ("82", "Nông thôn"), ("82", "Tổng cộng")]
    assert [r[1] for r in data[3::3]] == ["815", "28249", "28252", "816", "28297"]
    commune = next(r for r in data if r[1] == "28249" and r[4] == "Tổng cộng")
    assert commune[2:4] == ["Phường 5", "Xã"]
    # total; poor: start, not reviewed, escaped, re-poor, newly, from near-poor, left,
    # unclassifiable, not compared, end, rate
    assert commune[5:17] == [100, 3, 0, 1, 1, 2, 0, 0, 0, 0, 5, pytest.approx(0.05)]
