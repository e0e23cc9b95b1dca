"""One unit history for the ingest and the warehouse: on every review date of 2021–2025 (the
annual reviews and the month ends of the regular ones), the codes the ingest accepts as units
(``admin_units.commune_status`` = valid) are the units ``dim_commune`` holds that day, with the
same names and types; a code it accepts as merged leads, in ``int_commune_code_periods``, to
the successor ``admin_units.successor_on`` names; and no other code of the province's history is
left unknown on a day it was a unit."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg.rows import dict_row

from poverty_pipeline.reference import admin_units

DAYS = sorted(
    {admin_units.review_date(year) for year in range(2021, 2026)}
    | {admin_units.review_date(year, month) for year in (2024, 2025) for month in range(1, 13)}
    | {dt.date(2022, 9, 30), dt.date(2022, 10, 31)}  # around Bình Phú's change of type
)


@pytest.fixture(scope="module")
def history(warehouse_url: str, run_dbt, tmp_path_factory) -> dict:
    run_dbt(warehouse_url, tmp_path_factory.mktemp("dbt_target"), "build",
            "--indirect-selection", "cautious", "--select", "+dim_commune", "+int_commune_code_periods")
    with psycopg.connect(warehouse_url, row_factory=dict_row) as conn:
        versions = conn.execute(
            "select commune_code, commune_name, unit_type, district_code, valid_from, valid_to "
            "from marts.dim_commune").fetchall()
        periods = conn.execute(
            "select submitted_code, commune_code, period_from, period_to "
            "from intermediate.int_commune_code_periods").fetchall()
    return {"versions": versions, "periods": periods}


def _valid(row: dict, day: dt.date, start: str, end: str) -> bool:
    return row[start] <= day and (row[end] is None or day < row[end])


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_the_units_of_a_day_are_the_same_for_the_ingest_and_the_warehouse(history, day):
    warehouse = {(r["commune_code"], r["commune_name"], r["unit_type"], r["district_code"])
                 for r in history["versions"] if _valid(r, day, "valid_from", "valid_to")}
    ingest = {(u.code, u.name, u.unit_type, u.district_code) for u in admin_units.units_on(day)}
    assert warehouse == ingest


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_every_code_of_the_history_is_known_on_the_days_it_names_a_unit(history, day):
    info = {"nam_ra_soat": day.year}
    if day != admin_units.review_date(day.year):
        info.update(loai_ra_soat="thuong_xuyen", thang=day.month)
    units = {r["commune_code"] for r in history["versions"] if _valid(r, day, "valid_from", "valid_to")}
    leads_to = {r["submitted_code"]: r["commune_code"] for r in history["periods"]
                if _valid(r, day, "period_from", "period_to")}
    for code in sorted(admin_units.commune_codes()):
        status = admin_units.commune_status({**info, "ma_xa": code}, None)
        if code in units:
            assert status == "valid", (code, day)
        elif code in leads_to:
            assert status == "merged", (code, day)
            assert admin_units.successor_on(code, day).successor == leads_to[code], (code, day)
        else:
            assert status == "unknown", (code, day)  # a 2025 unit before 1 Jul 2025
    assert set(leads_to) >= units


def test_the_history_holds_every_change_of_2021_to_2025(history):
    codes = {r["commune_code"] for r in history["versions"]}
    closed_2024 = {"28294", "28303", "28255", "28258", "28267", "28531", "28546", "28555"}
    assert closed_2024 <= codes
    names = {(r["commune_code"], r["valid_from"]): r["commune_name"] for r in history["versions"]}
    assert names[("28471", admin_units.RECORDS_START)] == "Xã Bình Phú"
    assert names[("28471", dt.date(2022, 10, 1))] == "Thị trấn Bình Phú"
    assert names[("28300", admin_units.RECORDS_START)] == "Phường 4"
    assert names[("28300", dt.date(2024, 5, 1))] == "Phường 1"
