"""What `poverty run` (`make run`) shows while a DAG runs: each task's start and end with its
elapsed time and the count of tasks finished (a mapped task under its period, a failed one with
its reason), the pipeline's progress lines (an identical message once), dbt's result per model;
everything else stays in the log file."""

from __future__ import annotations

import re
from pathlib import Path

from poverty_pipeline.orchestration import runner
from poverty_pipeline.samples.generate import generate_submissions

FRAGMENT = Path(__file__).parent / "data" / "dags_test_warehouse_build.log"  # a real build's output


def shown(lines: list[str], counts=None, names=None) -> list[str]:
    progress = runner.Progress(lambda: counts, lambda task, index: (names or {}).get((task, index)))
    return [text for i, line in enumerate(lines) for text in progress.feed(line, float(i))]


def test_build_output_shows_task_ends_with_the_dbt_result_of_each_model():
    out = shown(FRAGMENT.read_text().splitlines(keepends=True), counts=(7, 96))
    assert out[0] == "start prepare_sources"
    assert re.fullmatch(r"7/96 tasks done prepare_sources in \d+\.\d s", out[1])
    seed, view, tests = out[2:]
    assert seed.startswith("7/96 tasks done dbt.ref_district_renames.seed in ")
    assert seed.endswith(": OK loaded seed file reference.ref_district_renames [INSERT 1 in 0.51s]")
    assert view.endswith(": OK created sql view model staging.stg_commune_reviews__submissions "
                         "[CREATE VIEW in 0.52s]")
    assert tests.endswith(": Done. PASS=4")  # the counts that are not 0


def test_failing_model_and_progress_lines_show_at_once():
    lines = [
        "2026-11-27T14:25:17.540343Z [info     ] [DAG TEST] starting task_id=dbt.fct_x.run map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:1501\n",
        "\x1b[0m14:25:42  1 of 1 ERROR creating sql table model marts.fct_x ........ "
        "[\x1b[31mERROR\x1b[0m in 0.2s]\n",
        "2026-11-27T14:26:00.1Z [info     ] progress: 50 of 164 files, 17,210 rows, 12.5 s "
        "[poverty_pipeline.ingest.batch] loc=ingest.py:90\n",
        "\x1b[0m14:25:42  1 of 1 START sql table model marts.fct_activity_progress .... [RUN]\n",
    ]
    assert shown(lines) == ["1 of 1 ERROR creating sql table model marts.fct_x [ERROR in 0.2s]",
                            "progress: 50 of 164 files, 17,210 rows, 12.5 s"]


def test_ingest_through_airflow_shows_each_task_and_the_count_of_tasks_done(warehouse, landing, tmp_path):
    """A real `airflow dags test commune_ingest` on two communes' reviews of one year."""
    generate_submissions(landing, years=[2021], communes=["28249", "28252"], workers=1)
    env = runner.airflow_env(warehouse, landing.as_uri(), home=tmp_path / "airflow")
    runner.migrate(env)
    echoed: list[str] = []
    runner.dags_test("commune_ingest", env, log_dir=tmp_path / "logs", echo=echoed.append)

    texts = [line.split("] ", 1)[1] for line in echoed]
    assert all(line.startswith("  [commune_ingest ") for line in echoed)
    ends = [t for t in texts if " done " in t]
    assert [t.split(" done ")[1].split(" in ")[0] for t in ends] == [
        "prepare_warehouse", "discover_new_files", "ingest_batch 2021", "announce_loaded"]
    assert ends[-1].startswith("4/4 tasks done announce_loaded")
    assert "start ingest_batch 2021" in texts  # the batch under its period, not its map index
    assert "period 2021: 2 new files, 2 loaded" in "\n".join(texts)
    assert not [t for t in texts if "XCom not found" in t]  # no noise from reading the batches
    assert (tmp_path / "logs" / "commune_ingest.log").stat().st_size > 10 * len("\n".join(echoed))


# A mapped task's two instances from a real `airflow dags test` log (the traceback's frames cut):
# the first succeeds, the second fails; both log the same Data Docs line.
MAPPED = Path(__file__).parent / "data" / "dags_test_mapped_failure.log"


def test_mapped_tasks_show_their_period_a_repeated_message_once_and_a_failure_its_reason():
    names = {("ingest_batch", "0"): "2025-Q3", ("ingest_batch", "1"): "2025-Q4"}
    out = shown(MAPPED.read_text().splitlines(keepends=True), counts=(3, 3), names=names)
    assert out[:2] == ["start ingest_batch 2025-Q3", "Great Expectations Data Docs: /x/index.html"]
    assert re.fullmatch(r"3/3 tasks done ingest_batch 2025-Q3 in \d+\.\d s", out[2])
    assert out[3] == "start ingest_batch 2025-Q4"
    assert re.fullmatch(r"3/3 tasks FAILED ingest_batch 2025-Q4 in \d+\.\d s: "
                        r"ValueError: sheet 'danh_sach_ho' is missing", out[4])
    assert len(out) == 5  # no second Data Docs line, no traceback, no run's closing line


def test_a_mapped_task_whose_period_is_not_rendered_keeps_its_map_index():
    out = shown(MAPPED.read_text().splitlines(keepends=True)[:4])
    assert out[0] == "start ingest_batch[0]" and out[2].startswith("done ingest_batch[0] in ")


def test_a_count_or_a_time_that_repeats_by_chance_is_shown_again():
    line = ("2026-12-03T16:11:01.1Z [info     ] read: 1 of 1 files (1.8 s)     "
            "[poverty_pipeline.ingest.batch] loc=ingest.py:64\n")
    assert shown([line, line]) == ["read: 1 of 1 files (1.8 s)"] * 2
