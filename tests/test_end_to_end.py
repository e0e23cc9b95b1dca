"""End to end through Airflow: generated submissions (plus one broken file) → the ingest DAG
→ the build DAG (dbt via cosmos, tests included) → marts, in a fresh warehouse.

Runs both DAGs with ``airflow dags test`` (``dag.test()``: real task execution in one process),
the same path ``make run`` takes.
"""

from __future__ import annotations

import pytest
from builders import land

from poverty_pipeline import runner
from poverty_pipeline.samples.generate import generate_submissions
from poverty_pipeline.warehouse import connect

pytestmark = pytest.mark.airflow

# Two districts: three communes of Mỹ Tho (815, urban wards) and three of Cái Bè (819, rural).
COMMUNES = ["28249", "28252", "28261", "28360", "28363", "28366"]
YEARS = range(2021, 2023)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    from conftest import create_database, drop_database

    name, url = create_database("poverty_e2e")
    landing = tmp_path_factory.mktemp("landing")
    generate_submissions(landing, years=YEARS, communes=COMMUNES, workers=1)
    land(landing, "broken.xlsx", b"not a workbook", year=2022)
    env = runner.airflow_env(url, landing.as_uri(), home=tmp_path_factory.mktemp("airflow"))
    runner.migrate(env)
    log_dir = tmp_path_factory.mktemp("logs")
    for dag_id in ("commune_ingest", "warehouse_build"):
        runner.dags_test(dag_id, env, log_dir=log_dir)
    yield url
    drop_database(name)


def query(url: str, sql: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_every_file_has_one_outcome(pipeline_run):
    rows = query(pipeline_run, "select status, count(*) from audit.submissions group by 1 order by 1")
    assert rows == [("accepted", len(COMMUNES) * len(YEARS)), ("rejected", 1)]


def test_marts_hold_every_commune_year_and_standard(pipeline_run):
    rows = query(pipeline_run, """
        select standard_code, count(distinct commune_code), count(distinct review_year), count(*)
          from marts.fct_poverty_indicators group by 1 order by 1""")
    assert rows == [
        (standard, len(COMMUNES), len(YEARS), len(COMMUNES) * len(YEARS))
        for standard in ("ND07_2022_2025", "ND351_2027_2030", "QD59_2016_2020")
    ]


def test_rates_are_counts_over_the_communes_resident_households(pipeline_run):
    rows = query(pipeline_run, """
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


def test_recomputed_nd07_counts_match_the_communes_own_list(pipeline_run):
    """The generated data is consistent, so the warehouse's ND07 classification must agree
    with the commune's own ND07 classification household by household."""
    rows = query(pipeline_run, """
        select f.commune_code, f.review_year, f.poor_households, f.near_poor_households,
               sum((h.phan_loai_cua_xa = 'ngheo')::int), sum((h.phan_loai_cua_xa = 'can_ngheo')::int)
          from marts.fct_poverty_indicators f
          join raw.commune_submission_info i on i.ma_xa = f.commune_code and i.nam_ra_soat = f.review_year
          join raw.commune_households h using (submission_id)
         where f.standard_code = 'ND07_2022_2025'
         group by 1, 2, 3, 4""")
    assert rows and all(r[2] == r[4] and r[3] == r[5] for r in rows)


def test_district_and_province_rows_are_sums_of_their_communes(pipeline_run):
    rows = query(pipeline_run, """
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
