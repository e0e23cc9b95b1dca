"""The ``poverty`` command: run the pipeline locally, generate sample submissions, query the
marts, run dbt against the warehouse, start the Airflow UI with the pages, benchmark.

Nothing risky by default: a server warehouse needs its own ``POVERTY_PII_KEY`` (the local key
is for the embedded warehouse only), the warehouse is checked before Airflow starts (a refusal
is one line saying why and what to do, and a non-zero exit), and sample submissions are written
only when asked for or into the default local landing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from poverty_pipeline.cli.warehouse_url import ensure_warehouse_url, is_embedded
from poverty_pipeline.config import DBT_PROJECT_DIR, LOCAL_DIR, default_landing_url, landing_url

DAG_IDS = ("commune_ingest", "agency_ingest", "warehouse_build")
INGEST_DAGS = ("commune_ingest", "agency_ingest")
SUBMISSION_FOLDERS = ("communes", "agencies")
# Commands that key households (through the warehouse set-up): they need POVERTY_PII_KEY.
KEYED_COMMANDS = ("run", "bench", "pii-rekey", "ui")  # `ui`: its scheduler runs the DAGs


class Refused(SystemExit):
    """The command cannot go on: one line saying why and what to do; exit status 1."""

    def __init__(self, message: str):
        super().__init__(f"poverty: {message}")


def require_key(env: dict[str, str] | None = None) -> None:
    """``POVERTY_PII_KEY`` from the environment; without it, the local key when the warehouse
    is the embedded one (unset, or the URL ``poverty warehouse-url`` printed), and a refusal
    when it is a server: a made-up key there would re-key every household at the next build."""
    from poverty_pipeline.warehouse.pii import DEV_KEY_FILE, KEY_ENV, local_key

    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return
    url = env.get("POVERTY_WAREHOUSE_URL")
    if url and not is_embedded(url):
        raise Refused(
            f"{KEY_ENV} is not set: with a server warehouse (POVERTY_WAREHOUSE_URL) set it to the "
            f"key its households are keyed with (the local key in {DEV_KEY_FILE} is for the "
            "embedded warehouse only)")
    env[KEY_ENV] = local_key()


def checked_warehouse_url() -> str:
    """The warehouse URL once the warehouse answers and may be set up; else a refusal naming
    the reason (database missing, wrong password, server down, permission)."""
    from poverty_pipeline.warehouse.database import WarehouseCheckFailed, check

    url = ensure_warehouse_url()
    try:
        check(url)
    except WarehouseCheckFailed as exc:
        raise Refused(str(exc)) from None
    return url


def check_household_key(url: str) -> None:
    """Refuse a key other than the one the warehouse's households are keyed with, before
    Airflow starts (its set-up task would fail on it)."""
    from poverty_pipeline.warehouse.database import connect
    from poverty_pipeline.warehouse.pii import KeyMismatch, check_key

    with connect(url, autocommit=True) as conn:
        try:
            check_key(conn)
        except KeyMismatch as exc:
            raise Refused(str(exc)) from None


def landing_has(url: str, folder: str) -> bool:
    from poverty_pipeline.ingest.discover import landing_root, walk

    return next(walk(landing_root(url), folder), None) is not None


def without_input(landing: str, dags) -> dict[str, str]:
    """The ingest DAGs of ``dags`` whose landing folder holds no file: DAG id → folder. Such a
    DAG has nothing to look at, and its run through Airflow would only pay its start-up."""
    folders = dict(zip(INGEST_DAGS, SUBMISSION_FOLDERS, strict=True))
    return {d: folders[d] for d in dags if d in folders and not landing_has(landing, folders[d])}


def landing_contents(url: str, limit: int = 8) -> str:
    """What the landing holds at its top, for a message: ``a/, b.txt`` or that it is missing."""
    from poverty_pipeline.ingest.discover import landing_root

    root = landing_root(url)
    if not root.exists():
        return "it does not exist"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
    if not names:
        return "it is empty"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return "it holds " + ", ".join(names[:limit]) + more


def sample_decision(landing: str, asked: bool) -> str | None:
    """Whether ``poverty run`` writes sample submissions: None when the landing has
    submissions; "write" when asked (``--sample``) or into the default local landing; else the
    refusal's message (a mistyped POVERTY_LANDING_URL must not get sample files, which would
    load into a real warehouse)."""
    if any(landing_has(landing, folder) for folder in SUBMISSION_FOLDERS):
        return None
    if asked or landing == default_landing_url():
        return "write"
    return (f"no submissions under {landing} (no file in communes/ or agencies/; "
            f"{landing_contents(landing)}): check POVERTY_LANDING_URL, or write sample "
            "submissions there with `poverty run --sample` or `poverty generate`")


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
    from poverty_pipeline.orchestration import runner
    from poverty_pipeline.warehouse.database import connect

    started = time.monotonic()
    warehouse = checked_warehouse_url()
    check_household_key(warehouse)
    landing = landing_url()
    dags = args.dags or DAG_IDS
    decision = sample_decision(landing, args.sample) if set(dags) & set(INGEST_DAGS) else None
    if decision == "write":
        print(f"no submissions under {landing}: writing sample submissions")
        args.landing = landing
        cmd_generate(args)
    elif decision:
        raise Refused(decision)
    empty = without_input(landing, dags)
    for dag_id, folder in empty.items():
        print(f"not running DAG {dag_id}: no file under {landing.rstrip('/')}/{folder}/")
    dags = [d for d in dags if d not in empty]
    env = runner.airflow_env(warehouse, landing)
    print("preparing Airflow metadata database …")
    runner.migrate(env)
    failed = None
    for dag_id in dags:
        print(f"running DAG {dag_id} through Airflow …")
        try:
            conf = {"full_refresh": True} if args.full_refresh and dag_id == "warehouse_build" else None
            elapsed = runner.dags_test(dag_id, env, conf=conf)
        except RuntimeError as exc:
            failed = str(exc)
            break
        print(f"DAG {dag_id} succeeded in {elapsed:.0f} s")
    if not failed:
        with connect(warehouse, autocommit=True) as conn:
            print_summary(conn)
    print_outputs(landing, warehouse)
    if failed:
        raise Refused(failed)
    print(f"\nfinished in {time.monotonic() - started:.0f} s")


def print_summary(conn) -> bool:
    """Print the summary; False when the marts are not built yet (said in the summary)."""
    from poverty_pipeline.reporting.summary import report

    text, built = report(conn)
    print(text)
    return built


def print_outputs(landing: str, warehouse: str) -> None:
    """Where the run's results are (``reporting/outputs.py``): exports, reports, sites, pages, warehouse."""
    from poverty_pipeline.reporting import outputs

    print("\n" + outputs.format_table(outputs.listing(landing, warehouse)))


def cmd_summary(args) -> None:
    from poverty_pipeline.warehouse.database import connect

    warehouse = checked_warehouse_url()
    with connect(warehouse, autocommit=True) as conn:
        built = print_summary(conn)
    print_outputs(landing_url(), warehouse)
    if not built:
        sys.exit(1)


def cmd_pii_rekey(args) -> None:
    """Store the pads of the current key, replacing those of another: the next build re-keys
    every household (the only way the key of a warehouse changes)."""
    from poverty_pipeline.warehouse.database import connect
    from poverty_pipeline.warehouse.pii import key_fingerprint, store_pads, stored_fingerprint

    with connect(checked_warehouse_url(), autocommit=True) as conn:
        before = stored_fingerprint(conn)
        store_pads(conn, rekey=True)
    after = key_fingerprint()
    if before == after:
        print(f"the warehouse is already keyed with this key (key check {after}): nothing changed")
    else:
        print(f"household key replaced (key check {before or 'none'} → {after}): the next build "
              "re-keys every household; every Airflow component needs the new POVERTY_PII_KEY")


def cmd_dbt(args) -> None:
    from poverty_pipeline.warehouse.database import dbt_env

    env = {**os.environ, **dbt_env(checked_warehouse_url())}
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    cmd = [dbt, *args.dbt_args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    sys.exit(subprocess.call(cmd, env=env))


def cmd_url(args) -> None:
    print(ensure_warehouse_url())


def cmd_stop(args) -> None:
    pgdata = LOCAL_DIR / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        from poverty_pipeline.warehouse.database import embedded_server

        embedded_server(pgdata, cleanup_mode="stop").cleanup()
        print("embedded PostgreSQL stopped")


def cmd_template(args) -> None:
    """The review template of each commune for a review year, pre-filled from the warehouse."""
    from poverty_pipeline.ingest import template
    from poverty_pipeline.reference.admin_units import review_date

    day = review_date(args.year)
    codes = args.communes or [u.code for u in template.units_of(args.year)]
    unknown = [c for c in codes if template.unit_of(c, args.year) is None]
    if unknown:
        raise Refused(f"not a commune-level unit on {day:%d/%m/%Y}: {', '.join(unknown)} — give the "
                      "code of a unit of that date (its review is sent under that code)")
    conn = None
    if not args.blank:
        from poverty_pipeline.warehouse.database import connect

        conn = connect(checked_warehouse_url(), autocommit=True)
    try:
        written = template.write_templates(conn, codes, args.year, landing_url=landing_url(),
                                           out_dir=args.out, prefill=not args.blank)
    finally:
        if conn is not None:
            conn.close()
    for made, where in written:
        origin = (f"{made.households} households from the review of {made.previous.year}"
                  if made.households else "no earlier review: household list empty")
        print(f"{made.code} {made.name}: {where} ({origin})")
    print(f"{len(written)} template(s) for {args.year}. They hold personal data of each commune's "
          "households: send each file to its own commune only; communes return them into "
          f"communes/{args.year}/<commune code>/ of the landing (docs/submitting.md).")


def cmd_ui(args) -> None:
    """The Airflow UI with the pages, against the set-up `poverty run` uses (its AIRFLOW_HOME,
    metadata database, warehouse and landing): every component, until Ctrl-C."""
    from poverty_pipeline.orchestration import runner

    env = runner.ui_env(checked_warehouse_url(), landing_url(), args.port)
    print("preparing Airflow metadata database …")
    runner.migrate(env)
    ui = runner.LocalUi(env, args.port)
    print(f"starting Airflow {', '.join(runner.UI_COMPONENTS)} (logs: {ui.log_dir}/ui-*.log) …", flush=True)
    ui.start()
    try:
        try:
            ui.wait_healthy()
        except RuntimeError as exc:
            raise Refused(f"Airflow UI {exc}") from None
        print(ui_banner(args.port), flush=True)
        while not (dead := ui.stopped()):
            time.sleep(2)
        raise Refused(f"Airflow {', '.join(dead)} stopped (logs: {ui.log_dir}/ui-*.log)")
    except KeyboardInterrupt:
        print("stopping …")
    finally:
        ui.stop()


def ui_banner(port: int) -> str:
    """The URL of the UI, of each page, and how to sign in."""
    from poverty_pipeline.reporting import outputs

    base = outputs.ui_url(port)
    password_file = outputs.airflow_home() / outputs.PASSWORDS_FILE
    try:
        password = json.loads(password_file.read_text())[outputs.UI_USER]
        login = f"user {outputs.UI_USER}, password {password} (kept in {password_file})"
    except (OSError, ValueError, KeyError):
        login = outputs.sign_in()
    pages = "\n".join(f"  {name:<12} {base}/{route}" for name, route in outputs.PAGES)
    return (f"\nAirflow UI: {base}  — sign in: {login}\n{pages}\n"
            "The scheduler runs the DAGs on their schedules. Ctrl-C stops every component.")


def _bench_phases(text: str) -> frozenset[str]:
    """``--skip embedded,airflow``: the optional benchmark phases named, each known."""
    from poverty_pipeline.cli.bench import OPTIONAL_PHASES

    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    if unknown := names - set(OPTIONAL_PHASES):
        raise argparse.ArgumentTypeError(
            f"unknown phase {', '.join(sorted(unknown))} (optional phases: {', '.join(OPTIONAL_PHASES)})")
    return names


def cmd_bench(args) -> None:
    from poverty_pipeline.cli.bench import main as bench_main

    bench_main(scale=args.scale, years=args.years, keep=args.keep, skip=args.skip)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="poverty", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--first-year", type=int, default=2021)
    gen.add_argument("--last-year", type=int, default=2025)
    gen.add_argument("--seed", type=int, default=2021)
    gen.add_argument("--scale", type=float, default=1.0, help="multiplies households")

    p = sub.add_parser("generate", parents=[gen], help="write sample commune and agency submissions")
    p.add_argument("--landing", default=landing_url(), help="landing URL (default POVERTY_LANDING_URL)")
    p.add_argument("--communes", nargs="*", help="commune codes (default: every unit of each review year)")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("run", parents=[gen], help="run ingest and build through Airflow, print the summary")
    p.add_argument("--dag", dest="dags", action="append", choices=DAG_IDS,
                   help="run only this DAG (repeatable; default: all, in order)")
    p.add_argument("--sample", action="store_true",
                   help="write sample submissions into an empty landing that is not the default one")
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild every household, not only those of the reviews that changed")
    p.set_defaults(func=cmd_run)
    sub.add_parser("summary", help="print the rates by district").set_defaults(func=cmd_summary)
    sub.add_parser("warehouse-url", help="print (and start) the warehouse URL").set_defaults(func=cmd_url)
    sub.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(func=cmd_stop)
    sub.add_parser("pii-rekey", help="replace the warehouse's household key by POVERTY_PII_KEY "
                   "(the next build re-keys every household)").set_defaults(func=cmd_pii_rekey)
    p = sub.add_parser("dbt", help="run dbt against the warehouse: poverty dbt -- build -s MODEL")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dbt)
    p = sub.add_parser("template", help="write each commune's review template (xlsx) for a year, "
                       "pre-filled with its households from its last accepted review")
    p.add_argument("--year", type=int, required=True, help="the review year")
    p.add_argument("--commune", dest="communes", action="append",
                   help="a commune code (repeatable; default: every commune-level unit of the year)")
    p.add_argument("--out", help="write into OUT/<year>/<commune>.xlsx (default: "
                   "<landing>/_templates/<year>/<commune>.xlsx, which only operators read)")
    p.add_argument("--blank", action="store_true",
                   help="no households from the warehouse (the warehouse is not needed)")
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("ui", help="start the Airflow UI with the pages (API server, scheduler, "
                       "DAG processor, triggerer) on the set-up `poverty run` uses; print its URL "
                       "and how to sign in")
    p.add_argument("--port", type=int, default=8080, help="the UI's port (default 8080)")
    p.set_defaults(func=cmd_ui)
    p = sub.add_parser("bench", help="benchmark ingest and build against the COPY + SQL floor")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--keep", action="store_true",
                   help="keep the bench databases (poverty_bench_s<scale>_<pid>) after the run")
    p.add_argument("--skip", type=_bench_phases, default=frozenset(),
                   help="leave out some of the optional phases, comma-separated: embedded (the "
                   "build on the other PostgreSQL), airflow, resubmission")
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    if getattr(args, "dbt_args", None) and args.dbt_args[0] == "--":
        args.dbt_args = args.dbt_args[1:]
    if args.command in KEYED_COMMANDS:
        require_key()
    args.func(args)


if __name__ == "__main__":
    main()
