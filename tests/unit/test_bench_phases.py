"""The benchmark's helpers that read what a run left behind: dbt's log inside the Airflow
producer, the Airflow metadata of the DAG's run, dbt's manifest; and the bench's own database."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time

import psutil
import pytest

from poverty_pipeline.cli import bench_phases as phases


def test_the_bench_database_is_named_after_its_scale_and_process():
    assert phases.database_name(0.05) == f"poverty_bench_s0_05_{os.getpid()}"
    assert phases.database_name(1.0) == f"poverty_bench_s1_{os.getpid()}"
    assert phases.with_database("postgresql://u:p@h:5432/postgres?sslmode=disable", "b") == (
        "postgresql://u:p@h:5432/b?sslmode=disable")


def test_dbt_timing_is_read_from_the_producer_log(tmp_path):
    log = tmp_path / "warehouse_build.log"
    log.write_text(
        "2026-12-04T00:17:49Z [info ] 00:17:49  1 of 3 START sql table model a .... [RUN] [x]\n"
        "2026-12-04T00:17:50Z [info ] 00:17:49  1 of 3 OK created sql table model a .... "
        "[\x1b[32mSELECT 867\x1b[0m in 0.24s] [x]\n"
        "2026-12-04T00:17:51Z [info ] 00:17:51  2 of 3 PASS not_null_a_id .... "
        "[\x1b[32mPASS\x1b[0m in 1.5s] [x]\n"
        "2026-12-04T00:17:52Z [info ] 00:17:52  3 of 3 OK loaded seed file reference.s .... "
        "[\x1b[32mINSERT 8\x1b[0m in 2s] [x]\n"
        "2026-12-04T00:20:02Z [info ] 00:20:02  Finished running 1 table model, 1 seed, 1 data test "
        "in 0 hours 0 minutes and 12.99 seconds (12.99s). [x]\n")
    assert phases.dbt_timing_in_log(log) == {"run": 12.99, "nodes_sum": 3.74}


def test_the_dbt_task_times_come_from_the_latest_run_of_the_dag(tmp_path):
    with sqlite3.connect(tmp_path / "airflow.db") as db:
        db.execute("create table dag_run (id integer, dag_id text, run_id text)")
        db.execute("create table task_instance (dag_id text, run_id text, task_id text, "
                   "start_date text, end_date text, duration float)")
        db.executemany("insert into dag_run values (?, ?, ?)",
                       [(1, "warehouse_build", "old"), (2, "warehouse_build", "new")])
        day = "2026-12-04 {}+00:00".format
        db.executemany("insert into task_instance values ('warehouse_build', ?, ?, ?, ?, ?)", [
            ("old", "dbt.dbt_producer_watcher", day("00:00:00"), day("00:09:00"), 540),
            ("new", "prepare_sources", day("01:00:00"), day("01:00:02"), 2),
            ("new", "dbt.dbt_producer_watcher", day("01:00:03"), day("01:01:03"), 60),
            ("new", "dbt.model_a", day("01:01:04"), day("01:01:10.500000"), 6.5),
            ("new", "quality_gate", day("01:01:11"), None, None),
        ])
    assert phases.task_times(tmp_path, "warehouse_build") == {"producer": 60, "dbt_group": 67.5, "tasks": 4}


def test_what_dbt_built_is_dropped_never_the_ingested_data(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {
        "seed.p.s": {"resource_type": "seed", "schema": "reference"},
        "model.p.m": {"resource_type": "model", "schema": "marts"},
        "model.p.odd": {"resource_type": "model", "schema": "raw"},
        "test.p.t": {"resource_type": "test", "schema": "dbt_test__audit"},
    }}))
    assert phases.built_schemas(manifest) == ["marts", "reference"]


def test_the_rows_each_household_model_wrote(tmp_path):
    results = tmp_path / "run_results.json"
    results.write_text(json.dumps({"elapsed_time": 30.5, "results": [
        {"unique_id": "model.p.int_review_households", "execution_time": 1.0,
         "adapter_response": {"rows_affected": 29}},
        {"unique_id": "model.p.int_households_classified", "execution_time": 2.0, "adapter_response": {}},
        {"unique_id": "test.p.int_review_households_unique", "execution_time": 0.25},
    ]}))
    assert phases.rows_written(results) == {
        "int_review_households": 29, "int_households_classified": None, "int_household_flows": None}
    assert phases.dbt_timing(results) == {"run": 30.5, "nodes_sum": 3.25}




SLEEPER = "import time; time.sleep(60)"


def test_a_command_running_past_its_timeout_is_stopped_with_its_children():
    parent = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {SLEEPER!r}]); "
              "print('started', flush=True); time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="still ran after 2 s and was stopped:\nstarted"):
        phases.measure([sys.executable, "-c", parent], dict(os.environ), timeout=2)
    assert time.monotonic() - started < 20
    assert not [p for p in psutil.process_iter(["cmdline"]) if SLEEPER in " ".join(p.info["cmdline"] or [])]


def test_a_run_without_the_optional_phases_reports_what_it_measured(tmp_path, monkeypatch, capsys):
    """`poverty bench --skip embedded,airflow,resubmission` (a large scale's run): the table and
    the JSON hold the ingest, the build, the floor and the dashboard queries, and say what was
    left out."""
    from poverty_pipeline.cli import bench

    monkeypatch.setattr(bench, "LOCAL_DIR", tmp_path)
    run = bench.Run("poverty_bench_s20_1", "postgresql://x/y", tmp_path, 20.0, 5,
                    skipped=frozenset(bench.OPTIONAL_PHASES))
    run.seconds = {"ingest": 900.0, "dbt_build": 1200.0, "floor": 150.0, "floor_read": 100.0,
                   "floor_copy": 14.0, "floor_sql": 36.0}
    run.peak = {"ingest": 900 << 20, "dbt_build": 200 << 20, "floor": 100 << 20}
    run.slowest = {"dbt_build": [("rpt_household_profiles_by_area", 120.0)]}
    run.facts = {"ingest": {"files": 737}, "household_rows": 5_675_460,
                 "postgres": {"server": {"server_version": "15.20", "autovacuum": "off",
                                         "shared_buffers": "128MB", "work_mem": "4MB"}},
                 "dashboard_queries_ms": {"all": {"p50_ms": 1.0, "p95_ms": 3.0},
                                          "by_area": {"p50_ms": 1.0, "p95_ms": 3.0}},
                 "dbt_timing": {"dbt_build": {"run": 1190.0, "nodes_sum": 2000.0}}}
    bench._report(run)
    table = capsys.readouterr().out
    assert "ingest ÷ floor | 6.00 ×" in table and "left out: airflow, embedded, resubmission" in table
    assert "Airflow" not in table and "resubmission of" not in table
    figures = json.loads((tmp_path / "bench" / "scale-20.json").read_text())
    assert figures["ratios"]["resubmission_to_full"] is None
    assert figures["skipped"] == ["airflow", "embedded", "resubmission"]
    assert figures["peak_mib"]["ingest"] == 900
