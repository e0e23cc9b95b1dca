"""Every household counted once and in the right place, on hand-written households whose
flows are computed by hand below (NĐ07; P poor, N near-poor, X neither, U unclassifiable):

District 815 (Mỹ Tho), whose units merged on 1 Jul 2025:
- Phường 5 (28249) reviews 2022–2024 and sends no 2025 review: its 2024 households are not
  reviewed in 2025;
- Phường 4 (28252) reviews 2022–2024 and, in 2025, under its code closed on 1 Jul 2025, alone
  for the unit that took it in (Phường Đạo Thạnh, 28249): its households count there, and the
  two poor households gone from its list have left the review (not dropped);
- Phường 3 (28258, closed on 1 Nov 2024) reviews 2023; Phường 2 (28264) lists its households
  as ``28258-…`` in 2024; in 2025 Phường 2 reports under its closed code *beside* its
  successor Phường Mỹ Tho (28261), whose own review lists the same households: each counts
  once, from the successor's review, and Phường 2's file gets a warning per duplicate.

District 816 (Gò Công):
- Phường 2 (28297) reviews 2022, skips 2023, reviews 2024 and 2025: its households are not
  reviewed in 2023, and its 2024 review is not compared;
- Phường 5 (28306) reviews 2022–2025, with the re-poverty histories G1–G8.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from support.databases import dict_rows
from test_poverty_measures import area, household

from poverty_pipeline.quality.reconcile import record_reconciliation
from poverty_pipeline.warehouse.pii import household_key

ND07 = "ND07_2022_2025"
H = household

# submission id → (code sent under, year, received day of December, households, tong_so_ho)
SUBMISSIONS = {
    "p5_22": ("28249", 2022, 20, [H("A1", "P"), H("A2", "N"), H("A3", "X")], 100),
    "p5_23": ("28249", 2023, 20, [H("A1", "P"), H("A2", "N"), H("A3", "X")], 100),
    "p5_24": ("28249", 2024, 20, [H("A1", "P"), H("A2", "P"), H("A3", "X")], 100),
    "p4_22": ("28252", 2022, 20, [H("B1", "P"), H("B2", "P"), H("B3", "N")], 100),
    "p4_23": ("28252", 2023, 20, [H("B1", "P"), H("B2", "P"), H("B3", "N")], 100),
    "p4_24": ("28252", 2024, 20, [H("B1", "P"), H("B2", "P"), H("B3", "N"), H("B4", "P")], 100),
    # closed on 1 Jul 2025, reporting alone for Phường Đạo Thạnh (28249)
    "p4_25": ("28252", 2025, 20, [H("B1", "P"), H("B3", "P"), H("B5", "N")], 100),
    "p3_23": ("28258", 2023, 20, [H("C1", "P"), H("C2", "N")], 100),
    "p2_23": ("28264", 2023, 20, [H("D1", "P"), H("D2", "X")], 100),
    "p2_24": ("28264", 2024, 20, [H("D1", "P"), H("D2", "N"), H("28258-C1", "P"),
                                  H("28258-C2", "X")], 200),
    "p1_24": ("28261", 2024, 20, [H("E1", "P")], 100),
    # Phường Mỹ Tho's own review, covering Phường 1, 2 and 3 …
    "p1_25": ("28261", 2025, 20, [H("E1", "N"), H("28264-D1", "P"), H("28264-D2", "N"),
                                  H("28258-C1", "P"), H("28258-C2", "X")], 300),
    # … and Phường 2 under its closed code, received later, listing the same households
    # (D1 as near-poor: it still counts once, poor, from the successor's review)
    "p2_25": ("28264", 2025, 25, [H("D1", "N"), H("D2", "N"), H("28258-C1", "P"),
                                  H("28258-C2", "X")], 120),
    "g2_22": ("28297", 2022, 20, [H("F1", "P"), H("F2", "N")], 100),
    "g2_24": ("28297", 2024, 20, [H("F1", "P"), H("F2", "N")], 100),
    "g2_25": ("28297", 2025, 20, [H("F1", "X"), H("F2", "N")], 100),
    "g5_22": ("28306", 2022, 20, [H("G2", "P"), H("G3", "P"), H("G4", "P"), H("G5", "P"),
                                  H("G6", "N"), H("G7", "N"), H("G8", "P"), H("H1", "P")], 100),
    "g5_23": ("28306", 2023, 20, [H("G1", "N"), H("G2", "N"), H("G3", "X"), H("G5", "U"),
                                  H("G6", "U"), H("G7", "X"), H("G8", "X"), H("H1", "P")], 100),
    "g5_24": ("28306", 2024, 20, [H("G2", "P"), H("G3", "P"), H("G4", "P"), H("G5", "P"),
                                  H("G6", "P"), H("G7", "N"), H("G8", "N"), H("H1", "P")], 100),
    "g5_25": ("28306", 2025, 20, [H("G1", "P"), H("G2", "P"), H("G3", "P"), H("G4", "P"),
                                  H("G5", "P"), H("G6", "P"), H("G7", "N"), H("G8", "N"),
                                  H("H1", "P")], 100),
}


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_submission, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        for submission_id, (code, year, day, households, total) in SUBMISSIONS.items():
            load_submission(
                conn, submission_id=submission_id, commune_code=code, review_year=year,
                received_at=dt.datetime(year, 12, day, tzinfo=dt.UTC),
                areas=[area(households, total=total)], households=households,
            )
    # every model and every dbt test (unique keys, identities) must pass on this input
    run_dbt(warehouse_url, tmp_path_factory.mktemp("dbt_target"), "build",
            "--exclude", "stg_agency_reports__activities+")
    return warehouse_url


@pytest.fixture(scope="module")
def summary(built) -> dict[tuple, dict]:
    rows = dict_rows(built, "select * from marts.rpt_review_summary "
                            "where standard_code = %s and area_type = 'total'", ND07)
    return {(r["area_level"], r["area_code"], r["review_year"]): r for r in rows}


def _flow(url: str, code: str, ma_ho: str, year: int) -> tuple:
    (row,) = dict_rows(url, """
        select commune_code, previous_state, current_state, poverty_flow, near_poverty_flow
          from intermediate.int_household_flows
         where household_key = %s and review_year = %s and standard_code = %s""",
                       household_key(code, ma_ho), year, ND07)
    return tuple(row.values())


# --- re-poverty -------------------------------------------------------------------------------

@pytest.mark.parametrize(("ma_ho", "year", "expected"), [
    # near-poor 2023 → off the list 2024 → poor 2025: never poor before, so newly poor
    ("G1", 2025, ("28306", "absent", "poor", "newly_poor", None)),
    # poor 2022 → near-poor 2023 → poor 2024: near-poor → poor comes first
    ("G2", 2024, ("28306", "near_poor", "poor", "near_poor_to_poor", "near_poor_to_poor")),
    # poor 2022 → neither 2023 → poor 2024: re-poor
    ("G3", 2024, ("28306", "neither", "poor", "re_poor", None)),
    # poor 2022 → off the list 2023 → poor 2024: re-poor after a year off the list
    ("G4", 2023, ("28306", "poor", "absent", "poor_left_review", None)),
    ("G4", 2024, ("28306", "absent", "poor", "re_poor", None)),
    # poor 2022 → unclassifiable 2023 → poor 2024: re-poor after an unclassifiable year …
    ("G5", 2024, ("28306", "unclassifiable", "poor", "re_poor", None)),
    # … but near-poor 2022 → unclassifiable 2023 → poor 2024 was never poor: newly poor
    ("G6", 2024, ("28306", "unclassifiable", "poor", "newly_poor", None)),
    # near-poor 2022 → neither 2023 → near-poor 2024: re-near-poor
    ("G7", 2024, ("28306", "neither", "near_poor", None, "re_near_poor")),
    # poor 2022 → neither 2023 → near-poor 2024: never near-poor before, newly near-poor
    ("G8", 2024, ("28306", "neither", "near_poor", None, "newly_near_poor")),
])
def test_re_poor_needs_an_earlier_poor_year(built, ma_ho, year, expected):
    assert _flow(built, "28306", ma_ho, year) == expected


def test_re_poverty_counts_in_the_review_summary(summary):
    row = summary[("commune", "28306", 2024)]
    # G2 from near-poor; G3, G4, G5 re-poor; G6 newly poor; H1 stayed
    assert (row["poor_start"], row["near_poor_to_poor"], row["re_poor"], row["newly_poor"],
            row["poor_end"]) == (1, 1, 3, 1, 6)
    # G1 left, G2 to poor; G7 re-near-poor, G8 newly near-poor
    assert (row["near_poor_start"], row["near_poor_left_review"], row["re_near_poor"],
            row["newly_near_poor"], row["near_poor_end"]) == (2, 1, 1, 1, 2)
    assert (summary[("commune", "28306", 2025)]["newly_poor"],
            summary[("commune", "28306", 2025)]["re_poor"]) == (1, 0)


# --- a closed code reporting after the 2025 merger --------------------------------------------

def test_a_closed_code_reporting_alone_counts_for_its_successor(built, summary):
    """Phường 4 (28252) sends the only 2025 review of Phường Đạo Thạnh (28249)."""
    (fact,) = dict_rows(built, """
        select commune_code, review_commune_code, submitted_commune_codes, submission_count,
               total_households, poor_households, near_poor_households
          from marts.fct_poverty_indicators
         where review_year = 2025 and standard_code = %s and commune_code in ('28249', '28252')
    """, ND07)
    assert fact == {"commune_code": "28249", "review_commune_code": "28249",
                    "submitted_commune_codes": "28252", "submission_count": 1,
                    "total_households": 100, "poor_households": 2, "near_poor_households": 1}
    row = summary[("commune", "28249", 2025)]
    assert row["area_name"] == "Phường Đạo Thạnh"
    # poor of 2024 on the reviewed territory: B1, B2, B4 (Phường 4); B2 and B4 left the
    # review and are not dropped; B3 near-poor → poor; A1, A2 (Phường 5, no review) not reviewed
    assert (row["communes_reporting"], row["communes_compared"], row["poor_start"],
            row["poor_left_review"], row["near_poor_to_poor"], row["poor_not_reviewed"],
            row["poor_end"]) == (1, 1, 3, 2, 1, 2, 2)
    assert (row["near_poor_start"], row["newly_near_poor"], row["near_poor_end"]) == (1, 1, 1)
    assert _flow(built, "28252", "B2", 2025) == ("28249", "poor", "absent", "poor_left_review", None)
    assert _flow(built, "28249", "A1", 2025) == ("28249", "poor", "not_reviewed",
                                                  "poor_not_reviewed", None)
    assert ("commune", "28252", 2025) not in summary


def test_a_closed_code_beside_its_successor_counts_each_household_once(built, summary):
    """Phường 2 (28264) and Phường Mỹ Tho (28261) both list Phường 2's and Phường 3's
    households in 2025: they count once, from Phường Mỹ Tho's own review, with its class
    (D1 poor, although Phường 2 lists it near-poor), and Phường 2's residents are not added."""
    (fact,) = dict_rows(built, """
        select submission_id, submitted_commune_codes, submission_count, total_households,
               reviewed_households, poor_households, near_poor_households
          from marts.fct_poverty_indicators
         where review_year = 2025 and standard_code = %s and commune_code = '28261'
    """, ND07)
    assert fact == {"submission_id": "p1_25", "submitted_commune_codes": "28261, 28264",
                    "submission_count": 2, "total_households": 300, "reviewed_households": 5,
                    "poor_households": 2, "near_poor_households": 2}
    row = summary[("commune", "28261", 2025)]
    assert (row["communes_reporting"], row["poor_start"], row["poor_escaped"], row["poor_end"],
            row["near_poor_start"], row["near_poor_end"]) == (1, 3, 1, 2, 1, 2)
    assert _flow(built, "28264", "D1", 2025) == ("28261", "poor", "poor", "stayed_poor", None)
    keys = dict_rows(built, """
        select household_key, count(*) as n from intermediate.int_households_classified
         where review_year = 2025 and standard_code = %s group by household_key having count(*) > 1
    """, ND07)
    assert keys == []


def test_the_duplicating_submission_gets_a_warning_per_household(built):
    expected = [
        # Phường 2's row → the row of Phường Mỹ Tho's list it counts from
        ("p2_25", 2, "28261", "3"), ("p2_25", 3, "28261", "4"),
        ("p2_25", 4, "28261", "5"), ("p2_25", 5, "28261", "6"),
    ]
    rows = dict_rows(built, """
        select submission_id, row_number, value, expected_value, message_vi, message_en
          from marts.rpt_submission_discrepancies
         where rule = 'reconcile_duplicate_household' order by submission_id, row_number""")
    assert [(r["submission_id"], r["row_number"], r["expected_value"],
             r["message_en"].split("(row ")[1].split(")")[0]) for r in rows] == expected
    assert rows[0]["message_vi"] == (
        "Hộ ở dòng này cũng có trong danh sách hộ rà soát năm 2025 gửi dưới mã xã 28261 (dòng 3): "
        "cùng một hộ theo mã hộ và mã xã cũ. Hộ chỉ được tính một lần, theo dòng đó; xin bỏ hộ "
        "khỏi một trong hai danh sách.")
    with psycopg.connect(built) as conn:
        record_reconciliation(conn)
    recorded = dict_rows(built, """
        select p.submission_id, p.row_number, p.severity, s.status
          from audit.submission_problems p join audit.submissions s using (submission_id)
         where p.rule = 'reconcile_duplicate_household' order by p.row_number""")
    assert [(r["submission_id"], r["row_number"], r["severity"], r["status"]) for r in recorded] == [
        ("p2_25", n, "warning", "accepted_with_warnings") for n in (2, 3, 4, 5)]


def test_communes_reporting_counts_units_and_submissions_are_counted_apart(built):
    (province,) = dict_rows(built, """
        select area_name, communes_reporting, submissions_reporting, poor_households
          from marts.rpt_poverty_indicators_by_area
         where area_level = 'province' and review_year = 2025 and standard_code = %s""", ND07)
    # Phường Đạo Thạnh (1 file), Phường Mỹ Tho (2), Phường Long Thuận (1), Phường Gò Công (1)
    assert province == {"area_name": "Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp",
                        "communes_reporting": 4, "submissions_reporting": 5,
                        "poor_households": 2 + 2 + 0 + 7}
    (before,) = dict_rows(built, """
        select area_name from marts.rpt_poverty_indicators_by_area
         where area_level = 'province' and review_year = 2024 and standard_code = %s""", ND07)
    assert before["area_name"] == "Tỉnh Tiền Giang"


# --- a commune skipping a year ------------------------------------------------------------------

def test_a_commune_skipping_a_year_has_its_households_not_reviewed(built, summary):
    skipped = summary[("commune", "28297", 2023)]
    assert (skipped["communes_reporting"], skipped["poor_start"], skipped["poor_not_reviewed"],
            skipped["near_poor_not_reviewed"], skipped["poor_end"]) == (0, 0, 1, 1, 0)
    district = summary[("district", "816", 2023)]
    # end of 2022 in district 816: F1 + six of Phường 5 = 7 poor, F2 + G6 + G7 = 3 near-poor
    assert (district["communes_reporting"], district["poor_start"], district["poor_not_reviewed"],
            district["near_poor_start"], district["near_poor_not_reviewed"]) == (1, 6, 1, 2, 1)
    back = summary[("commune", "28297", 2024)]
    assert (back["communes_compared"], back["poor_not_compared"], back["near_poor_not_compared"]) == (
        0, 1, 1)


# hand-computed poor / near-poor at the end of each year and start + not reviewed the next
PROVINCE = {
    2022: {"end": (10, 5)},
    2023: {"start": (9, 4), "not_reviewed": (1, 1), "end": (6, 5)},
    2024: {"start": (6, 5), "not_reviewed": (0, 0), "end": (15, 5)},
    # 13, not 11: Phường 4's two poor households that left its list count at the start
    2025: {"start": (13, 5), "not_reviewed": (2, 0), "end": (11, 6)},
}


@pytest.mark.parametrize("year", PROVINCE)
def test_province_start_and_not_reviewed_by_hand(summary, year):
    row = summary[("province", "82", year)]
    expected = PROVINCE[year]
    assert (row["poor_end"], row["near_poor_end"]) == expected["end"]
    if "start" in expected:
        assert (row["poor_start"], row["near_poor_start"]) == expected["start"]
        assert (row["poor_not_reviewed"], row["near_poor_not_reviewed"]) == expected["not_reviewed"]


@pytest.mark.parametrize(("level", "code", "year", "territory_before"), [
    ("commune", "28249", 2025, [("commune", "28249"), ("commune", "28252")]),
    ("commune", "28261", 2025, [("commune", "28261"), ("commune", "28264")]),
    ("commune", "28264", 2024, [("commune", "28264"), ("commune", "28258")]),
    ("commune", "28297", 2023, [("commune", "28297")]),
    ("district", "815", 2023, [("district", "815")]),
    ("district", "815", 2024, [("district", "815")]),
    ("district", "816", 2023, [("district", "816")]),
    ("district", "816", 2024, [("district", "816")]),
    ("province", "82", 2023, [("province", "82")]),
    ("province", "82", 2025, [("province", "82")]),
    ("current_commune", "28249", 2025, [("current_commune", "28249")]),
    ("current_commune", "28297", 2023, [("current_commune", "28297")]),
    ("current_commune", "28261", 2025, [("current_commune", "28261")]),
])
def test_start_plus_not_reviewed_is_the_end_of_the_year_before(summary, level, code, year,
                                                              territory_before):
    row = summary[(level, code, year)]
    before = [summary[(lv, c, year - 1)] for lv, c in territory_before]
    assert row["poor_start"] + row["poor_not_reviewed"] == sum(r["poor_end"] for r in before)
    assert row["near_poor_start"] + row["near_poor_not_reviewed"] == sum(
        r["near_poor_end"] for r in before)


def test_the_continuity_check_covers_every_level(built):
    rows = dict_rows(built, """
        select area_level, count(*) as checked, count(*) filter (where found <> expected) as broken
          from quality.qc_flow_continuity group by area_level order by area_level""")
    assert {r["area_level"]: (r["broken"]) for r in rows} == {
        "commune": 0, "current_commune": 0, "district": 0, "province": 0}
    assert all(r["checked"] > 0 for r in rows)


def test_district_rows_exist_for_the_years_districts_existed(summary):
    assert {year for level, _, year in summary if level == "district"} == {2022, 2023, 2024}
    assert summary[("province", "82", 2025)]["area_name"] == "Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp"
    assert summary[("commune", "28249", 2025)]["parent_area_code"] == "82"
    assert isinstance(summary[("province", "82", 2025)]["poor_rate"], Decimal)
