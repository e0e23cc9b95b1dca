"""The poverty measures on generated submissions (``poverty_pipeline.samples``): four communes
of two districts, review years 2021–2023, loaded as the loader records them, then
``dbt build``.

The generator simulates a household panel and notes each household's flow in ``ghi_chu``
("Thoát nghèo", "Thoát cận nghèo", "Tái nghèo", "Phát sinh nghèo", "Hộ mới tách hộ"), and
its lists are consistent with NĐ07, so the flows of ``rpt_review_summary`` can be checked
against that ground truth; an independent Python recomputation of the flows from the
classified households checks them under every standard; the flow identity and the rollups
(districts and province = sums of their communes) are checked on every row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import psycopg
import pytest
from support.databases import dict_rows

COMMUNES = ["28249", "28252", "28360", "28363"]  # two of TP Mỹ Tho (815), two of Cái Bè (819)
YEARS = range(2021, 2024)
ND07 = "ND07_2022_2025"
# the measure marts with everything they are built from (and their tests)
MEASURES = (
    "+rpt_review_summary", "+rpt_alkire_foster_by_area", "+rpt_household_profiles_by_area",
    "+rpt_commune_reconciliation", "+rpt_submission_discrepancies", "+rpt_target_progress",
)


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_generated, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        load_generated(conn, YEARS, COMMUNES)
    run_dbt(warehouse_url, tmp_path_factory.mktemp("dbt_target"), "build",
            "--indirect-selection", "cautious", "--select", *MEASURES)
    return warehouse_url



@pytest.fixture(scope="module")
def summary(built) -> list[dict]:
    return dict_rows(built, "select * from marts.rpt_review_summary")


def test_flows_match_the_generators_notes(built, summary):
    notes = dict_rows(built, """
        select i.ma_xa as commune_code, i.nam_ra_soat as review_year, h.ghi_chu,
               h.phan_loai_cua_xa
          from raw.commune_households h join raw.commune_submission_info i using (submission_id)
         where i.nam_ra_soat > %s""", min(YEARS))
    truth: dict[tuple, Counter] = defaultdict(Counter)
    for n in notes:
        key = (n["commune_code"], n["review_year"])
        note = n["ghi_chu"]
        if note == "Hộ mới tách hộ" and n["phan_loai_cua_xa"] == "ngheo":
            note = "Phát sinh nghèo"  # a new household that is poor is newly poor
        truth[key][note] += 1
    rows = {(r["area_code"], r["review_year"]): r for r in summary
            if r["area_level"] == "commune" and r["area_type"] == "total"
            and r["standard_code"] == ND07 and r["review_year"] > min(YEARS)}
    assert set(rows) == {(c, y) for c in COMMUNES for y in YEARS if y > min(YEARS)}
    for key, row in rows.items():
        expected = truth[key]
        assert row["poor_escaped"] == expected["Thoát nghèo"], key
        assert row["near_poor_escaped"] == expected["Thoát cận nghèo"], key
        assert row["re_poor"] == expected["Tái nghèo"], key
        assert row["newly_poor"] == expected["Phát sinh nghèo"], key
    assert sum(r["poor_escaped"] for r in rows.values()) > 0


POOR, NEAR = "poor", "near_poor"


def _python_flows(classified: list[dict], reviews: set[tuple]) -> dict[tuple, Counter]:
    """Flows per (commune, year, standard) from the classified households, written
    independently of the SQL: re-poor needs a poor year before t−1, re-near-poor a near-poor
    one; the rest is newly poor / near-poor."""
    history: dict[tuple, dict[int, str]] = defaultdict(dict)
    commune_of = {}
    for r in classified:
        history[(r["household_key"], r["standard_code"])][r["review_year"]] = (
            r["classification"] or "unclassifiable")
        commune_of[r["household_key"]] = r["commune_code"]
    out: dict[tuple, Counter] = defaultdict(Counter)
    for (household, standard), states in history.items():
        commune = commune_of[household]
        years = set(states) | {y + 1 for y in states}
        for year in years:
            if (commune, year) not in reviews:
                continue
            now, before = states.get(year, "absent"), states.get(year - 1, "absent")
            counts = out[(commune, year, standard)]
            if (commune, year - 1) not in reviews:
                counts["poor_not_compared"] += now == POOR
                counts["near_poor_not_compared"] += now == NEAR
                continue
            # an earlier review: before t−1
            poor_earlier = any(s == POOR for y, s in states.items() if y < year - 1)
            near_earlier = any(s == NEAR for y, s in states.items() if y < year - 1)
            counts["poor_start"] += before == POOR
            counts["near_poor_start"] += before == NEAR
            if before == POOR and now != POOR:
                flow = {NEAR: "poor_escaped", "neither": "poor_escaped",
                        "absent": "poor_left_review", "unclassifiable": "poor_to_unclassifiable"}
                counts[flow[now]] += 1
            if before == NEAR and now != NEAR:
                flow = {POOR: "near_poor_to_poor", "neither": "near_poor_escaped",
                        "absent": "near_poor_left_review",
                        "unclassifiable": "near_poor_to_unclassifiable"}
                counts[flow[now]] += 1
            if now == POOR and before not in (POOR, NEAR):
                counts["re_poor" if poor_earlier else "newly_poor"] += 1
            if now == NEAR and before not in (POOR, NEAR):
                counts["re_near_poor" if near_earlier else "newly_near_poor"] += 1
            counts["poor_escaped_to_near_poor"] += before == POOR and now == NEAR
    return out


FLOW_COLUMNS = (
    "poor_start", "poor_escaped", "poor_escaped_to_near_poor", "near_poor_to_poor", "newly_poor",
    "re_poor", "poor_left_review", "poor_to_unclassifiable", "poor_not_compared",
    "near_poor_start", "near_poor_escaped", "newly_near_poor", "re_near_poor",
    "near_poor_left_review", "near_poor_to_unclassifiable", "near_poor_not_compared",
)


def test_flows_equal_an_independent_recomputation(built, summary):
    classified = dict_rows(built, """
        select household_key, review_year, standard_code, commune_code, classification
          from intermediate.int_households_classified""")
    reviews = {(r["commune_code"], r["review_year"]) for r in dict_rows(
        built, "select commune_code, review_year from intermediate.int_commune_reviews_current")}
    expected = _python_flows(classified, reviews)
    rows = [r for r in summary if r["area_level"] == "commune" and r["area_type"] == "total"]
    assert len(rows) == len(COMMUNES) * len(YEARS) * 3
    for row in rows:
        counts = expected[(row["area_code"], row["review_year"], row["standard_code"])]
        actual = {c: row[c] for c in FLOW_COLUMNS}
        assert actual == {c: counts[c] for c in FLOW_COLUMNS}, (row["area_code"], row["review_year"])


def test_flow_identity_holds_on_every_row(summary):
    assert summary
    for r in summary:
        assert r["poor_end"] == (
            r["poor_start"] - r["poor_escaped"] - r["poor_left_review"]
            - r["poor_to_unclassifiable"] + r["near_poor_to_poor"] + r["newly_poor"]
            + r["re_poor"] + r["poor_not_compared"]
        )
        assert r["near_poor_end"] == (
            r["near_poor_start"] - r["near_poor_escaped"] - r["near_poor_to_poor"]
            - r["near_poor_left_review"] - r["near_poor_to_unclassifiable"]
            + r["poor_escaped_to_near_poor"] + r["newly_near_poor"] + r["re_near_poor"]
            + r["near_poor_not_compared"]
        )


ROLLUPS = {
    "rpt_review_summary": (("area_type",), (
        "total_households", "communes_compared", *FLOW_COLUMNS, "poor_end", "near_poor_end")),
    "rpt_alkire_foster_indicators_by_area": (("indicator_code",), (
        "total_households", "total_members", "poor_households", "poor_deprived_households",
        "poor_deprived_members", "near_poor_deprived_households")),
    "rpt_household_profiles_by_area": (("characteristic_type", "characteristic_code"), (
        "all_poor_households", "poor_households", "near_poor_households", "poor_members")),
}


@pytest.mark.parametrize("mart", ROLLUPS)
def test_district_and_province_rows_are_sums_of_their_communes(built, mart):
    keys, sums = ROLLUPS[mart]
    rows = dict_rows(built, f"select * from marts.{mart}")
    areas = {(r["commune_code"], r["review_year"]): r for r in dict_rows(
        built, "select distinct commune_code, review_year, district_code, current_commune_code "
               "from marts.fct_poverty_indicators")}
    assert {a["district_code"] for a in areas.values()} == {"815", "819"}
    expected: dict[tuple, Counter] = defaultdict(Counter)
    for r in rows:
        if r["area_level"] != "commune":
            continue
        key = (r["review_year"], r["standard_code"], *(r[k] for k in keys))
        area = areas[(r["area_code"], r["review_year"])]
        for level, code in (("district", area["district_code"]), ("province", "82"),
                            ("current_commune", area["current_commune_code"])):
            for column in sums:
                expected[(level, code, *key)][column] += r[column] or 0
    actual = {(r["area_level"], r["area_code"], r["review_year"], r["standard_code"],
               *(r[k] for k in keys)): r for r in rows if r["area_level"] != "commune"}
    assert set(actual) == set(expected)
    for key, figures in expected.items():
        assert {c: actual[key][c] or 0 for c in sums} == dict(figures), key


def test_alkire_foster_measures_are_consistent(built):
    headline = dict_rows(built, "select * from marts.rpt_alkire_foster_by_area")
    indicators = dict_rows(built, "select * from marts.rpt_alkire_foster_indicators_by_area")
    by_area = defaultdict(list)
    for r in indicators:
        by_area[(r["area_level"], r["area_code"], r["review_year"], r["standard_code"])].append(r)
    poor_seen = False
    for h in headline:
        rows = by_area[(h["area_level"], h["area_code"], h["review_year"], h["standard_code"])]
        assert len(rows) == h["indicator_count"]
        # M0 = Σ_j w_j·h_j, and M0 = H × A
        m0 = sum(r["indicator_weight"] * r["censored_headcount_ratio"] for r in rows)
        assert float(h["adjusted_headcount_ratio"]) == pytest.approx(float(m0), abs=1e-15)
        if h["poor_households"]:
            poor_seen = True
            assert h["adjusted_headcount_ratio"] == pytest.approx(
                h["headcount_ratio"] * h["intensity"], abs=Decimal("1e-15"))
            assert sum(r["contribution_to_adjusted_headcount"] for r in rows) == pytest.approx(
                1, abs=1e-12)
            # ND07 and ND351 have no income-only poverty: every poor household has c ≥ k
            if not h["standard_code"].startswith("QD59"):
                assert h["intensity"] >= h["deprivation_cutoff_share"]
    assert poor_seen


def test_generated_claims_are_consistent_so_no_discrepancy(built):
    assert dict_rows(built, "select * from marts.rpt_submission_discrepancies") == []
    rows = dict_rows(built, "select * from marts.rpt_commune_reconciliation")
    assert len(rows) == len(COMMUNES) * len(YEARS)
    assert all(r["households_compared"] == r["listed_households"] for r in rows)
