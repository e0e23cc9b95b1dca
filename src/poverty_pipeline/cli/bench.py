"""Benchmark: ingest and build of generated province data beside the floor measured in the
same run — COPY of the same household rows from CSV plus one classify-and-aggregate SQL
statement, after a calamine read of the same files (the floor of reading them). Each phase runs
in its own process so its peak memory (RSS of the process tree, sampled every 50 ms) is its own.
Then the typical dashboard queries on the marts built (p50/p95); with a server warehouse
(``POVERTY_WAREHOUSE_URL``), the same build on the embedded PostgreSQL 16 from a copy of the same
raw data; the warehouse_build DAG through Airflow (`airflow dags test`) doing the same build
again; and one commune's corrected review landed, ingested and built incrementally. The table is
printed and written to ``.local/bench/scale-<S>.md``, the figures and ratios to
``scale-<S>.json``.

It works in a database of its own, ``poverty_bench_s<S>_<pid>`` (created, and dropped at the end
unless ``--keep``), on the warehouse's server and, for the other PostgreSQL, on the embedded one.

    poverty bench --scale 1 --years 5      # or: make bench ARGS="--scale 2"
    poverty bench --scale 20 --skip embedded,airflow,resubmission   # the core phases only
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from poverty_pipeline.cli import bench_phases as phases
from poverty_pipeline.cli.bench_phases import last_json, measure, slowest_nodes
from poverty_pipeline.config import LOCAL_DIR
from poverty_pipeline.reporting import dashboard_queries

SEED = 2021


def _phase(name: str, url: str, landing: str) -> None:
    """Run inside a child process: one phase of the benchmark."""
    if name in ("ingest", "resubmission"):  # what is new in the landing: all, or the one file
        from poverty_pipeline.ingest.batch import ingest_files
        from poverty_pipeline.ingest.discover import new_files
        from poverty_pipeline.warehouse.database import connect, ensure_schema

        run_id = "bench" if name == "ingest" else f"bench-{name}"
        with connect(url, autocommit=True) as conn:
            ensure_schema(conn)
            report = ingest_files(conn, landing, new_files(conn, landing, "communes"), run_id=run_id)
        print(json.dumps(report.as_dict()))
    elif name == "airflow":
        phases.run_dag(landing)  # here: the folder of its log
    elif name == "read":
        print(json.dumps(phases.read_all(Path(landing))))
    elif name == "floor":
        print(json.dumps(phases.floor(url, Path(landing))))


def _row(phase: str, seconds: float, rows: int | None, rss: int) -> str:
    rate = f"{rows / seconds:,.0f}" if rows else ""
    return f"| {phase} | {seconds:.1f} s | {rate} | {rss / 2**20:,.0f} MiB |"


def _nodes(nodes: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {seconds} s" for name, seconds in nodes)


@dataclass
class Run:
    """One benchmark run: where it works, and what it measured (seconds, peak RSS in bytes, the
    slowest dbt nodes of each build, and the facts beside them)."""

    name: str  # the bench database's, on each server
    url: str
    tmp: Path
    scale: float
    years: int
    env: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    slowest: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()  # the optional phases left out (OPTIONAL_PHASES)

    @property
    def build_timeout(self) -> float:
        """A build still running after this has a plan gone wrong: it is stopped, the run fails."""
        return BUILD_TIMEOUT_S * max(self.scale, 1)

    @property
    def landing(self) -> Path:
        return self.tmp / "landing"

    @property
    def review_years(self) -> range:
        return range(2021, 2021 + self.years)

    def child(self, phase: str, arg: str) -> tuple[float, int, str]:
        code = f"from poverty_pipeline.cli.bench import _phase; _phase({phase!r}, {self.url!r}, {arg!r})"
        return measure([sys.executable, "-c", code], self.env)

    def took(self, key: str, seconds: float, rss: int) -> None:
        self.seconds[key], self.peak[key] = seconds, rss
        print(f"{key.replace('_', ' ')}: {seconds:.1f} s, {rss >> 20} MiB", flush=True)

    def build(self, key: str, target: str, env: dict[str, str] | None = None) -> Path:
        """`dbt build` into ``tmp/<target>``; its run_results.json."""
        self.took(key, *phases.dbt_build(env or self.env, self.tmp / target, self.build_timeout))
        results = self.tmp / target / "run_results.json"
        self.slowest[key] = slowest_nodes(results)
        self.facts.setdefault("dbt_timing", {})[key] = phases.dbt_timing(results)
        return results


def _full(run: Run) -> None:
    """The province's submissions generated, ingested and built; then the floor of that work."""
    from poverty_pipeline.samples.generate import generate_submissions

    gen = generate_submissions(run.landing, years=run.review_years, seed=SEED, scale=run.scale)
    print(f"generated {gen.files} files in {gen.seconds:.1f} s", flush=True)
    seconds, rss, out = run.child("ingest", run.landing.as_uri())
    run.facts["ingest"] = last_json(out)
    run.took("ingest", seconds, rss)
    print(f"ingest: {run.facts['ingest']}", flush=True)
    run.build("dbt_build", "target")

    csv_dir = run.tmp / "csv"
    csv_dir.mkdir()
    run.facts["household_rows"] = phases.export_csv(run.url, csv_dir)
    read_s, read_rss, _ = run.child("read", str(run.landing))
    floor_s, floor_rss, out = run.child("floor", str(csv_dir))
    floor = last_json(out)
    run.took("floor", floor_s + read_s, max(floor_rss, read_rss))
    run.seconds.update(floor_read=read_s, floor_copy=floor["copy_s"], floor_sql=floor["sql_s"])


def _other_server(run: Run, server_url: str) -> None:
    """The same build on the other PostgreSQL, from a copy of the raw data."""
    from poverty_pipeline.warehouse.database import dbt_env

    url = phases.fresh_database(server_url, run.name)
    started = time.monotonic()
    rows = phases.copy_warehouse(run.url, url)
    run.facts["postgres"]["embedded"] = phases.server_settings(url)
    print(f"copied {rows:,} rows of raw, audit and pii.hmac_pads to the embedded PostgreSQL "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    run.build("dbt_build_embedded", "target-embedded",
              {**run.env, **dbt_env(url), "POVERTY_WAREHOUSE_URL": url})


def _through_airflow(run: Run) -> None:
    """The warehouse_build DAG through Airflow, on the bench database without what dbt built:
    its dbt does the work of the first `dbt build`."""
    schemas = phases.drop_built(run.url, run.tmp / "target" / "manifest.json")
    print(f"dropped what dbt built ({', '.join(schemas)}) for the DAG's build", flush=True)
    dag = phases.airflow_build(sys.executable, run.url, run.landing, run.tmp / "airflow",
                               LOCAL_DIR / "bench" / "logs" / run.name,
                               {"POVERTY_DATA_DOCS_DIR": run.env["POVERTY_DATA_DOCS_DIR"]},
                               timeout=2 * run.build_timeout)
    run.took("airflow_warehouse_build", dag["seconds"], dag["peak"])
    run.seconds.update(airflow_dbt_producer=dag["producer"], airflow_dbt_group=dag["dbt_group"])
    run.facts["airflow"] = {"task_instances": dag["tasks"], "log": dag["log"]}
    run.facts["dbt_timing"]["airflow_dbt_producer"] = dag["dbt"]


def _resubmission(run: Run) -> None:
    """One commune's corrected review landed, the new file ingested, the warehouse built again
    (incremental: the household models rebuild that review's households)."""
    info = phases.write_resubmission(run.landing, run.url, run.review_years, run.scale, SEED)
    seconds, rss, out = run.child("resubmission", run.landing.as_uri())
    info["ingest"] = last_json(out)
    if info["ingest"]["files"] != 1 or info["ingest"]["loaded"] != 1:
        raise RuntimeError(f"the corrected review {info['path']} was not taken in alone: {info['ingest']}")
    run.took("resubmission_ingest", seconds, rss)
    results = run.build("resubmission_build", "target")  # the next build of the same warehouse
    info["rows_written"] = phases.rows_written(results)
    run.facts["resubmission"] = info


# The phases a run may leave out (``--skip``); ingest, build, floor and dashboard queries always run.
OPTIONAL_PHASES = ("embedded", "airflow", "resubmission")


def main(scale: float = 1.0, years: int = 5, keep: bool = False, skip: frozenset[str] = frozenset()) -> None:
    from poverty_pipeline.cli.warehouse_url import ensure_warehouse_url, is_embedded
    from poverty_pipeline.warehouse.database import dbt_env, start_embedded

    given = os.environ.get("POVERTY_WAREHOUSE_URL")
    server = ensure_warehouse_url()
    embedded = start_embedded() if given and not is_embedded(given) and "embedded" not in skip else None
    name = phases.database_name(scale)
    url = phases.fresh_database(server, name)
    print(f"bench database: {name}", flush=True)
    servers = [u for u in (server, embedded) if u]
    try:
        with tempfile.TemporaryDirectory(prefix="poverty-bench-") as tmp:
            run = Run(name, url, Path(tmp), scale, years, skipped=skip)
            run.env = {**os.environ, **dbt_env(url), "POVERTY_WAREHOUSE_URL": url,
                       "GX_ANALYTICS_ENABLED": "false", "POVERTY_DATA_DOCS_DIR": f"{tmp}/data_docs"}
            run.facts["postgres"] = {"server" if given and not is_embedded(given) else "embedded":
                                  phases.server_settings(url)}
            _full(run)
            run.facts["dashboard_queries_ms"] = dashboard_queries.measure(url)
            if embedded:
                _other_server(run, embedded)
            if "airflow" not in skip:
                _through_airflow(run)
            if "resubmission" not in skip:
                _resubmission(run)
    finally:
        for server_url in servers if not keep else ():
            phases.drop_database(server_url, name)
        if keep:
            print(f"kept the database {name} on {' and '.join(servers)}")
    _report(run)


# No single dbt node may take longer than this per unit of scale. The slowest at scale 1 took
# 15–17 s on PostgreSQL 15 and 16 (2 cores); about two and a half times that leaves room for a
# busy machine and still catches a plan gone wrong (one once ran for 27 minutes).
NODE_BOUND_S = 40.0
# No build may take longer than this per unit of scale (about nine times the ~70 s of scale 1):
# one plan gone wrong would otherwise hold the run for hours.
BUILD_TIMEOUT_S = 600.0
# Each build whose nodes are bound: what the table calls it, the suffix of its nodes in the JSON.
BUILDS = {"dbt_build": ("`dbt build`", ""),
          "dbt_build_embedded": ("`dbt build` on the embedded PostgreSQL", "_embedded"),
          "resubmission_build": ("`dbt build` after the resubmission", "_resubmission")}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _ratios(s: dict[str, float]) -> dict[str, float | None]:
    """The ratios of the figures measured (None for a phase left out)."""
    resubmission = (s["resubmission_ingest"] + s["resubmission_build"]
                    if "resubmission_build" in s else None)
    return {
        "ingest_to_floor": _ratio(s["ingest"], s["floor"]),
        "build_to_floor": _ratio(s["dbt_build"], s["floor"]),
        "embedded_to_server_build": _ratio(s.get("dbt_build_embedded"), s["dbt_build"]),
        "resubmission_to_full": _ratio(resubmission, s["ingest"] + s["dbt_build"]),
        "airflow_dag_to_dbt_build": _ratio(s.get("airflow_warehouse_build"), s["dbt_build"]),
        "airflow_dbt_producer_to_dbt_build": _ratio(s.get("airflow_dbt_producer"), s["dbt_build"]),
        "airflow_dbt_group_to_dbt_build": _ratio(s.get("airflow_dbt_group"), s["dbt_build"]),
    }


def _versions(servers: dict[str, dict[str, str]]) -> dict[str, str]:
    return {where: settings["server_version"] for where, settings in servers.items()}


def _phases_table(run: Run) -> list[str]:
    s, peak, f = run.seconds, run.peak, run.facts
    rows, resub, pg = f["household_rows"], f.get("resubmission"), _versions(f["postgres"])
    airflow = [
        _row(f"`warehouse_build` through Airflow (`airflow dags test`): dbt producer task "
             f"{s['airflow_dbt_producer']:.1f} s, dbt task group {s['airflow_dbt_group']:.1f} s, then the "
             "quality gate and exports", s["airflow_warehouse_build"], rows, peak["airflow_warehouse_build"]),
    ] if "airflow_warehouse_build" in s else []
    embedded = [
        _row(f"build on the embedded PostgreSQL {pg['embedded']} (same raw data)",
             s["dbt_build_embedded"], rows, peak["dbt_build_embedded"]),
    ] if "dbt_build_embedded" in s else []
    resubmission = [
        _row(f"resubmission of {resub['commune']}'s {resub['year']} review ({resub['households']} "
             f"households: {resub['incomes_changed']} incomes changed, 1 dropped, 1 added): ingest "
             "of the new file", s["resubmission_ingest"], resub["households"], peak["resubmission_ingest"]),
        _row(f"resubmission: `dbt build` (incremental; rows written to {' / '.join(resub['rows_written'])}: "
             f"{' / '.join(str(n) if n is not None else '?' for n in resub['rows_written'].values())})",
             s["resubmission_build"], None, peak["resubmission_build"]),
    ] if resub else []
    return [
        "| phase | wall time | rows/s | peak memory |",
        "|---|---:|---:|---:|",
        _row("ingest (read + normalise + GX + COPY, one process)", s["ingest"], rows, peak["ingest"]),
        _row("build (`dbt build`: seeds, models, tests)", s["dbt_build"], rows, peak["dbt_build"]),
        *embedded,
        _row(f"floor: calamine read ({s['floor_read']:.1f} s) + COPY from CSV ({s['floor_copy']} s)"
             f" + one SQL statement ({s['floor_sql']} s)", s["floor"], rows, peak["floor"]),
        *airflow,
        *resubmission,
    ]


def _figures_table(run: Run, ratios: dict[str, float | None]) -> list[str]:
    s, peak, f, scale = run.seconds, run.peak, run.facts, run.scale
    pg, queries = _versions(f["postgres"]), f["dashboard_queries_ms"]
    slowest_query = max(v["p95_ms"] for k, v in queries.items() if k != "all")
    largest = max((k for k in peak if k != "floor"), key=peak.get)
    node_target = f"≤ {10 * max(scale, 1):g} s"

    def x(key: str) -> str:
        return f"{ratios[key]:.2f} ×" if ratios[key] is not None else "—"

    other = [
        f"| `dbt build`, embedded PostgreSQL {pg['embedded']} ÷ PostgreSQL {pg['server']} | "
        f"{x('embedded_to_server_build')} ({s['dbt_build_embedded']:.1f} s) | |",
        f"| slowest dbt node, embedded PostgreSQL {pg['embedded']} | "
        f"{run.slowest['dbt_build_embedded'][0][1]} s | {node_target} |",
    ] if "dbt_build_embedded" in s else []
    resubmission = [
        f"| one commune's resubmission (ingest + `dbt build`) ÷ (full ingest + `dbt build`) | "
        f"{ratios['resubmission_to_full']:.3f} ({s['resubmission_ingest'] + s['resubmission_build']:.1f} s)"
        " | ≤ 0.1 |",
    ] if "resubmission_build" in s else []
    airflow = [
        f"| `warehouse_build` through Airflow ÷ `dbt build` | {x('airflow_dag_to_dbt_build')} | ≤ 1.3 × |",
        f"| its dbt producer task (its dbt task group) ÷ `dbt build` | "
        f"{x('airflow_dbt_producer_to_dbt_build')} ({x('airflow_dbt_group_to_dbt_build')}) | |",
    ] if "airflow_warehouse_build" in s else []
    return [
        "| figure | this run | target |",
        "|---|---:|---:|",
        f"| ingest ÷ floor | {x('ingest_to_floor')} | ≤ 3 × |",
        f"| `dbt build` ÷ floor | {x('build_to_floor')} | |",
        f"| `dbt build` (scale 1: ≤ 45 s) | {s['dbt_build']:.1f} s | ≤ {45 * scale:g} s |",
        f"| slowest dbt node | {run.slowest['dbt_build'][0][1]} s | {node_target} |",
        *other,
        *resubmission,
        *airflow,
        f"| dashboard queries, p95 of all (slowest query) | {queries['all']['p95_ms']} ms "
        f"({slowest_query} ms) | ≤ 50 ms |",
        f"| peak memory (largest: {largest.replace('_', ' ')}) | {peak[largest] >> 20} MiB | ≤ 2048 MiB |",
    ]


def _report(run: Run) -> None:
    """Print the tables, write them and the figures; fail when a dbt node broke the bound."""
    f, scale = run.facts, run.scale
    bound = NODE_BOUND_S * max(scale, 1)
    ratios = _ratios(run.seconds)
    servers = " · ".join(f"{where} PostgreSQL {p['server_version']} (autovacuum {p['autovacuum']}, "
                         f"shared_buffers {p['shared_buffers']}, work_mem {p['work_mem']})"
                         for where, p in f["postgres"].items())
    timing = "; ".join(f"{key.replace('_', ' ')} {t['run']} s / {t['nodes_sum']} s"
                       for key, t in f["dbt_timing"].items())
    lines = [
        f"Benchmark: scale {scale:g}, review years 2021–{2020 + run.years}, {f['ingest']['files']} "
        f"files, {f['household_rows']:,} household rows ({os.cpu_count()} cores); {servers}"
        + (f"; left out: {', '.join(sorted(run.skipped))}" if run.skipped else ""),
        "",
        *_phases_table(run),
        "",
        *(f"slowest dbt nodes, {BUILDS[key][0]} (bound {bound:g} s each): {_nodes(run.slowest[key])}"
          for key in BUILDS if key in run.slowest),
        f"dbt's own run time (after parsing) / sum of its node times: {timing}",
        "",
        *_figures_table(run, ratios),
    ]
    text = "\n".join(lines)
    print("\n" + text)
    figures = {
        "scale": scale, "years": run.years, "files": f["ingest"]["files"],
        "household_rows": f["household_rows"], "cores": os.cpu_count(), "postgres": f["postgres"],
        "seconds": {k: round(v, 2) if v is not None else None for k, v in run.seconds.items()},
        "peak_mib": {k: v >> 20 for k, v in run.peak.items()},
        "ratios": ratios,
        "dashboard_queries_ms": f["dashboard_queries_ms"],
        **{f"slowest_dbt_nodes_s{suffix}": dict(run.slowest[key])
           for key, (_, suffix) in BUILDS.items() if key in run.slowest},
        "dbt_timing_s": f["dbt_timing"],
        "resubmission": f.get("resubmission"),
        "airflow": f.get("airflow"),
        "skipped": sorted(run.skipped),
    }
    out_dir = LOCAL_DIR / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"scale-{scale:g}.md").write_text(text + "\n")
    (out_dir / f"scale-{scale:g}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwritten to {out_dir / f'scale-{scale:g}.md'} and .json")
    over = [(BUILDS[key][0], name, t) for key in BUILDS for name, t in run.slowest.get(key, []) if t > bound]
    if over:
        raise SystemExit(f"dbt nodes over the bound of {bound:g} s: {over}")


if __name__ == "__main__":
    main()
