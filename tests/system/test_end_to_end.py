"""End to end through Airflow: generated submissions (plus one broken file, and one whose
stated poor rate disagrees with its own count) → the ingest DAG → the build DAG (dbt via
cosmos, tests included; reconciliation warnings; the review summary workbooks) → marts, in a
fresh warehouse.

Runs both DAGs with ``airflow dags test`` (``dag.test()``: real task execution in one process),
the same path ``make run`` takes — twice: the second pass must leave raw, audit and every mart
exactly as the first left them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from support.builders import land
from support.databases import create_database, drop_database

from poverty_pipeline.orchestration import runner
from poverty_pipeline.samples.generate import build_submissions, generate_submissions, to_json_bytes
from poverty_pipeline.warehouse.database import connect

pytestmark = pytest.mark.airflow

# Two districts: three communes of Mỹ Tho (815, urban wards) and three of Cái Bè (819, rural);
# none took in a commune closed in 2024 (whose own files the generator would add).
COMMUNES = ["28249", "28252", "28270", "28360", "28363", "28366"]
YEARS = range(2021, 2023)
# This commune's 2022 file states a poor rate 0.5 points off its own count and denominator.
MISSTATED = ("28249", 2022)


def misstate_poor_rate(landing) -> float:
    """Rewrite the generated file of MISSTATED as JSON with a wrong poor rate; return it."""
    commune, year = MISSTATED
    (sub,) = build_submissions(years=[year], communes=[commune])
    area = sub.parts["tong_hop"][0]
    area["ty_le_ho_ngheo"] = round(area["ty_le_ho_ngheo"] + 0.5, 2)
    folder = landing / "communes" / str(year)
    for old in folder.glob(f"{commune}_{year}_dinh_ky.*"):
        old.unlink()
    (folder / f"{commune}_{year}_dinh_ky.json").write_bytes(to_json_bytes(sub.parts))
    return area["ty_le_ho_ngheo"]


def warehouse_checksums(url: str) -> dict[str, str]:
    """Rows and md5 of every table of raw, audit and marts (problem ids, which a re-run of the
    reconciliation renumbers, left out)."""
    with connect(url) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'audit', 'marts') and table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            table: conn.execute(
                f"select count(*) || ':' || md5(coalesce(string_agg(r, '|' order by r), '')) "
                f"from (select (to_jsonb(t) - 'problem_id')::text as r from {table} t) rows"
            ).fetchone()[0]
            for (table,) in tables
        }


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    name, url = create_database("poverty_e2e")
    landing = tmp_path_factory.mktemp("landing")
    generate_submissions(landing, years=YEARS, communes=COMMUNES, workers=1)
    misstated_rate = misstate_poor_rate(landing)
    land(landing, "broken.xlsx", b"not a workbook", year=2022)
    env = runner.airflow_env(url, landing.as_uri(), home=tmp_path_factory.mktemp("airflow"))
    runner.migrate(env)
    log_dir = tmp_path_factory.mktemp("logs")
    checksums = []
    for _ in range(2):  # the second pass: the same DAGs again, another run, nothing new landed
        for dag_id in ("commune_ingest", "warehouse_build"):
            runner.dags_test(dag_id, env, log_dir=log_dir)
        checksums.append(warehouse_checksums(url))
    yield {"url": url, "landing": landing, "misstated_rate": misstated_rate, "checksums": checksums}
    drop_database(name)


@pytest.fixture(scope="module")
def e2e_url(pipeline_run) -> str:
    return pipeline_run["url"]


def query(url: str, sql: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_running_the_dags_again_leaves_the_warehouse_identical(pipeline_run):
    first, second = pipeline_run["checksums"]
    assert {"marts.fct_poverty_indicators", "audit.submissions", "raw.commune_households"} <= set(first)
    assert second == first


def test_every_file_has_one_outcome(e2e_url):
    rows = query(e2e_url, "select status, count(*) from audit.submissions group by 1 order by 1")
    # the misstated file is loaded, with the reconciliation's warning
    assert rows == [
        ("accepted", len(COMMUNES) * len(YEARS) - 1), ("accepted_with_warnings", 1), ("rejected", 1)
    ]


def test_marts_hold_every_commune_year_and_standard(e2e_url):
    rows = query(e2e_url, """
        select standard_code, count(distinct commune_code), count(distinct review_year), count(*)
          from marts.fct_poverty_indicators group by 1 order by 1""")
    assert rows == [
        (standard, len(COMMUNES), len(YEARS), len(COMMUNES) * len(YEARS))
        for standard in ("ND07_2022_2025", "ND351_2027_2030", "QD59_2016_2020")
    ]


def test_rates_are_counts_over_the_communes_resident_households(e2e_url):
    rows = query(e2e_url, """
        select f.commune_code, f.review_year, f.total_households, t.tong_so_ho,
               f.poor_households, f.poor_rate
          from marts.fct_poverty_indicators f
          join (select i.ma_xa, i.nam_ra_soat, sum(a.tong_so_ho) as tong_so_ho
                  from raw.commune_area_totals a join raw.commune_submission_info i using (submission_id)
                 group by 1, 2) t on t.ma_xa = f.commune_code and t.nam_ra_soat = f.review_year
         where f.standard_code = 'ND07_2022_2025'""")
    assert len(rows) == len(COMMUNES) * len(YEARS)
    for _, _, total, stated, poor, rate in rows:
        assert total == stated
        assert float(rate) == pytest.approx(float(poor) / float(total))


def test_recomputed_nd07_counts_match_the_communes_own_list(e2e_url):
    """The generated data is consistent, so the warehouse's ND07 classification must agree
    with the commune's own ND07 classification household by household."""
    rows = query(e2e_url, """
        select f.commune_code, f.review_year, f.poor_households, f.near_poor_households,
               sum((h.phan_loai_cua_xa = 'ngheo')::int), sum((h.phan_loai_cua_xa = 'can_ngheo')::int)
          from marts.fct_poverty_indicators f
          join raw.commune_households h on h.submission_id = f.submission_id
         where f.standard_code = 'ND07_2022_2025'
         group by 1, 2, 3, 4""")
    assert rows and all(r[2] == r[4] and r[3] == r[5] for r in rows)


def test_district_and_province_rows_are_sums_of_their_communes(e2e_url):
    rows = query(e2e_url, """
        select a.area_level, a.area_code, a.review_year, a.standard_code, a.poor_households,
               a.total_households, a.poor_rate,
               (select sum(f.poor_households) from marts.fct_poverty_indicators f
                 where f.review_year = a.review_year and f.standard_code = a.standard_code
                   and (a.area_level = 'province' or f.district_code = a.area_code)),
               (select sum(f.total_households) from marts.fct_poverty_indicators f
                 where f.review_year = a.review_year and f.standard_code = a.standard_code
                   and (a.area_level = 'province' or f.district_code = a.area_code))
          from marts.rpt_poverty_indicators_by_area a
         where a.area_level in ('district', 'province')""")
    levels = {r[0] for r in rows}
    assert levels == {"district", "province"}
    assert {r[1] for r in rows if r[0] == "district"} == {"815", "819"}
    for _, _, _, _, poor, total, rate, poor_sum, total_sum in rows:
        assert (poor, total) == (poor_sum, total_sum)
        assert float(rate) == pytest.approx(float(poor) / float(total))


def test_a_misstated_rate_is_a_warning_on_its_submission(pipeline_run, e2e_url):
    commune, year = MISSTATED
    rows = query(e2e_url, """
        select s.path, s.status, s.warning_count, p.severity, p.sheet, p.row_number,
               p.column_name, p.value, p.rule
          from audit.submission_problems p join audit.submissions s using (submission_id)
         where p.rule like 'reconcile%'""")
    assert len(rows) == 1
    path, status, warnings, severity, sheet, row_number, column, value, rule = rows[0]
    assert path.endswith(f"communes/{year}/{commune}_{year}_dinh_ky.json")
    assert (status, warnings) == ("accepted_with_warnings", 1)
    # the first (only) item of the JSON list tong_hop
    assert (severity, sheet, row_number, column, rule) == (
        "warning", "tong_hop", 1, "ty_le_ho_ngheo", "reconcile_poor_rate")
    assert Decimal(value) == Decimal(str(pipeline_run["misstated_rate"]))


def test_review_summary_flows_hold_and_sum_up(e2e_url):
    rows = query(e2e_url, """
        select area_level, area_code, review_year, standard_code, area_type, poor_start,
               poor_escaped, poor_left_review, poor_to_unclassifiable, near_poor_to_poor,
               newly_poor, re_poor, poor_not_compared, poor_end, total_households
          from marts.rpt_review_summary""")
    assert rows
    for (_, _, _, _, _, start, escaped, left, unclassifiable, from_near, newly, re_poor,
         not_compared, end, _) in rows:
        assert end == start - escaped - left - unclassifiable + from_near + newly + re_poor + not_compared
    # 2021 is every commune's first review: nothing to compare with; 2022 is compared
    assert all(r[5] == 0 and r[12] == r[13] for r in rows if r[2] == 2021)
    assert all(r[12] == 0 for r in rows if r[2] == 2022)
    sums = query(e2e_url, """
        select d.area_code, d.review_year, d.standard_code, d.area_type, d.poor_end,
               d.poor_escaped, d.total_households,
               sum(c.poor_end), sum(c.poor_escaped), sum(c.total_households)
          from marts.rpt_review_summary d
          join marts.rpt_review_summary c
            on c.area_level = 'commune' and c.parent_area_code = d.area_code
           and (c.review_year, c.standard_code, c.area_type)
             = (d.review_year, d.standard_code, d.area_type)
         where d.area_level = 'district'
         group by 1, 2, 3, 4, 5, 6, 7""")
    assert {r[0] for r in sums} == {"815", "819"}
    for r in sums:
        assert (r[4], r[5], r[6]) == (r[7], r[8], r[9])


def test_targets_and_measures_are_in_the_marts(e2e_url):
    targets = query(e2e_url, """
        select target_code, review_year from marts.rpt_target_progress order by 1, 2""")
    assert ("plan24_qd59_poor_rate", 2021) in targets and ("ntp_poor_rate_annual_fall", 2022) in targets
    for mart in ("rpt_alkire_foster_by_area", "rpt_alkire_foster_indicators_by_area",
                 "rpt_household_profiles_by_area", "rpt_commune_reconciliation"):
        assert query(e2e_url, f"select count(*) from marts.{mart}")[0][0] > 0, mart


def test_review_summary_workbooks_are_written(pipeline_run, e2e_url):
    from python_calamine import CalamineWorkbook

    folder = pipeline_run["landing"] / "_reports" / "review_summary"
    assert sorted(p.name for p in folder.iterdir()) == [f"{y}.xlsx" for y in YEARS]
    cells = CalamineWorkbook.from_path(str(folder / "2022.xlsx")).get_sheet_by_index(0).to_python()
    assert cells[0][0] == "BẢNG TỔNG HỢP KẾT QUẢ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2022"
    province_total = next(r for r in cells if r[1] == "82" and r[4] == "Tổng cộng")
    ((poor_end, total),) = query(e2e_url, """
        select poor_end, total_households from marts.rpt_review_summary
         where area_level = 'province' and review_year = 2022 and area_type = 'total'
           and is_official_standard""")
    headers = next(r for r in cells if "Số hộ nghèo cuối năm" in r)
    assert (province_total[5], province_total[headers.index("Số hộ nghèo cuối năm")]) == (
        total, poor_end)
