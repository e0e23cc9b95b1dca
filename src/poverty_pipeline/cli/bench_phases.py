"""The benchmark's pieces beside its table (``bench.py``): measuring a command, the floor, the
databases it works in, `dbt build`, the copy of the raw data to the other PostgreSQL, one
commune's resubmission, and the warehouse build through Airflow."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from poverty_pipeline.config import DBT_PROJECT_DIR, SCHEDULED_BUILD_ENV
from poverty_pipeline.orchestration.runner import ANSI

COMMUNE_CONTRACT = "commune_household_review"
# What a submission is loaded as when it is taken in (audit.submissions.status).
TAKEN_IN = ("accepted", "accepted_with_warnings")
# The household-level models a resubmission rebuilds in part (macros/household_rebuild.sql).
HOUSEHOLD_MODELS = ("int_review_households", "int_households_classified", "int_household_flows")
# The schemas the bench copies to the other server: what the ingest writes and the key's pads.
COPIED_SCHEMAS = ("audit", "raw")
# Never dropped before the DAG's build, whatever the manifest says: the ingested data, the key.
NEVER_DROPPED = {"raw", "audit", "pii", "public"}
WAREHOUSE_BUILD = "warehouse_build"


# --- measuring a command ---------------------------------------------------------------------

def _peak_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    import psutil

    peak = 0
    try:
        root = psutil.Process(pid)
        while not stop.is_set():
            procs = [root, *root.children(recursive=True)]
            total = 0
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
            peak = max(peak, total)
            time.sleep(0.05)
    except psutil.NoSuchProcess:
        pass
    out.append(peak)


def measure(cmd: list[str], env: dict[str, str], timeout: float | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS bytes and stdout of a command; a command still running after
    ``timeout`` seconds is stopped (with its children) and fails."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop, peak = threading.Event(), []
    sampler = threading.Thread(target=_peak_rss, args=(proc.pid, stop, peak))
    sampler.start()
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        output, _ = proc.communicate()
        raise RuntimeError(f"{' '.join(cmd)} still ran after {timeout:.0f} s and was stopped:\n"
                           f"{output[-3000:]}") from None
    finally:
        stop.set()
        sampler.join()
    elapsed = time.monotonic() - started
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{output[-3000:]}")
    return elapsed, peak[0] if peak else 0, output


def _kill_tree(pid: int) -> None:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for proc in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


def last_json(output: str) -> dict:
    """The JSON object a phase printed last."""
    return json.loads(output.strip().splitlines()[-1])


# --- the floor -------------------------------------------------------------------------------

# The floor: the same three standards' thresholds written into one statement (rural poor line,
# urban poor line, rural/urban income-only line) — no seeds, no layers, no tests.
FLOOR_SQL = """
with h as (
    select c.ma_xa as commune_code, d.khu_vuc, d.thu_nhap_binh_quan as income,
           coalesce(d.td_viec_lam,0)+coalesce(d.td_phu_thuoc,0)+coalesce(d.td_dinh_duong,0)
           +coalesce(d.td_bhyt,0)+coalesce(d.td_trinh_do_nguoi_lon,0)+coalesce(d.td_di_hoc_tre_em,0)
           +coalesce(d.td_chat_luong_nha,0)+coalesce(d.td_dien_tich_nha,0)
           +coalesce(d.td_nuoc_sinh_hoat,0)+coalesce(d.td_nha_tieu,0) as d_common,
           coalesce(d.td_vien_thong,0)+coalesce(d.td_thiet_bi_thong_tin,0) as d_info07,
           coalesce(d.td59_tiep_can_y_te,0)
           +coalesce(d.td59_trinh_do_nguoi_lon,d.td_trinh_do_nguoi_lon,0)
           +coalesce(d.td59_di_hoc_tre_em,d.td_di_hoc_tre_em,0)
           +coalesce(d.td59_vien_thong,d.td_vien_thong,0)
           +coalesce(d.td59_tai_san_thong_tin,d.td_thiet_bi_thong_tin,0)
           +coalesce(d.td_bhyt,0)+coalesce(d.td_chat_luong_nha,0)+coalesce(d.td_dien_tich_nha,0)
           +coalesce(d.td_nuoc_sinh_hoat,0)+coalesce(d.td_nha_tieu,0) as d59,
           coalesce(d.td351_dich_vu_so,0)+coalesce(d.td351_xu_ly_rac,0) as d_info351,
           c.nam_ra_soat as review_year
      from floor_households d join floor_info c using (submission_id)
),
s(standard_code, rural_line, urban_line, rural_only, urban_only) as (values
    ('QD59_2016_2020', 1000000, 1300000, 700000, 900000),
    ('ND07_2022_2025', 1500000, 2000000, null, null),
    ('ND351_2027_2030', 2200000, 2800000, null, null)
),
classified as (
    select h.commune_code, h.review_year, s.standard_code,
           case when h.income <= case when h.khu_vuc = 'thanh_thi' then s.urban_only else s.rural_only end
                then 'poor'
                when h.income <= case when h.khu_vuc = 'thanh_thi' then s.urban_line else s.rural_line end
                then case when (case s.standard_code when 'QD59_2016_2020' then h.d59
                                     when 'ND07_2022_2025' then h.d_common + h.d_info07
                                     else h.d_common + h.d_info351 end) >= 3
                          then 'poor' else 'near_poor' end
                else 'neither' end as class
      from h cross join s
)
select commune_code, review_year, standard_code,
       count(*) filter (where class = 'poor') as poor,
       count(*) filter (where class = 'near_poor') as near_poor
  from classified group by 1, 2, 3
"""


def floor(url: str, csv_dir: Path) -> dict:
    """Inside a child process: the household rows copied from CSV into temporary tables, then
    the floor's one statement; seconds of each."""
    from poverty_pipeline.warehouse.database import connect

    with connect(url) as conn, conn.cursor() as cur:
        started = time.monotonic()
        cur.execute("create temp table floor_info (like raw.commune_submission_info)")
        cur.execute("create temp table floor_households (like raw.commune_households)")
        for table in ("floor_info", "floor_households"):
            with (csv_dir / f"{table}.csv").open("rb") as f, cur.copy(
                f"copy {table} from stdin with (format csv)"
            ) as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        copied = time.monotonic() - started
        rows = cur.execute(FLOOR_SQL).fetchall()
        sql_s = time.monotonic() - started - copied
        return {"copy_s": round(copied, 2), "sql_s": round(sql_s, 2), "groups": len(rows)}


def read_all(landing: Path) -> dict:
    """Every commune file read as plainly as it can be: each xlsx sheet's cells by calamine,
    each JSON file parsed — no checks, no conversion."""
    from python_calamine import CalamineWorkbook

    started, files, rows = time.monotonic(), 0, 0
    for path in sorted((landing / "communes").rglob("*")):
        if path.suffix == ".xlsx":
            book = CalamineWorkbook.from_path(str(path))
            rows += sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)
        elif path.suffix == ".json":
            rows += sum(len(v) for v in json.loads(path.read_bytes()).values() if isinstance(v, list))
        else:
            continue
        files += 1
    return {"files": files, "rows": rows, "read_s": round(time.monotonic() - started, 2)}


def export_csv(url: str, folder: Path) -> int:
    from poverty_pipeline.warehouse.database import connect

    with connect(url) as conn, conn.cursor() as cur:
        tables = (("floor_info", "commune_submission_info"), ("floor_households", "commune_households"))
        for table, source in tables:
            with (folder / f"{table}.csv").open("wb") as f, cur.copy(
                f"copy raw.{source} to stdout with (format csv)"
            ) as copy:
                for chunk in copy:
                    f.write(chunk)
        return cur.execute("select count(*) from raw.commune_households").fetchone()[0]


# --- databases -------------------------------------------------------------------------------

def database_name(scale: float) -> str:
    """The bench's database: its scale and this process's id, so that runs side by side (other
    scales, other work trees on the same server) never drop each other's."""
    return f"poverty_bench_s{f'{scale:g}'.replace('.', '_')}_{os.getpid()}"


def with_database(server_url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def fresh_database(server_url: str, name: str) -> str:
    """``name`` created on the server of ``server_url`` (dropped first if a run of the same name
    left it); its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


# Settings that change what a build costs, reported beside each server's figures.
SETTINGS = ("server_version", "autovacuum", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")


def server_settings(url: str) -> dict[str, str]:
    from poverty_pipeline.warehouse.database import connect

    with connect(url) as conn:
        found = dict(conn.execute("select name, current_setting(name) from pg_settings "
                                  "where name = any(%s)", (list(SETTINGS),)).fetchall())
    found["server_version"] = found["server_version"].split()[0]
    return {name: found[name] for name in SETTINGS}


def copy_warehouse(source_url: str, target_url: str) -> int:
    """The raw and audit tables and the key's pads (pii.hmac_pads) of ``source_url`` copied into
    ``target_url`` (set up by ``ensure_schema``); those the source has statistics of analysed, the
    others left without, as on the source (a server without autovacuum has none after the
    ingest); the rows copied."""
    from psycopg import sql

    from poverty_pipeline.warehouse.database import connect, ensure_schema

    with connect(target_url, autocommit=True) as conn:
        ensure_schema(conn)
    copied = 0
    with connect(source_url) as src, connect(target_url) as dst:
        tables = src.execute(
            "select schemaname, tablename from pg_tables where schemaname = any(%s) "
            "or (schemaname, tablename) = ('pii', 'hmac_pads') "
            # audit.submissions first: every other table refers to it
            "order by (schemaname, tablename) <> ('audit', 'submissions'), 1, 2",
            (list(COPIED_SCHEMAS),)).fetchall()
        analysed = set(src.execute("select schemaname, relname from pg_stat_user_tables "
                                   "where coalesce(last_analyze, last_autoanalyze) is not null").fetchall())
        names = [sql.Identifier(schema, table) for schema, table in tables]
        dst.execute(sql.SQL("truncate {}").format(sql.SQL(", ").join(names)))
        for (schema, table), name in zip(tables, names, strict=True):
            columns = sql.SQL(", ").join(sql.Identifier(c) for (c,) in src.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position", (schema, table)))
            with src.cursor().copy(sql.SQL("copy {} ({}) to stdout (format binary)").format(
                    name, columns)) as out, dst.cursor().copy(
                    sql.SQL("copy {} ({}) from stdin (format binary)").format(name, columns)) as into:
                for chunk in out:
                    into.write(chunk)
        dst.commit()
        dst.autocommit = True
        for table, name in zip(tables, names, strict=True):
            if tuple(table) in analysed:
                dst.execute(sql.SQL("analyze {}").format(name))
            copied += dst.execute(sql.SQL("select count(*) from {}").format(name)).fetchone()[0]
    return copied


# --- dbt -------------------------------------------------------------------------------------

def dbt_build(env: dict[str, str], target: Path, timeout: float | None = None) -> tuple[float, int]:
    """`dbt build` as the warehouse_build DAG runs it (without dbt's unit tests), with its own
    target folder (two runs never share one): wall seconds, peak RSS."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    seconds, rss, _ = measure([dbt, "build", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target),
                               "--log-path", str(target / "logs")], {**env, **SCHEDULED_BUILD_ENV}, timeout)
    return seconds, rss


def slowest_nodes(run_results: Path, count: int = 5) -> list[tuple[str, float]]:
    """The ``count`` slowest nodes of the last dbt invocation: (node name, seconds)."""
    results = json.loads(run_results.read_text())["results"]
    timed = sorted(((r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in results),
                   key=lambda node: -node[1])
    return [(name, round(seconds, 1)) for name, seconds in timed[:count]]


def dbt_timing(run_results: Path) -> dict[str, float]:
    """dbt's own run time (after parsing) and the sum of its nodes' times, seconds."""
    doc = json.loads(run_results.read_text())
    return {"run": round(doc["elapsed_time"], 2),
            "nodes_sum": round(sum(r["execution_time"] for r in doc["results"]), 2)}


# In a log of dbt's: the end of the run, and a node's result with its time.
DBT_FINISHED = re.compile(r"Finished running .* \((\d+(?:\.\d+)?)s\)")
DBT_NODE_TIME = re.compile(r"\d+ of \d+ (?:OK|PASS|WARN|ERROR|FAIL)\b.* in (\d+(?:\.\d+)?)s\]")


def dbt_timing_in_log(log: Path) -> dict[str, float | None]:
    """``dbt_timing`` of the dbt build a task's log shows (the producer's, in the DAG's log)."""
    text = ANSI.sub("", log.read_text(errors="replace"))
    finished = DBT_FINISHED.findall(text)
    return {"run": float(finished[-1]) if finished else None,
            "nodes_sum": round(sum(float(t) for t in DBT_NODE_TIME.findall(text)), 2)}


def rows_written(run_results: Path, models=HOUSEHOLD_MODELS) -> dict[str, int | None]:
    """The rows each of ``models`` inserted in the last dbt invocation (dbt's adapter response)."""
    results = json.loads(run_results.read_text())["results"]
    by_name = {r["unique_id"].split(".")[-1]: r for r in results if r["unique_id"].startswith("model.")}
    return {m: (by_name[m].get("adapter_response") or {}).get("rows_affected") if m in by_name else None
            for m in models}


def built_schemas(manifest: Path) -> list[str]:
    """The schemas dbt builds into (seeds, models, snapshots), never raw, audit or pii."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sorted({n["schema"] for n in nodes if n["resource_type"] in ("model", "seed", "snapshot")}
                  - NEVER_DROPPED)


def drop_built(url: str, manifest: Path) -> list[str]:
    """Drop what dbt built, so that the next build does all the work of a first one."""
    from psycopg import sql

    from poverty_pipeline.warehouse.database import connect

    schemas = built_schemas(manifest)
    with connect(url, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    return schemas


# --- one commune's resubmission --------------------------------------------------------------

def write_resubmission(landing: Path, url: str, years: range, scale: float, seed: int) -> dict:
    """Write a corrected review of one commune into ``landing``, as the generator wrote its first
    version (same format and header style, a later ``ngay_lap`` so that it supersedes it): every
    tenth household's income changed, one household dropped, one added. The commune is the first
    the generator writes with a review taken in for the last review year that has any."""
    from poverty_pipeline.reference.admin_units import HOUSEHOLD_PREFIX
    from poverty_pipeline.samples.generate import build_submissions, render
    from poverty_pipeline.warehouse.database import connect

    with connect(url) as conn:
        taken_in = set(conn.execute(
            "select submitter_code, review_year from audit.submissions where contract = %s "
            "and status = any(%s) and review_type = 'dinh_ky'",
            (COMMUNE_CONTRACT, list(TAKEN_IN))).fetchall())
    year = max(y for _, y in taken_in)
    sub = next(s for s in build_submissions(years, seed=seed, scale=scale)
               if s.year == year and (s.commune_code, s.year) in taken_in)
    rows = sub.parts["danh_sach_ho"]
    rows.pop(1)
    changed = rows[::10]
    for i, row in enumerate(changed):  # half of them poorer, half richer
        row["thu_nhap_binh_quan"] = int(round(row["thu_nhap_binh_quan"] * (0.6 if i % 2 else 1.5), -3))
    added = dict(next((r for r in rows if not HOUSEHOLD_PREFIX.match(r["ma_ho"])), rows[-1]))
    head = added["ma_ho"].rstrip("0123456789")
    width, taken = len(added["ma_ho"]) - len(head), {r["ma_ho"] for r in rows}
    added["ma_ho"] = next(code for n in range(10**width - 1, 0, -1)
                          if (code := f"{head}{n:0{width}d}") not in taken)
    added["so_dinh_danh_chu_ho"] = (added["so_dinh_danh_chu_ho"] or "082000")[:6] + "999999"
    rows.append(added)
    info = sub.parts["thong_tin"]
    info["ngay_lap"] = (dt.date.fromisoformat(info["ngay_lap"]) + dt.timedelta(days=20)).isoformat()
    path = landing / "communes" / str(year) / f"{sub.commune_code}_{year}_dinh_ky_lan_2.{sub.fmt}"
    path.write_bytes(render(sub))
    return {"commune": sub.commune_code, "year": year, "format": sub.fmt, "households": len(rows),
            "incomes_changed": len(changed), "dropped": 1, "added": 1,
            "path": str(path.relative_to(landing)), "ngay_lap": info["ngay_lap"]}


# --- the warehouse build through Airflow -----------------------------------------------------

def airflow_build(py: str, url: str, landing: Path, home: Path, log_dir: Path,
                  extra_env: dict[str, str], timeout: float | None = None) -> dict:
    """Run the warehouse_build DAG with `airflow dags test` through the project's runner, in
    a process of its own (its peak memory), on a metadata database of its own (``home``):
    wall seconds of the DAG, its dbt producer task's and its dbt task group's (producer and the
    per-node tasks), dbt's own run time and node times in the producer, peak memory."""
    from poverty_pipeline.orchestration import runner

    env = {**runner.airflow_env(url, landing.as_uri(), home), **extra_env}
    started = time.monotonic()
    runner.migrate(env)
    print(f"Airflow metadata database ready in {time.monotonic() - started:.1f} s", flush=True)
    code = ("from poverty_pipeline.cli.bench import _phase; "
            f"_phase('airflow', {url!r}, {str(log_dir)!r})")
    _, rss, out = measure([py, "-c", code], env, timeout)
    log = log_dir / f"{WAREHOUSE_BUILD}.log"
    return {"seconds": last_json(out)["seconds"], "peak": rss, **task_times(home, WAREHOUSE_BUILD),
            "dbt": dbt_timing_in_log(log), "log": str(log)}


def run_dag(log_dir: str) -> None:
    """Inside the child process: the DAG through the runner, its progress only in its log."""
    from poverty_pipeline.orchestration import runner

    seconds = runner.dags_test(WAREHOUSE_BUILD, dict(os.environ), log_dir=Path(log_dir),
                               echo=lambda text: None)
    print(json.dumps({"seconds": round(seconds, 2)}))


def task_times(home: Path, dag_id: str) -> dict:
    """From the Airflow metadata of the DAG's latest run: the dbt producer task's duration and
    the span of the dbt task group (first start to last end), seconds."""
    # cosmos imported after Airflow, as the DAG does
    from poverty_pipeline.orchestration.dbt_watcher import PRODUCER_WATCHER_TASK_ID

    with contextlib.closing(sqlite3.connect(home / "airflow.db")) as db:
        rows = db.execute(
            "select task_id, start_date, end_date, duration from task_instance where dag_id = ? "
            "and run_id = (select run_id from dag_run where dag_id = ? order by id desc limit 1)",
            (dag_id, dag_id)).fetchall()
    dbt = [(dt.datetime.fromisoformat(s), dt.datetime.fromisoformat(e))
           for task, s, e, _ in rows if task.startswith("dbt.") and s and e]
    producer = next((d for task, _, _, d in rows if task == f"dbt.{PRODUCER_WATCHER_TASK_ID}"), None)
    span = (max(e for _, e in dbt) - min(s for s, _ in dbt)).total_seconds() if dbt else None
    return {"producer": round(producer, 2) if producer is not None else None,
            "dbt_group": round(span, 2) if span is not None else None, "tasks": len(rows)}
