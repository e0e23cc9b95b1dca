"""The dbt project against a real PostgreSQL: household classification at the legal
boundaries under every standard, and the marts' figures for a small hand-computed fixture.

All fixtures are loaded into one fresh database and ``dbt seed`` + ``dbt build`` run once for
the module (data tests and unit tests included). The boundary cases are one submission of
review year 2025; the marts fixture uses review year 2023, so the two never mix.

Rules: docs/poverty-standards.md (the standards; classification) ("≤ X" is inclusive; QĐ59 has income-only
poverty, NĐ07/NĐ351 do not; k = 3; proxies for QĐ59's own flags).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import psycopg
import pytest
from psycopg.rows import dict_row
from support.databases import dict_rows

from poverty_pipeline.reference.contract import load_contract
from poverty_pipeline.warehouse.pii import household_key

QD59, ND07, ND351 = "QD59_2016_2020", "ND07_2022_2025", "ND351_2027_2030"
STANDARDS = (QD59, ND07, ND351)
RURAL, URBAN = "nong_thon", "thanh_thi"

# Deprivations shared by all three standards (own flag in each).
D3 = ("td_bhyt", "td_chat_luong_nha", "td_dien_tich_nha")
D2 = ("td_bhyt", "td_chat_luong_nha")
# A form of the NĐ07 era: QĐ59's and NĐ351's own flags (td59_*, td351_*) not collected.
NOT_COLLECTED = tuple(
    f.code
    for f in load_contract().sheets["danh_sach_ho"].fields
    if f.code.startswith(("td59_", "td351_"))
)

POOR, NEAR, NEITHER = "poor", "near_poor", "neither"
EXACT, PROXY = "exact", "proxy"
NO_INCOME = (None, "unclassifiable", "income_missing")
NO_FLAGS = (None, "unclassifiable", "deprivation_flags_missing")


class Case(NamedTuple):
    code: str
    area: str
    income: int | None
    deprived: tuple[str, ...]
    blank: tuple[str, ...]
    # (classification, method) or (None, "unclassifiable", reason), per QD59, ND07, ND351
    qd59: tuple
    nd07: tuple
    nd351: tuple


def c(cls: str, method: str = EXACT) -> tuple:
    return (cls, method, None)


CASES = [
    # rural: QĐ59 700,000 income-only / 1,000,000; NĐ07 1,500,000; NĐ351 2,200,000
    Case("r0700000_d0", RURAL, 700_000, (), (), c(POOR), c(NEAR), c(NEAR)),
    Case("r0700001_d0", RURAL, 700_001, (), (), c(NEAR), c(NEAR), c(NEAR)),
    Case("r0700001_d3", RURAL, 700_001, D3, (), c(POOR), c(POOR), c(POOR)),
    Case("r0900000_d0", RURAL, 900_000, (), (), c(NEAR), c(NEAR), c(NEAR)),
    Case("r1000000_d3", RURAL, 1_000_000, D3, (), c(POOR), c(POOR), c(POOR)),
    Case("r1000000_d2", RURAL, 1_000_000, D2, (), c(NEAR), c(NEAR), c(NEAR)),
    Case("r1000001_d3", RURAL, 1_000_001, D3, (), c(NEITHER), c(POOR), c(POOR)),
    Case("r1000001_d2", RURAL, 1_000_001, D2, (), c(NEITHER), c(NEAR), c(NEAR)),
    Case("r1500000_d3", RURAL, 1_500_000, D3, (), c(NEITHER), c(POOR), c(POOR)),
    Case("r1500000_d2", RURAL, 1_500_000, D2, (), c(NEITHER), c(NEAR), c(NEAR)),
    Case("r1500001_d3", RURAL, 1_500_001, D3, (), c(NEITHER), c(NEITHER), c(POOR)),
    Case("r2200000_d3", RURAL, 2_200_000, D3, (), c(NEITHER), c(NEITHER), c(POOR)),
    Case("r2200001_d3", RURAL, 2_200_001, D3, (), c(NEITHER), c(NEITHER), c(NEITHER)),
    # urban: QĐ59 900,000 income-only / 1,300,000; NĐ07 2,000,000; NĐ351 2,800,000
    Case("u0900000_d0", URBAN, 900_000, (), (), c(POOR), c(NEAR), c(NEAR)),
    Case("u0900001_d0", URBAN, 900_001, (), (), c(NEAR), c(NEAR), c(NEAR)),
    Case("u0900001_d3", URBAN, 900_001, D3, (), c(POOR), c(POOR), c(POOR)),
    Case("u1000001_d2", URBAN, 1_000_001, D2, (), c(NEAR), c(NEAR), c(NEAR)),
    Case("u1300000_d3", URBAN, 1_300_000, D3, (), c(POOR), c(POOR), c(POOR)),
    Case("u1300000_d2", URBAN, 1_300_000, D2, (), c(NEAR), c(NEAR), c(NEAR)),
    Case("u1300001_d3", URBAN, 1_300_001, D3, (), c(NEITHER), c(POOR), c(POOR)),
    Case("u1500001_d2", URBAN, 1_500_001, D2, (), c(NEITHER), c(NEAR), c(NEAR)),
    Case("u2000000_d3", URBAN, 2_000_000, D3, (), c(NEITHER), c(POOR), c(POOR)),
    Case("u2000000_d2", URBAN, 2_000_000, D2, (), c(NEITHER), c(NEAR), c(NEAR)),
    Case("u2000001_d3", URBAN, 2_000_001, D3, (), c(NEITHER), c(NEITHER), c(POOR)),
    Case("u2000001_d2", URBAN, 2_000_001, D2, (), c(NEITHER), c(NEITHER), c(NEAR)),
    Case("u2800000_d3", URBAN, 2_800_000, D3, (), c(NEITHER), c(NEITHER), c(POOR)),
    Case("u2800001_d3", URBAN, 2_800_001, D3, (), c(NEITHER), c(NEITHER), c(NEITHER)),
    Case("r_no_income", RURAL, None, D3, (), NO_INCOME, NO_INCOME, NO_INCOME),
    # methods, on NĐ07-era forms (QĐ59's td59_* and NĐ351's td351_* not collected)
    Case(  # QĐ59 D 1 + proxies (trình độ, viễn thông) = 3; NĐ351 D 2 + 2 blanks: undecidable
        "m_qd59_proxy_poor", RURAL, 800_000,
        ("td_bhyt", "td_trinh_do_nguoi_lon", "td_vien_thong"), NOT_COLLECTED,
        c(POOR, PROXY), c(POOR), NO_FLAGS,
    ),
    Case(  # QĐ59 5 blanks → proxies all 0, tiếp cận y tế counts 0; NĐ351 0 + 2 blanks < 3
        "m_qd59_proxy_near", RURAL, 800_000, (), NOT_COLLECTED,
        c(NEAR, PROXY), c(NEAR), c(NEAR),
    ),
    Case(  # D 3 from shared flags: decided whatever the blanks hold
        "m_exact_despite_blanks", RURAL, 800_000, D3, NOT_COLLECTED,
        c(POOR), c(POOR), c(POOR),
    ),
    Case(  # above QĐ59's line: blanks do not matter
        "m_above_line_blanks", RURAL, 1_200_000, (), NOT_COLLECTED,
        c(NEITHER), c(NEAR), c(NEAR),
    ),
    Case(  # proxies themselves blank: D 2 + 2 missing could reach 3 under every standard
        "m_unclassifiable", RURAL, 800_000, ("td_bhyt", "td_trinh_do_nguoi_lon"),
        (*NOT_COLLECTED, "td_vien_thong", "td_thiet_bi_thong_tin"),
        NO_FLAGS, NO_FLAGS, NO_FLAGS,
    ),
    Case(  # only td59_tiep_can_y_te blank: counts as not deprived → QĐ59 by proxy
        "m_tiep_can_y_te_blank", RURAL, 800_000, D2, ("td59_tiep_can_y_te",),
        c(NEAR, PROXY), c(NEAR), c(NEAR),
    ),
    Case(  # QĐ59's own flag reported 0 wins over its proxy reported 1
        "m_own_flag_wins", RURAL, 800_000, (*D2, "td_trinh_do_nguoi_lon"), (),
        c(NEAR), c(POOR), c(POOR),
    ),
    Case(  # at QĐ59's line, the third deprivation comes from a proxy
        "m_qd59_proxy_at_line", RURAL, 1_000_000, (*D2, "td_di_hoc_tre_em"),
        ("td59_di_hoc_tre_em",),
        c(POOR, PROXY), c(POOR), c(POOR),
    ),
    Case(  # QĐ59-only deprivations count under QĐ59 only
        "m_qd59_only_flags", RURAL, 800_000,
        ("td_bhyt", "td59_tiep_can_y_te", "td59_vien_thong"), (),
        c(POOR), c(NEAR), c(NEAR),
    ),
    Case(  # NĐ351-only deprivations count under NĐ351 only
        "m_nd351_only_flags", RURAL, 1_400_000,
        ("td_bhyt", "td351_dich_vu_so", "td351_xu_ly_rac"), (),
        c(NEITHER), c(NEAR), c(POOR),
    ),
]

CASES_COMMUNE, CASES_YEAR = "28249", 2025
MARTS_YEAR = 2023




def _load_boundary_cases(conn: psycopg.Connection, load_submission) -> None:
    load_submission(
        conn,
        submission_id="cases",
        commune_code=CASES_COMMUNE,
        review_year=CASES_YEAR,
        areas=[
            {"khu_vuc": URBAN, "tong_so_ho": 1000, "tong_so_nhan_khau": 4000},
            {"khu_vuc": RURAL, "tong_so_ho": 1000, "tong_so_nhan_khau": 4000},
        ],
        households=[
            {
                "ma_ho": case.code,
                "khu_vuc": case.area,
                "thu_nhap_binh_quan": case.income,
                "deprived": case.deprived,
                "blank": case.blank,
            }
            for case in CASES
        ],
    )


def _hh(code: str, area: str, income: int, members: int, deprived=(), blank=()) -> dict:
    return {
        "ma_ho": code,
        "khu_vuc": area,
        "thu_nhap_binh_quan": income,
        "so_nhan_khau": members,
        "deprived": deprived,
        "blank": blank,
    }


def _load_marts_fixture(conn: psycopg.Connection, load_submission) -> None:
    """Two communes of TP Mỹ Tho (815) and one of TP Gò Công (816), review year 2023."""
    at = lambda month, day: dt.datetime(MARTS_YEAR, month, day, tzinfo=dt.UTC)  # noqa: E731
    # 28249: an earlier accepted file, superseded in effect by a correction received later
    load_submission(
        conn, submission_id="a_first", commune_code="28249", review_year=MARTS_YEAR,
        received_at=at(12, 10),
        areas=[{"khu_vuc": URBAN, "tong_so_ho": 99, "tong_so_nhan_khau": 300}],
        households=[_hh("a0", URBAN, 500_000, 7)],
    )
    load_submission(
        conn, submission_id="a_correction", commune_code="28249", review_year=MARTS_YEAR,
        status="accepted_with_warnings", received_at=at(12, 15),
        areas=[
            {"khu_vuc": URBAN, "tong_so_ho": 80, "tong_so_nhan_khau": 300},
            {"khu_vuc": RURAL, "tong_so_ho": 20, "tong_so_nhan_khau": 80},
        ],
        households=[
            _hh("a1", URBAN, 1_800_000, 4, D3),  # QĐ59 neither, NĐ07 poor, NĐ351 poor
            _hh("a2", URBAN, 850_000, 3),  # QĐ59 poor (income only), NĐ07/NĐ351 near-poor
            _hh("a3", RURAL, 1_200_000, 5),  # QĐ59 neither, NĐ07/NĐ351 near-poor
            _hh("a4", URBAN, 3_000_000, 2),  # neither everywhere
        ],
    )
    # later files that must not count: a rejected one, and a monthly (regular) review
    load_submission(
        conn, submission_id="a_rejected", commune_code="28249", review_year=MARTS_YEAR,
        status="rejected", received_at=at(12, 20),
    )
    load_submission(
        conn, submission_id="a_monthly", commune_code="28249", review_year=MARTS_YEAR,
        review_type="thuong_xuyen", review_month=12, received_at=at(12, 25),
        areas=[{"khu_vuc": URBAN, "tong_so_ho": 100, "tong_so_nhan_khau": 380}],
        households=[_hh("a9", URBAN, 500_000, 6)],
    )
    load_submission(
        conn, submission_id="b", commune_code="28252", review_year=MARTS_YEAR,
        areas=[{"khu_vuc": RURAL, "tong_so_ho": 50, "tong_so_nhan_khau": 200}],
        households=[
            _hh("b1", RURAL, 1_400_000, 6, D3),  # QĐ59 neither, NĐ07/NĐ351 poor
            _hh("b2", RURAL, 1_400_000, 2, D2),  # QĐ59 neither, NĐ07/NĐ351 near-poor
            _hh("b3", RURAL, 600_000, 3),  # QĐ59 poor (income only), NĐ07/NĐ351 near-poor
            _hh("b4", RURAL, 800_000, 4, (), NOT_COLLECTED),  # QĐ59 near-poor by proxy
        ],
    )
    load_submission(
        conn, submission_id="c", commune_code="28297", review_year=MARTS_YEAR,
        areas=[
            {"khu_vuc": URBAN, "tong_so_ho": 40, "tong_so_nhan_khau": 150},
            {"khu_vuc": RURAL, "tong_so_ho": 10, "tong_so_nhan_khau": 40},
        ],
        households=[
            _hh("c1", URBAN, 2_500_000, 4, D3),  # NĐ351 poor only
            # D 2 + td_viec_lam blank: undecidable under NĐ07/NĐ351, above QĐ59's line
            _hh("c2", URBAN, 1_900_000, 5, D2, ("td_viec_lam",)),
        ],
    )


@pytest.fixture(scope="module")
def built(warehouse_url: str, load_submission, run_dbt, tmp_path_factory) -> str:
    with psycopg.connect(warehouse_url) as conn:
        _load_boundary_cases(conn, load_submission)
        _load_marts_fixture(conn, load_submission)
    target = tmp_path_factory.mktemp("dbt_target")
    run_dbt(warehouse_url, target, "build")
    return warehouse_url


@pytest.fixture(scope="module")
def classified(built: str) -> dict[tuple[str, str], dict]:
    with psycopg.connect(built, row_factory=dict_row) as conn:
        rows = conn.execute(
            "select * from intermediate.int_households_classified where review_year = %s",
            (CASES_YEAR,),
        ).fetchall()
    return {(r["household_key"], r["standard_code"]): r for r in rows}


def test_every_household_is_classified_under_every_standard(classified):
    assert len(classified) == len(CASES) * len(STANDARDS)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_classification(classified, case: Case, standard: str):
    expected = {QD59: case.qd59, ND07: case.nd07, ND351: case.nd351}[standard]
    row = classified[(household_key(CASES_COMMUNE, case.code), standard)]
    actual = (row["classification"], row["classification_method"], row["unclassifiable_reason"])
    assert actual == expected, row


COUNT_COLUMNS = (
    "total_households", "total_members", "reviewed_households", "poor_households",
    "near_poor_households", "poor_members", "near_poor_members",
    "households_classified_exact", "households_classified_proxy", "households_unclassifiable",
)


def _figures(total, members, reviewed, poor, near, poor_m, near_m, exact, proxy, unclass):
    row = dict(zip(COUNT_COLUMNS, (total, members, reviewed, poor, near, poor_m, near_m, exact,
                                   proxy, unclass), strict=True))
    row["poor_rate"] = Decimal(poor) / total
    row["near_poor_rate"] = Decimal(near) / total
    row["multidimensional_poverty_rate"] = Decimal(poor + near) / total
    return row


# Hand-computed from _load_marts_fixture (see the comments there).
EXPECTED_FCT = {
    # (commune, standard):
    #   total, members, reviewed, poor, near, poor_m, near_m, exact, proxy, unclassifiable
    ("28249", ND07): _figures(100, 380, 4, 1, 2, 4, 8, 4, 0, 0),
    ("28252", ND07): _figures(50, 200, 4, 1, 3, 6, 9, 4, 0, 0),
    ("28297", ND07): _figures(50, 190, 2, 0, 0, 0, 0, 1, 0, 1),
    ("28249", QD59): _figures(100, 380, 4, 1, 0, 3, 0, 4, 0, 0),
    ("28252", QD59): _figures(50, 200, 4, 1, 1, 3, 4, 3, 1, 0),
    ("28297", QD59): _figures(50, 190, 2, 0, 0, 0, 0, 2, 0, 0),
    ("28249", ND351): _figures(100, 380, 4, 1, 2, 4, 8, 4, 0, 0),
    ("28252", ND351): _figures(50, 200, 4, 1, 3, 6, 9, 4, 0, 0),
    ("28297", ND351): _figures(50, 190, 2, 1, 0, 4, 0, 1, 0, 1),
}
DISTRICT_OF = {"28249": "815", "28252": "815", "28297": "816"}
# the unit holding each commune's territory since 1 Jul 2025 (ref_commune_successions_2025)
CURRENT_OF = {"28249": "28249", "28252": "28249", "28297": "28297"}


def _sum(keys) -> dict:
    sums = [sum(EXPECTED_FCT[k][col] for k in keys) for col in COUNT_COLUMNS]
    return _figures(*sums)


def test_fct_poverty_indicators(built):
    rows = dict_rows(built, "select * from marts.fct_poverty_indicators where review_year = %s",
                     MARTS_YEAR)
    actual = {(r["commune_code"], r["standard_code"]): r for r in rows}
    assert actual.keys() == EXPECTED_FCT.keys()
    submissions = {"28249": "a_correction", "28252": "b", "28297": "c"}
    for (commune, standard), expected in EXPECTED_FCT.items():
        row = actual[(commune, standard)]
        assert row["district_code"] == DISTRICT_OF[commune]
        assert row["submission_id"] == submissions[commune]
        assert row["is_official_standard"] is (standard == ND07)
        for column, value in expected.items():
            assert row[column] == pytest.approx(value, abs=Decimal("1e-15")), (commune, standard,
                                                                              column)


def test_rpt_poverty_indicators_by_area(built):
    rows = dict_rows(
        built, "select * from marts.rpt_poverty_indicators_by_area where review_year = %s",
        MARTS_YEAR,
    )
    actual = {(r["area_level"], r["area_code"], r["standard_code"]): r for r in rows}
    expected = {}
    for standard in STANDARDS:
        for commune, district in DISTRICT_OF.items():
            expected[("commune", commune, standard)] = (
                EXPECTED_FCT[(commune, standard)], district, 1)
        for district in ("815", "816"):
            keys = [(c, standard) for c, d in DISTRICT_OF.items() if d == district]
            expected[("district", district, standard)] = (_sum(keys), "82", len(keys))
        keys = [(c, standard) for c in DISTRICT_OF]
        expected[("province", "82", standard)] = (_sum(keys), None, 3)
        # today's communes: Phường 5 and Phường 4 of Mỹ Tho are both in Phường Đạo Thạnh (28249)
        for current in set(CURRENT_OF.values()):
            keys = [(c, standard) for c, now in CURRENT_OF.items() if now == current]
            expected[("current_commune", current, standard)] = (_sum(keys), "82", len(keys))
    assert actual.keys() == expected.keys()
    for key, (figures, parent, communes) in expected.items():
        row = actual[key]
        assert row["parent_area_code"] == parent, key
        assert row["communes_reporting"] == communes, key
        for column, value in figures.items():
            assert row[column] == pytest.approx(value, abs=Decimal("1e-15")), (key, column)
    # the province's NĐ07 rate from summed counts: (1 + 1 + 0) / 200, not an average of rates
    assert actual[("province", "82", ND07)]["poor_rate"] == Decimal("0.01")
    assert actual[("district", "815", ND07)]["area_name"] == "Thành phố Mỹ Tho"
    assert actual[("current_commune", "28249", ND07)]["area_name"] == "Phường Đạo Thạnh"


def test_every_seed_and_table_the_build_wrote_has_statistics(built):
    """The planner sees what the build wrote: a seed or model table never analysed is planned as
    a few hundred rows (on a server whose autovacuum has not come by, or never does)."""
    with psycopg.connect(built) as conn:
        unanalysed = conn.execute(
            """
            select schemaname || '.' || relname from pg_stat_user_tables
             where schemaname in ('reference', 'intermediate', 'marts') and last_analyze is null
               and relname <> 'household_builds'  -- the incremental models' bookkeeping
            """
        ).fetchall()
    assert unanalysed == []
