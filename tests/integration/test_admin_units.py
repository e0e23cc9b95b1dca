"""Administrative units through the 2024 and 2025 reorganisations: the reference seeds agree
with the package and the domain facts, and a submission's commune code is checked on its
review date — a closed code with a known successor loads with a warning that names it, any
other code that is not a unit of the review date is rejected."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter

import pytest
from support.builders import json_bytes, land, submission
from support.databases import create_database, drop_database
from support.ingest_checks import messages, problems, run_ingest

from poverty_pipeline.reference import admin_units

END_2024 = dt.date(2024, 12, 31)


def test_the_164_unit_list_has_11_districts_with_the_domain_codes():
    units = admin_units.units_on(dt.date(2025, 1, 15))
    assert len(units) == 164
    assert sorted({u.district_code for u in units}) == [str(code) for code in range(815, 826)]
    my_tho = [u for u in units if u.district_code == "815"]
    assert {u.code for u in my_tho} >= {"28249", "28252"}


def test_the_2025_list_has_57_units_and_every_old_unit_merged_whole_into_one():
    mapping = admin_units.successions_2025_from_package()
    assert len(mapping) == 164 and set(mapping) == {u.code for u in admin_units.units_on(END_2024)}
    assert len(set(mapping.values())) == 57
    assert len(admin_units.units_on(dt.date(2025, 12, 31))) == 57
    # a merged unit keeps the code of the unit hosting its seat: every new code is an old code
    assert set(mapping.values()) <= set(mapping)
    assert all(mapping[new] == new for new in set(mapping.values()))


def test_the_seeds_are_what_the_package_says(tmp_path):
    counts = admin_units.write_seeds(tmp_path)
    assert counts == {"ref_communes_2024": 164, "ref_communes_2025": 57, "ref_commune_successions_2025": 164}
    for name in counts:
        written = (tmp_path / f"{name}.csv").read_text("utf-8")
        assert written == (admin_units.SEEDS / f"{name}.csv").read_text("utf-8"), name


def test_the_2024_merger_of_the_domain_file():
    """Xã Tân Lý Tây 28531 → TT Tân Hiệp 28519 (Châu Thành), 1 Nov 2024."""
    assert [u.code for u in admin_units.units_on(dt.date(2023, 12, 31))].count("28531") == 1
    assert "28531" not in {u.code for u in admin_units.units_on(END_2024)}
    step = admin_units.successor_on("28531", END_2024)
    assert (step.successor, step.effective) == ("28519", dt.date(2024, 11, 1))
    # and on through 28519's 2025 successor
    later = admin_units.successor_on("28531", dt.date(2025, 12, 31))
    assert later.successor == admin_units.successions_2025_from_package()["28519"]
    tan_hiep = [u for u in admin_units.units() if u.code == "28519" and u.district_code]
    assert [(u.valid_from, u.valid_to) for u in tan_hiep] == [
        (admin_units.RECORDS_START, dt.date(2024, 11, 1)), (dt.date(2024, 11, 1), dt.date(2025, 7, 1)),
    ]


def test_units_per_review_year():
    counts = {year: len(admin_units.units_on(admin_units.review_date(year))) for year in range(2021, 2026)}
    assert counts == {2021: 172, 2022: 172, 2023: 172, 2024: 164, 2025: 57}
    # the two Gò Công wards closed on 1 May 2024, the six others on 1 Nov 2024
    assert len(admin_units.units_on(dt.date(2024, 6, 30))) == 170
    assert admin_units.review_date(2024, 10) == dt.date(2024, 10, 31)
    assert admin_units.review_date(2024, 2) == dt.date(2024, 2, 29)


# every commune-level unit closed before the 2025 reorganisation → (host, day)
CLOSED_2024 = {
    "28294": ("28297", dt.date(2024, 5, 1)), "28303": ("28300", dt.date(2024, 5, 1)),
    "28255": ("28261", dt.date(2024, 11, 1)), "28258": ("28264", dt.date(2024, 11, 1)),
    "28267": ("28264", dt.date(2024, 11, 1)), "28531": ("28519", dt.date(2024, 11, 1)),
    "28546": ("28564", dt.date(2024, 11, 1)), "28555": ("28564", dt.date(2024, 11, 1)),
}


@pytest.mark.parametrize("code", CLOSED_2024)
def test_every_2024_merger_is_known_with_its_host(code):
    host, day = CLOSED_2024[code]
    before = day - dt.timedelta(days=1)
    assert code in {u.code for u in admin_units.units_on(before)}
    assert code not in {u.code for u in admin_units.units_on(day)}
    step = admin_units.successor_on(code, admin_units.review_date(2024))
    assert (step.successor, step.effective) == (host, day)
    assert admin_units.commune_status({"ma_xa": code, "nam_ra_soat": 2023}, None) == "valid"
    assert admin_units.commune_status({"ma_xa": code, "nam_ra_soat": 2024}, None) == "merged"
    assert admin_units.commune_status({"ma_xa": code, "nam_ra_soat": 2025}, None) == "merged"


def test_the_province_had_172_units_before_2024_as_the_gso_lists_show():
    """The 164 units of Jan 2025 and the 8 closed in 2024 are the 172 of the 2023 list."""
    units_2023 = {u.code for u in admin_units.units_on(admin_units.review_date(2023))}
    assert units_2023 == {u.code for u in admin_units.units_on(END_2024)} | set(CLOSED_2024)


def test_renamed_units_keep_their_code_with_the_name_of_the_day():
    def name(code: str, day: dt.date) -> tuple[str, str]:
        [unit] = [u for u in admin_units.units_on(day) if u.code == code]
        return unit.name, unit.unit_type

    assert name("28471", dt.date(2021, 12, 31)) == ("Xã Bình Phú", "xa")
    assert name("28471", dt.date(2022, 12, 31)) == ("Thị trấn Bình Phú", "thi_tran")
    assert name("28300", dt.date(2023, 12, 31)) == ("Phường 4", "phuong")
    assert name("28300", END_2024) == ("Phường 1", "phuong")
    assert name("28309", dt.date(2023, 12, 31)) == ("Xã Long Hưng", "xa")
    assert name("28309", END_2024) == ("Phường Long Hưng", "phuong")


def test_hand_kept_seeds_name_known_units():
    with (admin_units.SEEDS / "ref_commune_mergers_2024.csv").open(encoding="utf-8") as f:
        mergers = list(csv.DictReader(f))
    known = {u.code for u in admin_units.units_on(END_2024)}
    assert all(m["successor_code"] in known and m["predecessor_code"] not in known for m in mergers)
    assert Counter(m["predecessor_code"] for m in mergers).most_common(1)[0][1] == 1
    # each says where it comes from and whether its host is confirmed
    assert all(m["source"] and m["evidence"] and m["confirmed"] in ("true", "false") for m in mergers)


CASES = {
    # file → (year, ma_xa, status, problem rows: severity, sheet, row, column, value, rule)
    "tan_ly_tay_2023.json": (2023, "28531", "accepted", []),
    "tan_ly_tay_2024.json": (2024, "28531", "accepted_with_warnings", [
        ("warning", "thong_tin", 2, "ma_xa", "28531", "merged_commune"),
    ]),
    "go_cong_phuong_1_2024.json": (2024, "28303", "accepted_with_warnings", [
        ("warning", "thong_tin", 2, "ma_xa", "28303", "merged_commune"),
    ]),
    "huu_dao_2023.json": (2023, "28555", "accepted", []),
    "phuong_4_2025.json": (2025, "28252", "accepted_with_warnings", [
        ("warning", "thong_tin", 2, "ma_xa", "28252", "merged_commune"),
    ]),
    "dao_thanh_2025.json": (2025, "28249", "accepted", []),
    "another_province_2024.json": (2024, "00001", "rejected", [
        ("error", "thong_tin", 2, "ma_xa", "00001", "known_commune"),
    ]),
    "unknown_2021.json": (2021, "99999", "rejected", [
        ("error", "thong_tin", 2, "ma_xa", "99999", "known_commune"),
    ]),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    database, url = create_database("admin_units")
    landing = tmp_path_factory.mktemp("landing")
    try:
        for name, (year, code, _, _) in CASES.items():
            land(landing, name, json_bytes(submission(ma_xa=code, year=year)), year=year)
        statuses = run_ingest(url, landing)
        yield url, statuses
    finally:
        drop_database(database)


@pytest.mark.parametrize("name", CASES)
def test_commune_code_is_checked_on_the_review_date(outcomes, name):
    url, statuses = outcomes
    year, _, status, expected = CASES[name]
    path = f"communes/{year}/{name}"
    assert statuses[path] == status
    assert problems(url, path) == expected


def test_the_warning_names_the_successor_and_the_date(outcomes):
    url, _ = outcomes
    found = {path: vi for path, _, vi, _ in messages(url, "merged_commune")}
    assert found["communes/2024/tan_ly_tay_2024.json"].startswith(
        "Xã 28531 đã sáp nhập vào 28519 từ 01/11/2024")
    assert found["communes/2025/phuong_4_2025.json"].startswith(
        "Xã 28252 đã sáp nhập vào 28249 từ 01/07/2025")


@pytest.mark.parametrize(("year", "month"), [(-1, None), (0, None), (10_000, 1), (3_000_000_000, None),
                                             (2024, 13), (2024, 0)])
def test_a_review_date_no_calendar_has_is_none(year, month):
    assert admin_units.review_date(year, month) is None
    assert admin_units.review_date(9999, 12) == dt.date(9999, 12, 31)  # once computed from year 10000
    info = {"ma_xa": "28261", "nam_ra_soat": year, "loai_ra_soat": "thuong_xuyen", "thang": month}
    assert admin_units.commune_status(info, "2021") in (None, "valid", "merged", "unknown")
