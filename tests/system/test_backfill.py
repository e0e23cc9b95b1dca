"""Backfills through a real Airflow: the examples of docs/backfills.md, run in their order with
`airflow backfill create` and `POST /api/v2/backfills` against a scheduler (LocalExecutor, PostgreSQL
metadata), an API server and a DAG processor, on generated submissions (3 communes × review
years 2021–2023, the reports of 2024 of 3 agencies: monthly, quarterly, annual).

Each test builds on the ones before it (one stack, one warehouse for the module): the range
makes one run per year and never more than 2 at once; a year run again loads only its late file;
failed-only reprocessing re-runs only the failed year; the nightly DAG still takes whatever
landed; the REST API backfill of a month takes exactly the agency periods closing in it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from support.airflow_local_stack import LocalStack
from support.databases import create_database, drop_database

from poverty_pipeline.samples.agencies import generate_agency_reports
from poverty_pipeline.samples.generate import build_submissions, generate_submissions
from poverty_pipeline.samples.writers import to_json_bytes

ROOT = Path(__file__).resolve().parents[2]
COMMUNES = ["28249", "28252", "28360"]
LATE_COMMUNE = "28363"  # its reviews land after the first backfill
YEARS = (2021, 2022, 2023)
AGENCIES = ["SLDTBXH", "STC", "SKHDT"]  # monthly, quarterly, annual reports
BY_YEAR, BY_MONTH = "commune_ingest_by_year", "agency_ingest_by_month"


def documented_examples() -> dict[str, str]:
    """The examples of docs/backfills.md ("Examples"): first comment line → shell snippet."""
    text = (ROOT / "docs" / "backfills.md").read_text()
    section = text.split("\n## Examples\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    examples = {}
    for chunk in block.strip().split("\n\n"):
        label, script = chunk.split("\n", 1)
        examples[label.lstrip("# ")] = script
    return examples


EXAMPLES = documented_examples()


def example(start: str) -> str:
    (script,) = [s for label, s in EXAMPLES.items() if label.startswith(start)]
    return script


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Landing, warehouse and the running Airflow."""
    name, warehouse = create_database("poverty_backfill")
    landing = tmp_path_factory.mktemp("landing")
    generate_submissions(landing, years=YEARS, communes=COMMUNES, workers=1)
    generate_agency_reports(landing, years=[2024], agencies=AGENCIES)
    stack = LocalStack(tmp_path_factory.mktemp("airflow"), warehouse, landing.as_uri(),
                       [ROOT / "dags" / "commune_ingest.py", ROOT / "dags" / "agency_ingest.py"])
    try:
        stack.start()
        stack.wait_parsed([BY_YEAR, BY_MONTH, "commune_ingest"])
        yield stack, landing, warehouse
    finally:
        stack.stop()
        drop_database(name)


def recorded(warehouse: str, contract: str = "commune_household_review") -> dict[str, str]:
    """path → run that recorded it."""
    with psycopg.connect(warehouse) as conn:
        try:
            rows = conn.execute("select path, ingest_run_id from audit.submissions where contract = %s",
                                (contract,)).fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
    return dict(rows)


def accepted(warehouse: str, run_id: str) -> int:
    with psycopg.connect(warehouse) as conn:
        return conn.execute("select count(*) from audit.submissions where ingest_run_id = %s "
                            "and status like 'accepted%%'", (run_id,)).fetchone()[0]


def household_rows(warehouse: str) -> int:
    with psycopg.connect(warehouse) as conn:
        return conn.execute("select count(*) from raw.commune_households").fetchone()[0]


def landed(landing: Path, folder: str) -> set[str]:
    return {p.relative_to(landing).as_posix() for p in (landing / folder).iterdir() if p.is_file()}


def max_overlap(runs: list[tuple]) -> int:
    """The most runs that were running at one moment (from their start and end times)."""
    edges = sorted([(r[3], 1) for r in runs] + [(r[4], -1) for r in runs], key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def create(stack: LocalStack, script: str, dag_id: str) -> int:
    """Run a documented example that creates a backfill; wait for it; its id."""
    before = stack.latest_backfill(dag_id) or 0
    stack.shell(script)
    backfill_id = stack.latest_backfill(dag_id)
    assert backfill_id and backfill_id > before, f"no backfill created by:\n{script}"
    stack.wait_backfill(backfill_id)
    return backfill_id


def test_partitioned_dags_are_active_and_preview_creates_nothing(site):
    stack, _, _ = site
    paused = dict(stack.query("select dag_id, is_paused from dag where dag_id in (%s, %s, %s)",
                              (BY_YEAR, BY_MONTH, "commune_ingest")))
    assert paused == {BY_YEAR: False, BY_MONTH: False, "commune_ingest": True}
    out = stack.shell(example("preview"))
    assert re.findall(r"\|\s*(\d{4})\s*\|", out) == ["2021", "2022", "2023"], out
    assert not stack.query("select 1 from backfill")  # a dry run creates nothing


def test_range_one_run_per_year_at_most_two_at_once(site):
    stack, landing, warehouse = site
    backfill_id = create(stack, example("a range of review years"), BY_YEAR)
    runs = stack.backfill_runs(backfill_id)
    assert [(r[1], r[2]) for r in runs] == [(str(y), "success") for y in YEARS]
    # Bounded at 2, and the bound was used: the third year waited for one of the first two.
    assert max_overlap(runs) == 2

    got = recorded(warehouse)
    for run_id, year, *_ in runs:
        year_files = landed(landing, f"communes/{year}")
        assert len(year_files) == len(COMMUNES)
        assert {p for p, r in got.items() if r == run_id} == year_files  # its year, all of it
        batches = stack.xcoms(BY_YEAR, run_id, "ingest_batch")
        assert [(b["period"], b["files"]) for b in batches] == [(year, len(COMMUNES))]
        assert batches[0]["loaded"] == accepted(warehouse, run_id) > 0
        log = stack.task_log(BY_YEAR, run_id, "discover_new_files")
        assert f"partition {year}: periods ['{year}']" in log
        assert f"communes/{year}: {len(COMMUNES)} files, {len(COMMUNES)} not yet recorded" in log
    assert len(got) == len(COMMUNES) * len(YEARS)


def test_one_year_again_loads_only_what_is_new(site):
    stack, landing, warehouse = site
    for year in YEARS:  # a commune's review arrives late, in every year
        (sub,) = build_submissions(years=[year], communes=[LATE_COMMUNE])
        (landing / "communes" / str(year) / f"{LATE_COMMUNE}_{year}_late.json").write_bytes(
            to_json_bytes(sub.parts))
    before, rows_before = recorded(warehouse), household_rows(warehouse)

    backfill_id = create(stack, example("one review year again"), BY_YEAR)
    ((run_id, key, state, *_),) = stack.backfill_runs(backfill_id)
    assert (key, state) == ("2022", "success")
    after = recorded(warehouse)
    late = f"communes/2022/{LATE_COMMUNE}_2022_late.json"
    assert after == {**before, late: run_id}  # the late file of 2022 only; nothing twice
    ((period, files, loaded),) = [(b["period"], b["files"], b["loaded"])
                                  for b in stack.xcoms(BY_YEAR, run_id, "ingest_batch")]
    assert (period, files, loaded) == ("2022", 1, 1)
    log = stack.task_log(BY_YEAR, run_id, "discover_new_files")
    assert f"communes/2022: {len(COMMUNES) + 1} files, 1 not yet recorded" in log  # saw all, took 1
    with psycopg.connect(warehouse) as conn:
        late_rows = conn.execute("select household_rows from audit.submissions where path = %s",
                                 (late,)).fetchone()[0]
    assert late_rows > 0 and household_rows(warehouse) == rows_before + late_rows


def test_failed_only_reruns_only_the_failed_year(site):
    stack, _, warehouse = site
    # The 2021 run is marked failed, as an operator does when its run broke off.
    ((run_2021,),) = stack.query("select run_id from dag_run where dag_id = %s and partition_key = '2021'",
                                 (BY_YEAR,))
    stack.api("PATCH", f"/api/v2/dags/{BY_YEAR}/dagRuns/{quote(run_2021, safe='')}", {"state": "failed"})
    before = recorded(warehouse)

    backfill_id = create(stack, example("only the years whose latest run failed"), BY_YEAR)
    ((run_id, key, state, *_),) = stack.backfill_runs(backfill_id)  # 2022 and 2023 not re-run
    assert (key, state) == ("2021", "success")
    exceptions = stack.query("select partition_key, exception_reason from backfill_dag_run "
                             "where backfill_id = %s and dag_run_id is null order by partition_key",
                             (backfill_id,))
    assert exceptions == [("2022", "already exists"), ("2023", "already exists")]
    assert recorded(warehouse) == {**before, f"communes/2021/{LATE_COMMUNE}_2021_late.json": run_id}


def test_nightly_still_takes_whatever_landed(site):
    stack, _, warehouse = site
    before = recorded(warehouse)
    stack.airflow("dags", "unpause", "commune_ingest")  # its run of last night comes at once

    def runs():
        rows = dict(stack.query("select run_id, state from dag_run where dag_id = 'commune_ingest'"))
        return rows if rows and all(s in ("success", "failed") for s in rows.values()) else None

    states = stack.wait(runs, 300, "nightly run")
    # one run; two when the test crosses the nightly tick (01:00 in Vietnam, 18:00 UTC)
    assert set(states.values()) == {"success"} and len(states) <= 2, states
    # What no backfill took: 2023's late file (2023 was not re-run), and nothing else.
    after = recorded(warehouse)
    late = f"communes/2023/{LATE_COMMUNE}_2023_late.json"
    assert after.pop(late) in states
    assert after == before


def test_rest_api_backfill_of_a_month_takes_the_periods_closing_in_it(site):
    stack, landing, warehouse = site
    backfill_id = create(stack, example("REST API"), BY_MONTH)
    ((run_id, key, state, *_),) = stack.backfill_runs(backfill_id)
    assert (key, state) == ("2024-09", "success")
    periods = ["2024-09", "2024-Q3"]  # the month and the quarter it ends
    expected = set().union(*(landed(landing, f"agencies/{p}") for p in periods))
    got = recorded(warehouse, "agency_task_report")
    assert got == dict.fromkeys(expected, run_id) and expected  # no other month, quarter, year
    assert [b["period"] for b in stack.xcoms(BY_MONTH, run_id, "ingest_batch")] == periods
