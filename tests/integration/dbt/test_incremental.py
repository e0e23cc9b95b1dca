"""Incremental builds equal a full build. The household models (int_review_households,
int_households_classified, int_household_flows) rebuild only the households of the reviews that
changed since their last build; everything built from them must be what a full build of the
same submissions gives.

The submissions are the hand-computed histories across the 2024 and 2025 reorganisations
(test_households_across_reorganisations), arriving in three runs:
1. most of them (the first build: everything);
2. the reviews held back — a commune's first review of a year, a closed code reporting beside
   its successor for the same households, a year after a gap;
3. corrections: one changes a household's class, drops one and adds one; one drops a household
   that another review of the same unit then counts; one lists a household of another unit, so
   a unit that sent nothing new changes too.
then a run with nothing new, which rebuilds nothing; then a new release whose classification
has a column the table lacks, which rebuilds that model whole with the column. After each run,
every table equals a full build of the same submissions in a second warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest
from support.databases import throwaway_database
from support.pipeline_helpers import schema_checksums
from test_households_across_reorganisations import SUBMISSIONS
from test_poverty_measures import area, household

from poverty_pipeline.warehouse.database import ensure_schema

H = household
HOUSEHOLD_MODELS = ("int_review_households", "int_households_classified", "int_household_flows")
# the agency side has no submissions here: its models and tests are not built
BUILD = ("build", "--exclude", "stg_agency_reports__activities+")
BUILT_SCHEMAS = ("intermediate", "marts", "quality", "restricted")

HELD_BACK = ("g5_22", "g2_24", "p2_25", "p3_23")

# correction id → (the submission it supersedes, received day of December, households)
CORRECTIONS = {
    # G5 poor instead of unclassifiable, G7 dropped, G9 new: its 2024 and 2025 flows change
    "g5_23_v2": ("g5_23", 28, [H("G1", "N"), H("G2", "N"), H("G3", "X"), H("G5", "P"),
                               H("G6", "U"), H("G8", "X"), H("G9", "N"), H("H1", "P")]),
    # the successor's own 2025 review without D1: Phường 2's review (closed code) counts it now
    "p1_25_v2": ("p1_25", 30, [H("E1", "N"), H("28264-D2", "N"), H("28258-C1", "P"),
                               H("28258-C2", "X")]),
    # Gò Công's Phường 2 lists in 2025 household B5 of Phường 4 (closed, reporting for Phường
    # Đạo Thạnh): its own review wins over a closed code's, so Phường Đạo Thạnh's 2025 figures
    # change without a new file
    "g2_25_v2": ("g2_25", 28, [H("F1", "X"), H("F2", "N"), H("28252-B5", "N")]),
}


def load(conn: psycopg.Connection, load_submission, ids) -> None:
    for submission_id in ids:
        code, year, day, households, total = SUBMISSIONS[submission_id]
        load_submission(conn, submission_id=submission_id, commune_code=code, review_year=year,
                        received_at=dt.datetime(year, 12, day, tzinfo=dt.UTC),
                        areas=[area(households, total=total)], households=households)


def correct(conn: psycopg.Connection, load_submission) -> None:
    for submission_id, (supersedes, day, households) in CORRECTIONS.items():
        code, year, _, _, total = SUBMISSIONS[supersedes]
        load_submission(conn, submission_id=submission_id, commune_code=code, review_year=year,
                        received_at=dt.datetime(year, 12, day, tzinfo=dt.UTC),
                        areas=[area(households, total=total)], households=households)
        conn.execute("update audit.submissions set status = 'superseded', superseded_by = %s "
                     "where submission_id = %s", (submission_id, supersedes))


def rows_written(target: Path) -> dict[str, int]:
    """Rows each household model wrote in the last dbt invocation."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["adapter_response"].get("rows_affected")
            for r in results if r["unique_id"].rsplit(".", 1)[-1] in HOUSEHOLD_MODELS}


def table_sizes(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {m: conn.execute(f"select count(*) from intermediate.{m}").fetchone()[0]
                for m in HOUSEHOLD_MODELS}


STEPS = ("first", "held back", "corrections", "nothing new", "a new release")


def previous_release(url: str) -> None:
    """The incremental warehouse as a release before this one left it: the classified
    households without a column this release adds, built under other rules (its fingerprint)."""
    with psycopg.connect(url) as conn:
        conn.execute("alter table intermediate.int_households_classified "
                     "drop column deprived_indicator_codes")
        conn.execute("update intermediate.household_builds set rules_fingerprint = 'previous' "
                     "where model_name = 'int_households_classified'")


def arrive(conn: psycopg.Connection, step: str, load_submission) -> None:
    if step == "first":
        load(conn, load_submission, [s for s in SUBMISSIONS if s not in HELD_BACK])
    elif step == "held back":
        load(conn, load_submission, HELD_BACK)
    elif step == "corrections":
        correct(conn, load_submission)


@pytest.fixture(scope="module")
def runs(warehouse_url, load_submission, run_dbt, tmp_path_factory) -> dict:
    """Each step's submissions arrive in two warehouses: one built incrementally (`dbt build`,
    with every dbt test), one fully (`dbt build --full-refresh`, without the tests). Per step:
    what the incremental build wrote, the household tables' sizes, both warehouses' checksums."""
    steps = {}
    with throwaway_database("dbt_full") as full_url:
        with psycopg.connect(full_url) as conn:
            ensure_schema(conn)
        for step in STEPS:
            for url in (warehouse_url, full_url):
                with psycopg.connect(url) as conn:
                    arrive(conn, step, load_submission)
            if step == "a new release":
                previous_release(warehouse_url)
            target = tmp_path_factory.mktemp("dbt_target")
            run_dbt(warehouse_url, target, *BUILD)
            run_dbt(full_url, tmp_path_factory.mktemp("dbt_target"), *BUILD, "--full-refresh",
                    "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
            steps[step] = {
                "written": rows_written(target),
                "sizes": table_sizes(warehouse_url),
                "incremental": schema_checksums(warehouse_url, BUILT_SCHEMAS),
                "full": schema_checksums(full_url, BUILT_SCHEMAS),
            }
    return steps


@pytest.mark.parametrize("step", STEPS)
def test_every_table_built_incrementally_equals_the_full_build(runs, step):
    built, expected = runs[step]["incremental"], runs[step]["full"]
    assert built.keys() == expected.keys()
    assert {t: s for t, s in built.items() if expected[t] != s} == {}


def test_a_run_rebuilds_only_the_changed_households(runs):
    written = {step: runs[step]["written"] for step in STEPS}
    assert written["first"] == runs["first"]["sizes"]  # the first build writes every row
    for step, model in [("held back", "int_review_households"),
                        ("held back", "int_households_classified"),
                        *(("corrections", model) for model in HOUSEHOLD_MODELS)]:
        assert 0 < written[step][model] < runs[step]["sizes"][model], (step, model)
    # first reviews of 2022, 2023, 2024 and 2025 arrived: the flows of every year again
    flows = "int_household_flows"
    assert written["held back"][flows] == runs["held back"]["sizes"][flows]
    # the rows listing a household of a correction or of the review it replaced: G5's 8; the
    # successor's 4 and Phường 2's 4 listing the same households; Gò Công Phường 2's 3 and the
    # row of Phường 4's 2025 review listing B5
    assert written["corrections"]["int_review_households"] == 8 + (4 + 4) + (3 + 1)
    assert written["nothing new"] == dict.fromkeys(HOUSEHOLD_MODELS, 0)
    # a release that changed the classification (its SQL, here a column): that model whole,
    # with the new column added to the table (on_schema_change)
    classified = "int_households_classified"
    assert written["a new release"] == {
        **dict.fromkeys(HOUSEHOLD_MODELS, 0), classified: runs["a new release"]["sizes"][classified]}
