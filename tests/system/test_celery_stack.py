"""Scale-out: the nightly pipeline under CeleryExecutor on this machine — API server, scheduler,
DAG processor and two Celery workers, Redis as the broker (127.0.0.1:6379, a database of its
own) and PostgreSQL as Airflow's metadata database — survives losing a worker in the middle of
the ingest and again in the middle of the warehouse build, and ends with the same raw, audit and
marts tables as the LocalExecutor path (``airflow dags test``, what ``make run`` uses).

The worker killed is whichever holds a running task (found from the task instance's pid), not a
named one: the scheduler decides where tasks go. After each loss a replacement worker starts, as
a supervisor would. The LocalExecutor reference runs meanwhile, on its own copy of the landing.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from support.celery_stack import CeleryStack
from support.databases import create_database, drop_database
from support.redis_lease import LeaseHeld, RedisLease

from poverty_pipeline.orchestration import runner
from poverty_pipeline.samples.agencies import generate_agency_reports
from poverty_pipeline.samples.generate import generate_submissions
from poverty_pipeline.warehouse.database import connect

PRODUCER = "dbt.dbt_producer_watcher"  # the build's one `dbt build`

pytestmark = pytest.mark.airflow

# Two districts (three communes of Mỹ Tho, three of Cái Bè), two review years; one annual and
# one quarterly reporting agency.
COMMUNES = ["28249", "28252", "28261", "28360", "28363", "28366"]
YEARS = (2021, 2022)
AGENCIES = ["SKHDT", "STC"]
INGEST_DAGS = ("commune_ingest", "agency_ingest")
BUILD_DAG = "warehouse_build"
SCHEMAS = ("raw", "audit", "marts")
PII_KEY = "celery-scale-out-test-key"  # both paths must key households alike

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# A Redis database of this test's own; a lease on a key in it keeps two runs from sharing it. The
# lease lives while its heartbeat does: a run killed mid-way frees the database within LOCK_TTL.
REDIS_DB = int(os.environ.get("POVERTY_TEST_REDIS_DB", "13"))
LOCK_KEY = "poverty_pipeline:celery-stack-test"
LOCK_TTL, LOCK_WAIT = 30, 90
FINISHED = {"success", "failed"}
# The DAGs retry after 2 minutes; the stack caps retry delays (a cluster policy) so that the
# two losses cost seconds of waiting, not minutes. Retrying at all is what is under test.
MAX_RETRY_DELAY = 5
# The build's worker is killed once its `dbt build` has reported this many of its ~150 nodes.
MID_BUILD_NODES = 30

# Columns that legitimately differ between two runs: clocks and run ids. Serial keys are left
# out too (their values depend on the order concurrent tasks inserted).
VOLATILE = {"received_at", "last_received_at", "ingest_run_id"}


def table_checksums(url: str, schemas: tuple[str, ...], landing: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table and view in the schemas; the
    run's landing location (in feedback links) reads as ``<landing>``."""
    with connect(url) as conn:
        columns = conn.execute(
            "select table_schema || '.' || table_name, column_name, column_default "
            "from information_schema.columns where table_schema = any(%s) "
            "order by 1, ordinal_position", (list(schemas),)).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column, default in columns:
            if column not in VOLATILE and not (default or "").startswith("nextval("):
                tables.setdefault(table, []).append(f'"{column}"')
        row = "replace(replace(r::text, %(uri)s, '<landing>'), %(path)s, '<landing>')"
        return {
            table: conn.execute(
                f"select count(*), md5(coalesce(string_agg({row}, '|' order by {row}), '')) "
                f"from (select {', '.join(cols)} from {table}) r",
                {"uri": landing.as_uri(), "path": str(landing)}).fetchone()
            for table, cols in tables.items()
        }


@pytest.fixture(scope="module")
def redis_url():
    client = redis.Redis(REDIS_HOST, REDIS_PORT, db=REDIS_DB, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis server at {REDIS_HOST}:{REDIS_PORT}")
    lease = RedisLease(client, LOCK_KEY, ttl=LOCK_TTL)
    try:
        lease.acquire(wait=LOCK_WAIT)
    except LeaseHeld:
        pytest.fail(f"Redis database {REDIS_DB} is in use by another run of this test "
                    f"(key {LOCK_KEY}, kept alive for {LOCK_WAIT} s); "
                    "set POVERTY_TEST_REDIS_DB to another database")
    def clear():  # every key but the lease: queues, results, celery's bookkeeping
        keys = [key for key in client.scan_iter() if key != LOCK_KEY.encode()]
        if keys:
            client.delete(*keys)

    clear()  # queues a crashed earlier run may have left behind are not this run's tasks
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
        clear()
    finally:
        lease.release()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, Path]:
    """The generated landing, kept pristine; each run works on a copy of its own."""
    base = tmp_path_factory.mktemp("celery")
    pristine = base / "landing-generated"
    generate_submissions(pristine, years=YEARS, communes=COMMUNES, workers=1)
    generate_agency_reports(pristine, years=YEARS, agencies=AGENCIES)
    return {"base": base, "pristine": pristine}


def landing_copy(workspace: dict[str, Path], name: str) -> Path:
    landing = workspace["base"] / name
    shutil.copytree(workspace["pristine"], landing)
    return landing


def start_run(stack: CeleryStack, dag_id: str) -> str:
    """Unpause the DAG: its nightly run for the latest tick is created at once (catchup off);
    if the schedule creates none, trigger one. Its run id."""
    stack.airflow("dags", "unpause", dag_id)
    try:
        stack.wait_for(lambda: stack.dag_runs(dag_id), 60, f"{dag_id}: a scheduled run")
    except TimeoutError:
        stack.airflow("dags", "trigger", dag_id)
    return stack.wait_for(lambda: stack.dag_runs(dag_id), 60, f"{dag_id}: a run")[0][0]


def kill_worker_running(stack: CeleryStack, dag_ids: tuple[str, ...], wanted, timeout: float):
    """Wait until a task ``wanted(ti, all_tis)`` accepts runs on a worker; kill that worker with
    everything it runs. The worker and the task instances whose process died with it.

    The kill waits for a moment when every task message the worker has taken is a running task
    instance: a message taken but not yet started would come back only after the broker's
    visibility timeout or the scheduler's queued timeout, which is not what is tested here."""
    def victims():
        stack.check_alive()
        tis = [dict(ti, dag_id=dag_id) for dag_id in dag_ids for ti in stack.task_instances(dag_id)]
        if tis and all(ti["state"] in FINISHED | {"skipped", "upstream_failed"} for ti in tis):
            raise AssertionError(f"{dag_ids} ended before a worker running the task wanted was "
                                 f"caught: {[(ti['task_id'], ti['state']) for ti in tis]}")
        for worker in stack.workers_alive():
            held = [ti for ti in tis if ti["state"] == "running" and ti["pid"] and worker.holds(ti["pid"])]
            if any(wanted(ti, tis) for ti in held) and len(worker.celery_tasks_taken()) == len(held):
                return worker, held
        return None

    worker, held = stack.wait_for(victims, timeout, f"a running task of {dag_ids}", interval=0.5)
    killed = set(stack.kill_worker(worker))
    return worker, [ti for ti in held if ti["pid"] in killed]


def nodes_reported(stack: CeleryStack, producer: dict) -> int:
    """How many dbt nodes the producer's try has reported (cosmos pushes a `<node>_status` XCom
    for each)."""
    return stack.query(
        "select count(*) from xcom where dag_id = %s and task_id = %s and run_id = %s "
        "and key like %s", (BUILD_DAG, PRODUCER, producer["run_id"], "%\\_status"))[0][0]


def wait_finished(stack: CeleryStack, dag_ids: tuple[str, ...], timeout: float) -> dict:
    def finished():
        stack.check_alive()
        runs = {dag_id: stack.dag_runs(dag_id) for dag_id in dag_ids}
        return all(r and all(state in FINISHED for *_, state in r) for r in runs.values()) and runs
    return stack.wait_for(finished, timeout, f"{dag_ids} finished", interval=3)


def local_reference(workspace: dict[str, Path]) -> tuple[dict, float]:
    """The tables the LocalExecutor path (``airflow dags test``, as ``make run``) leaves from
    the same files, and its wall time."""
    name, url = create_database("poverty_local")
    landing = landing_copy(workspace, "landing-local")
    started = time.monotonic()
    try:
        env = runner.airflow_env(url, landing.as_uri(), home=workspace["base"] / "local-airflow")
        env.update({"POVERTY_PII_KEY": PII_KEY,
                    "POVERTY_DATA_DOCS_DIR": str(workspace["base"] / "local-data-docs"),
                    "AIRFLOW__COSMOS__CACHE_DIR": str(workspace["base"] / "local-cosmos")})
        runner.migrate(env)
        for dag_id in (*INGEST_DAGS, BUILD_DAG):
            runner.dags_test(dag_id, env, log_dir=workspace["base"] / "local-logs", echo=lambda _: None)
        return table_checksums(url, SCHEMAS, landing), time.monotonic() - started
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def local_run(workspace):
    """The LocalExecutor reference, running in the background while the Celery stack runs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(local_reference, workspace)


@pytest.fixture(scope="module")
def celery_run(workspace, redis_url, local_run):
    """The nightly pipeline on the Celery stack, one worker lost in the ingest, one in the
    build; what happened, and the checksums of the tables it left."""
    name, url = create_database("poverty_celery")
    landing = landing_copy(workspace, "landing-celery")
    stack = CeleryStack(
        home=workspace["base"] / "celery-airflow", server_url=os.environ["POVERTY_TEST_SERVER_URL"],
        warehouse_url=url, landing_url=landing.as_uri(),
        metadata_db=f"airflow_celery_{uuid.uuid4().hex[:8]}", redis_url=redis_url,
        max_retry_delay=MAX_RETRY_DELAY,
        extra_env={"POVERTY_PII_KEY": PII_KEY,
                   "POVERTY_DATA_DOCS_DIR": str(workspace["base"] / "celery-data-docs"),
                   "AIRFLOW__COSMOS__CACHE_DIR": str(workspace["base"] / "celery-cosmos")})
    started = time.monotonic()
    clock = {}

    def lap(what: str) -> None:
        clock[what] = round(time.monotonic() - started)
        print(f"[celery stack {clock[what]:4d}s] {what}")

    try:
        stack.start()
        stack.wait_parsed([*INGEST_DAGS, BUILD_DAG])
        lap("stack up, DAGs parsed")
        for dag_id in INGEST_DAGS:
            start_run(stack, dag_id)
        ingest_worker, ingest_victims = kill_worker_running(
            stack, INGEST_DAGS, lambda ti, _: ti["task_id"] == "ingest_batch", timeout=600)
        lap(f"{ingest_worker.name} killed running {[(v['task_id'], v['map_index']) for v in ingest_victims]}")
        stack.add_worker("worker3")  # the lost worker's replacement
        ingest_runs = wait_finished(stack, INGEST_DAGS, timeout=900)
        lap("ingest finished")

        # The build: unpaused only now, so exactly one run builds from everything ingested.
        start_run(stack, BUILD_DAG)

        def mid_build(ti, tis) -> bool:
            """The one `dbt build`, once it has reported MID_BUILD_NODES nodes (so its retry has
            reports to restore and nodes left to run), whatever the machine's speed."""
            return ti["task_id"] == PRODUCER and nodes_reported(stack, ti) >= MID_BUILD_NODES
        build_worker, build_victims = kill_worker_running(stack, (BUILD_DAG,), mid_build, timeout=1800)
        lap(f"{build_worker.name} killed running {[v['task_id'] for v in build_victims]}")
        stack.add_worker("worker4")
        build_runs = wait_finished(stack, (BUILD_DAG,), timeout=2400)
        lap("build finished")

        result = {
            "ingest": (ingest_worker, ingest_victims, ingest_runs),
            "build": (build_worker, build_victims, build_runs),
            "task_instances": {d: stack.task_instances(d) for d in (*INGEST_DAGS, BUILD_DAG)},
            "worker_logs": {p.name: p.log_text() for p in stack.processes.values()
                            if p.name.startswith("worker")},
            "tables": table_checksums(url, SCHEMAS, landing),
            "clock": clock,
        }
    except BaseException:
        print(stack.log_tails(80))
        raise
    finally:
        stack.stop()
        stack.drop_metadata_db()
        drop_database(name)
    yield result


def assert_retried_elsewhere(phase: str, celery_run, state: str = "success") -> None:
    worker, victims, runs = celery_run[phase]
    assert victims, f"{phase}: the killed {worker.name} was running no task"
    final = {(dag_id, ti["run_id"], ti["task_id"], ti["map_index"]): ti
             for dag_id, tis in celery_run["task_instances"].items() for ti in tis}
    for victim in victims:
        ti = final[victim["dag_id"], victim["run_id"], victim["task_id"], victim["map_index"]]
        # the task the lost worker held ran again and succeeded ...
        assert ti["state"] == state and ti["try_number"] > victim["try_number"], (victim, ti)
        # ... on a worker that was still alive
        ran_on = [n for n, log in celery_run["worker_logs"].items() if ti["celery_task_id"] in log]
        assert ran_on and worker.name not in ran_on, (ti, ran_on)
    assert all(state == "success" for dag_runs in runs.values() for *_, state in dag_runs), runs


def test_ingest_survives_losing_the_worker_that_runs_it(celery_run):
    assert_retried_elsewhere("ingest", celery_run)


def test_build_survives_losing_the_worker_that_runs_the_dbt_build(celery_run):
    """The `dbt build` (cosmos' watcher producer) dies with its worker: its retry restores what
    the first try had reported and is skipped, and the task of every node it had not reported
    runs that node alone; every node's task succeeds."""
    assert_retried_elsewhere("build", celery_run, state="skipped")
    build_tis = celery_run["task_instances"][BUILD_DAG]
    assert {ti["state"] for ti in build_tis if ti["task_id"].startswith("dbt.")
            and ti["task_id"] != PRODUCER} == {"success"}
    worker, _, runs = celery_run["build"]
    assert len(runs[BUILD_DAG]) == 1, runs  # one build, after both ingests
    assert worker.name != celery_run["ingest"][0].name


def test_the_tables_equal_those_of_the_local_executor(celery_run, local_run: Future):
    local_tables, local_seconds = local_run.result(timeout=3600)
    print(f"LocalExecutor reference: {local_seconds:.0f}s; Celery stack: {celery_run['clock']}")
    tables = celery_run["tables"]
    assert tables["audit.submissions"][0] > len(COMMUNES) * len(YEARS)  # communes and agencies
    assert tables["raw.commune_households"][0] > 0
    assert tables["marts.fct_poverty_indicators"][0] > 0
    assert set(tables) == set(local_tables)
    different = {t: (tables[t], local_tables[t]) for t in tables if tables[t] != local_tables[t]}
    assert not different, different
