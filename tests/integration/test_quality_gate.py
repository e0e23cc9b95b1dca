"""The quality gate on the marts, against a real warehouse built by ingest and dbt: it passes on
a consistent build, and names every violation of what it owns (coverage) — the check, the area,
year, standard and measure, the value expected and the value found — when the marts are made
inconsistent; the identities it leaves to dbt fail dbt's tests instead, and never the gate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.databases import create_database, drop_database
from support.pipeline_helpers import build_marts, dbt, ingest, small_landing

from poverty_pipeline.quality.gate import QualityGateFailed, run_gate, suite_files
from poverty_pipeline.warehouse.database import connect

COMMUNES = ["28249", "28252", "28360"]  # two in Mỹ Tho (815), one in Cái Bè (819)
YEARS = (2021, 2022)
STANDARD = "ND07_2022_2025"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import os

    name, url = create_database("poverty_gate")
    saved = os.environ.get("POVERTY_DATA_DOCS_DIR")
    docs = tmp_path_factory.mktemp("docs")
    os.environ["POVERTY_DATA_DOCS_DIR"] = str(docs)
    landing = tmp_path_factory.mktemp("landing")
    small_landing(landing, years=YEARS, communes=COMMUNES)
    ingest(url, landing)
    build_marts(url, tmp_path_factory.mktemp("dbt"))
    yield {"url": url, "docs": docs}
    drop_database(name)
    if saved is None:
        os.environ.pop("POVERTY_DATA_DOCS_DIR", None)
    else:
        os.environ["POVERTY_DATA_DOCS_DIR"] = saved


def one(url: str, query: str, *params):
    with connect(url) as conn:
        return conn.execute(query, params).fetchone()


def execute(url: str, query: str, *params) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute(query, params)


def test_a_consistent_build_passes_and_is_in_the_data_docs(built):
    report = run_gate(built["url"], run_name="consistent")
    assert report.success, report.text()
    assert set(report.checked) == {f"marts.{p.stem}" for p in suite_files()}
    assert all(count > 0 for count in report.checked.values()), report.checked
    index = (built["docs"] / "index.html").read_text("utf-8")
    assert "marts.qc_standard_coverage" in index and "marts.qc_commune_coverage" in index


def dbt_test_failures(url: str, target_dir: Path, *selected: str) -> str:
    """The failed dbt tests of ``selected`` models, one per line ("" when all pass)."""
    try:
        dbt(url, target_dir, "test", "--select", *selected)
    except AssertionError as failed:
        return str(failed)
    return ""


def test_a_new_area_level_is_checked_through_parent_area_code(built, tmp_path):
    """Rows of a level no check has ever heard of, whose parent is the province: consistent
    copies of the communes pass; one off by one fails dbt's test against the province (the
    gate leaves the identity to dbt)."""
    url = built["url"]
    execute(url, """
        insert into marts.rpt_poverty_indicators_by_area
        select 'merged_unit', area_code, area_name, '82', review_year, standard_code,
               is_official_standard, communes_reporting, submissions_reporting, total_households,
               total_members,
               reviewed_households, poor_households, near_poor_households, poor_members,
               near_poor_members, poor_rate, near_poor_rate, multidimensional_poverty_rate,
               households_classified_exact, households_classified_proxy, households_unclassifiable
          from marts.rpt_poverty_indicators_by_area where area_level = 'commune'""")
    try:
        assert dbt_test_failures(url, tmp_path / "dbt", "qc_area_rollups") == ""
        execute(url, "update marts.rpt_poverty_indicators_by_area set near_poor_households = "
                     "near_poor_households + 1 where area_level = 'merged_unit' and area_code = '28360' "
                     "and review_year = 2022 and standard_code = %s", STANDARD)
        assert "test.poverty_warehouse.area_total_is_sum_of_children" in dbt_test_failures(
            url, tmp_path / "dbt", "qc_area_rollups")
        with connect(url) as conn:
            rows = conn.execute("select area_level, area_code, review_year, standard_code, measure, "
                                "found + 1 = expected as off_by_one, detail from quality.qc_area_rollups "
                                "where found is distinct from expected").fetchall()
        assert [r[:6] for r in rows] == [
            ("province", "82", 2022, STANDARD, "near_poor_households", True)]
        assert "sum of merged_unit rows" in rows[0][6]
        assert run_gate(url, run_name="new_level_broken").success  # not the gate's rule
    finally:
        execute(url, "delete from marts.rpt_poverty_indicators_by_area where area_level = 'merged_unit'")


def test_every_violation_is_reported_with_expected_and_found(built, tmp_path):
    """Coverage broken is the gate's report; identities broken are dbt's failed tests, each
    checked in one place: the gate reports none of them."""
    url = built["url"]
    district_poor = one(url, "select poor_households from marts.rpt_poverty_indicators_by_area "
                             "where area_level = 'district' and area_code = '815' and review_year = 2022 "
                             "and standard_code = %s", STANDARD)[0]
    for statement in (
        # a household of 2021 counted twice at the start of 2022: once as not reviewed
        "update marts.rpt_review_summary set poor_not_reviewed = poor_not_reviewed + 1 "
        "where area_level = 'province' and review_year = 2022 and standard_code = %s "
        "and area_type = 'total'",
        "update marts.rpt_poverty_indicators_by_area set poor_households = poor_households + 1 "
        "where area_level = 'district' and area_code = '815' and review_year = 2022 and standard_code = %s",
        "update marts.rpt_review_summary set poor_rate = 1.5 where area_level = 'commune' "
        "and area_code = '28252' and review_year = 2021 and standard_code = %s and area_type = 'total'",
        "update marts.rpt_review_summary set poor_end = poor_end + 2 where area_level = 'province' "
        "and review_year = 2022 and standard_code = %s and area_type = 'total'",
    ):
        execute(url, statement, STANDARD)
    execute(url, "delete from marts.fct_poverty_indicators where commune_code = '28360' "
                 "and review_year = 2021 and standard_code = 'QD59_2016_2020'")
    execute(url, "delete from marts.fct_poverty_indicators "
                 "where commune_code = '28249' and review_year = 2022")

    with pytest.raises(QualityGateFailed) as failure:
        run_gate(url, run_name="broken")
    text = str(failure.value)
    assert text.startswith("Kiểm tra chất lượng marts: KHÔNG ĐẠT / marts quality gate FAILED")
    assert sorted(re.findall(r"^\[(\w+)\]", text, re.MULTILINE)) == [
        "commune_present_or_reported_missing", "every_standard_present"]

    def line(rule: str, pattern: str) -> None:
        block = text.split(f"[{rule}]", 1)[1].split("\n[", 1)[0]
        assert re.search(pattern, block), f"{rule}: no line matching {pattern!r} in\n{block}"

    line("every_standard_present", r"mart=fct_poverty_indicators, area_level=commune, area_code=28360, "
                                   r"review_year=2021, standard_code=QD59_2016_2020, measure=rows: "
                                   r"expected 1, found 0")
    line("commune_present_or_reported_missing",
         r"area_code=28249, review_year=2022, detail=outcome accepted, measure=coverage: "
         r"expected present or reported_missing, found accepted_but_absent")

    # the identities: dbt's tests on the marts and on the check views
    failed = dbt_test_failures(url, tmp_path / "dbt", "rpt_review_summary", "qc_area_rollups",
                               "qc_flow_continuity")
    for test in ("area_total_is_sum_of_children", "start_plus_not_reviewed_is_previous_end",
                 "rate_matches_counts_rpt_review_summary_poor_rate_",
                 "stock_flow_identity_rpt_review_summary_poor_end_"):
        assert f"test.poverty_warehouse.{test}" in failed, failed
    with connect(url) as conn:
        found = conn.execute("select found, expected from quality.qc_area_rollups where area_level = "
                             "'district' and area_code = '815' and review_year = 2022 and standard_code = %s "
                             "and measure = 'poor_households'", (STANDARD,)).fetchone()
    assert found == (district_poor + 1, district_poor)


def test_the_build_dag_runs_the_gate_after_dbt_and_before_publishing():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    dag = bag.dags["warehouse_build"]
    gate = dag.get_task("quality_gate")
    assert gate.retries == 0
    assert any(t.startswith("dbt.") for t in gate.upstream_task_ids)
    assert {"report_indicators", "reconcile_submissions", "export_review_summary",
            "write_follow_up_lists"} <= gate.downstream_task_ids
