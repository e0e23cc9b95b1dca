"""The ``poverty`` command: run the pipeline locally, generate sample submissions, query the
marts, run dbt against the warehouse, benchmark."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from poverty_pipeline.config import DBT_PROJECT_DIR, LOCAL_DIR, landing_url

DAG_IDS = ("commune_ingest", "agency_ingest", "warehouse_build")


def ensure_warehouse_url() -> str:
    """``POVERTY_WAREHOUSE_URL`` if set, else the embedded server's (started if needed)."""
    url = os.environ.get("POVERTY_WAREHOUSE_URL")
    if not url:
        from poverty_pipeline.warehouse import start_embedded

        url = start_embedded()
        os.environ["POVERTY_WAREHOUSE_URL"] = url
        print(f"embedded PostgreSQL: {url}")
    return url


def landing_has(url: str, folder: str) -> bool:
    from poverty_pipeline.discover import landing_root, walk

    return next(walk(landing_root(url), folder), None) is not None


def cmd_generate(args) -> None:
    """Sample commune reviews and agency reports for the review years."""
    from poverty_pipeline.samples.agencies import generate_agency_reports
    from poverty_pipeline.samples.generate import generate_submissions

    started = time.monotonic()
    years = range(args.first_year, args.last_year + 1)
    print(generate_submissions(args.landing, years=years, seed=args.seed, scale=args.scale,
                               communes=getattr(args, "communes", None)))
    print(generate_agency_reports(args.landing, years=years, seed=args.seed))
    print(f"generated in {time.monotonic() - started:.1f} s into {args.landing}")


def cmd_run(args) -> None:
    from poverty_pipeline import runner
    from poverty_pipeline.warehouse import connect

    started = time.monotonic()
    warehouse = ensure_warehouse_url()
    landing = landing_url()
    if not (landing_has(landing, "communes") or landing_has(landing, "agencies")):
        print(f"no submissions under {landing}: writing sample submissions")
        args.landing = landing
        cmd_generate(args)
    env = runner.airflow_env(warehouse, landing)
    print("preparing Airflow metadata database …")
    runner.migrate(env)
    for dag_id in args.dags or DAG_IDS:
        print(f"running DAG {dag_id} through Airflow …")
        elapsed = runner.dags_test(dag_id, env)
        print(f"DAG {dag_id} succeeded in {elapsed:.0f} s")
    with connect(warehouse) as conn:
        print_summary(conn)
    print(f"\nfinished in {time.monotonic() - started:.0f} s")


def print_summary(conn) -> None:
    from poverty_pipeline.summary import district_summary, submission_counts

    print(submission_counts(conn))
    print(district_summary(conn))
    print(
        "\nWarehouse: schema marts (fct_poverty_indicators, rpt_poverty_indicators_by_area, "
        "dim_commune, dim_poverty_standard); problems per file in audit.submission_problems."
        f"\nDocs: README.md; model and column docs in {DBT_PROJECT_DIR}/models/**/*.yml "
        "(`make docs` builds the dbt docs site); contract rules in expectations/suites/."
        f"\nAirflow logs: {LOCAL_DIR / 'logs'}"
    )


def cmd_summary(args) -> None:
    from poverty_pipeline.warehouse import connect

    with connect(ensure_warehouse_url()) as conn:
        print_summary(conn)


def cmd_dbt(args) -> None:
    from poverty_pipeline.warehouse import dbt_env

    env = {**os.environ, **dbt_env(ensure_warehouse_url())}
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    cmd = [dbt, *args.dbt_args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    sys.exit(subprocess.call(cmd, env=env))


def cmd_url(args) -> None:
    print(ensure_warehouse_url())


def cmd_stop(args) -> None:
    pgdata = LOCAL_DIR / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        import pgserver

        pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()
        print("embedded PostgreSQL stopped")


def cmd_bench(args) -> None:
    from poverty_pipeline.bench import main as bench_main

    bench_main(scale=args.scale, years=args.years)


def main(argv: list[str] | None = None) -> None:
    # the command line runs locally: without a key in the environment, the local one
    from poverty_pipeline.pii import KEY_ENV, local_key

    if not os.environ.get(KEY_ENV):
        os.environ[KEY_ENV] = local_key()
    parser = argparse.ArgumentParser(prog="poverty", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--first-year", type=int, default=2021)
    gen.add_argument("--last-year", type=int, default=2025)
    gen.add_argument("--seed", type=int, default=2021)
    gen.add_argument("--scale", type=float, default=1.0, help="multiplies households")

    p = sub.add_parser("generate", parents=[gen], help="write sample commune and agency submissions")
    p.add_argument("--landing", default=landing_url(), help="landing URL (default POVERTY_LANDING_URL)")
    p.add_argument("--communes", nargs="*", help="commune codes (default: all 164)")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("run", parents=[gen], help="run ingest and build through Airflow, print the summary")
    p.add_argument("--dag", dest="dags", action="append", choices=DAG_IDS,
                   help="run only this DAG (repeatable; default: all, in order)")
    p.set_defaults(func=cmd_run)
    sub.add_parser("summary", help="print the rates by district").set_defaults(func=cmd_summary)
    sub.add_parser("warehouse-url", help="print (and start) the warehouse URL").set_defaults(func=cmd_url)
    sub.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(func=cmd_stop)
    p = sub.add_parser("dbt", help="run dbt against the warehouse: poverty dbt -- build -s MODEL")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dbt)
    p = sub.add_parser("bench", help="benchmark ingest and build against the COPY + SQL floor")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--years", type=int, default=5)
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    if getattr(args, "dbt_args", None) and args.dbt_args[0] == "--":
        args.dbt_args = args.dbt_args[1:]
    args.func(args)


if __name__ == "__main__":
    main()
