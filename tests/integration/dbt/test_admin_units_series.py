"""One series through the 2024 and 2025 reorganisations, on generated submissions
(``poverty_pipeline.samples``) for the territory of two of today's communes, review years
2023–2025: Phường Đạo Thạnh (28249, Phường 5, 4, … of Mỹ Tho merged on 1 Jul 2025) and the
unit that took in TT Tân Hiệp (28519), which had itself taken in Xã Tân Lý Tây (28531) on
1 Nov 2024. The files follow the units of each review date (28531 reports alone in 2023, is
listed by 28519 in 2024; one file per new unit in 2025).
"""

from __future__ import annotations

import psycopg
import pytest
from support.databases import dict_rows

from poverty_pipeline.reference.admin_units import successions_2025_from_package

MAPPING = successions_2025_from_package()
DAO_THANH = "28249"
TAN_HIEP_NOW = MAPPING["28519"]
# Xã Hậu Mỹ Bắc A (28363, Cái Bè), merged into 28366 in 2025, whose own 2024 review is
# missing: 28366's 2025 households are still followed from 28363's 2024 review
HAU_MY, HAU_MY_MEMBER = "28366", "28363"
MISSING = (HAU_MY, 2024)
COMMUNES = sorted(code for code, new in MAPPING.items() if new in (DAO_THANH, TAN_HIEP_NOW, HAU_MY))
YEARS = range(2023, 2026)
ND07 = "ND07_2022_2025"


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_generated, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        load_generated(conn, YEARS, COMMUNES, skip={MISSING})
    # the measure marts and everything their tests read
    run_dbt(warehouse_url, tmp_path_factory.mktemp("dbt_target"), "build",
            "--indirect-selection", "cautious", "--select",
            "+rpt_review_summary", "+rpt_alkire_foster_by_area", "+rpt_household_profiles_by_area",
            "+rpt_commune_reconciliation", "+rpt_submission_discrepancies", "+rpt_target_progress")
    return warehouse_url


def _by_area(url: str, table: str, level: str, extra: str = "") -> dict[tuple, dict]:
    rows = dict_rows(url, f"select * from marts.{table} where area_level = %s and standard_code = %s {extra}",
                     level, ND07)
    return {(r["area_code"], r["review_year"]): r for r in rows}


def test_todays_communes_have_a_continuous_series(built):
    rows = _by_area(built, "rpt_poverty_indicators_by_area", "current_commune")
    assert set(rows) == {(code, year) for code in (DAO_THANH, TAN_HIEP_NOW, HAU_MY) for year in YEARS}
    members = [code for code in COMMUNES if MAPPING[code] == DAO_THANH]
    assert [rows[(DAO_THANH, y)]["communes_reporting"] for y in YEARS] == [len(members)] * 2 + [1]
    # Tân Lý Tây reports alone in 2023, inside TT Tân Hiệp in 2024
    members = [code for code in COMMUNES if MAPPING[code] == TAN_HIEP_NOW]
    assert [rows[(TAN_HIEP_NOW, y)]["communes_reporting"] for y in YEARS] == [len(members) + 1,
                                                                               len(members), 1]
    for code in (DAO_THANH, TAN_HIEP_NOW):
        households = [rows[(code, y)]["total_households"] for y in YEARS]
        assert all(0.97 < later / earlier < 1.05 for earlier, later in zip(households, households[1:],
                                                                            strict=False)), households
        assert rows[(code, 2025)]["area_name"] == rows[(code, 2023)]["area_name"]  # today's name


def test_the_series_on_todays_communes_sums_the_old_ones(built):
    communes = _by_area(built, "rpt_poverty_indicators_by_area", "commune")
    current = _by_area(built, "rpt_poverty_indicators_by_area", "current_commune")
    for year in (2023, 2024):
        old = [r for (code, y), r in communes.items()
               if y == year and MAPPING.get(code, "28519") == DAO_THANH]
        assert sum(r["poor_households"] for r in old) == current[(DAO_THANH, year)]["poor_households"]
        assert sum(r["total_households"] for r in old) == current[(DAO_THANH, year)]["total_households"]


def test_old_districts_exist_for_the_years_they_existed(built):
    districts = _by_area(built, "rpt_poverty_indicators_by_area", "district")
    assert {year for _, year in districts} == {2023, 2024}
    assert {code for code, _ in districts} == {"815", "819", "821"}
    communes = _by_area(built, "rpt_poverty_indicators_by_area", "commune")
    assert {r["parent_area_code"] for (_, y), r in communes.items() if y == 2025} == {"82"}
    assert communes[("28531", 2023)]["area_name"] == "Xã Tân Lý Tây"
    assert communes[("28249", 2023)]["area_name"] == "Phường 5"
    assert communes[("28249", 2025)]["area_name"] == "Phường Đạo Thạnh"


def test_households_are_followed_across_both_mergers(built):
    """Every household keeps its key across a merger, so the poor at the start of a year are
    the poor at the end of the year before, on today's communes, and none is left
    uncompared — also where the host of a 2025 merger has no review of 2024 but a commune
    merged into it has (Hậu Mỹ; its 2024 rows lack its own households, so only 2025 adds up)."""
    summary = _by_area(built, "rpt_review_summary", "current_commune", "and area_type = 'total'")
    assert MAPPING[HAU_MY_MEMBER] == HAU_MY
    for code, year in [(DAO_THANH, 2024), (DAO_THANH, 2025), (TAN_HIEP_NOW, 2024),
                       (TAN_HIEP_NOW, 2025), (HAU_MY, 2025)]:
        row, before = summary[(code, year)], summary[(code, year - 1)]
        assert row["poor_not_compared"] == 0, (code, year)
        assert row["poor_start"] == before["poor_end"], (code, year)
        assert row["near_poor_start"] == before["near_poor_end"], (code, year)


def test_personal_data_is_kept_out_of_the_marts(built, run_dbt, tmp_path):
    """The data test reads the sources' ``contains_pii`` marks: it passes on the built marts and
    fails as soon as a marts table holds a column of that name."""
    target = tmp_path / "dbt_target"
    run_dbt(built, target, "test", "--select", "assert_no_personal_data_in_marts")
    with psycopg.connect(built, autocommit=True) as conn:
        conn.execute("alter table marts.rpt_review_summary add column so_dinh_danh_chu_ho text")
    try:
        with pytest.raises(AssertionError):
            run_dbt(built, target, "test", "--select", "assert_no_personal_data_in_marts")
    finally:
        with psycopg.connect(built, autocommit=True) as conn:
            conn.execute("alter table marts.rpt_review_summary drop column so_dinh_danh_chu_ho")
