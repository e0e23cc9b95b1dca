"""Scale-out: the pipeline under CeleryExecutor on this machine — API server, scheduler, DAG
processor and two Celery workers, Redis as the broker (127.0.0.1:6379) and PostgreSQL as
Airflow's metadata database — survives losing a worker in the middle of the commune ingest, and
loads the same warehouse tables as the LocalExecutor path (``airflow dags test``).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import redis
from databases import create_database, drop_database

from poverty_pipeline import runner
from poverty_pipeline.samples.generate import generate_submissions
from poverty_pipeline.stack import CeleryStack
from poverty_pipeline.warehouse import connect

pytestmark = pytest.mark.airflow

COMMUNES = ["28249", "28252", "28261", "28360", "28363", "28366"]
YEARS = range(2021, 2023)
SCHEMAS = ("raw", "audit")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
FINISHED = {"success", "failed"}


def redis_db() -> int:
    """A Redis database nobody uses (so a leftover queue of another run is not consumed)."""
    try:
        redis.Redis(REDIS_HOST, REDIS_PORT, socket_connect_timeout=3).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis server at {REDIS_HOST}:{REDIS_PORT}")
    for db in range(15, 1, -1):
        client = redis.Redis(REDIS_HOST, REDIS_PORT, db=db, socket_connect_timeout=3)
        if client.dbsize() == 0:
            return db
    raise RuntimeError("no empty Redis database")


# Columns that legitimately differ between two runs: clocks, run ids, serial keys.
VOLATILE = {"received_at", "ingest_run_id"}


def table_checksums(url: str, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table in the schemas."""
    with connect(url) as conn:
        columns = conn.execute(
            "select table_schema || '.' || table_name, column_name, column_default "
            "from information_schema.columns where table_schema = any(%s) "
            "order by 1, ordinal_position", (list(schemas),)).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column, default in columns:
            if column not in VOLATILE and not (default or "").startswith("nextval("):
                tables.setdefault(table, []).append(f'"{column}"')
        return {
            table: conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
                f"from (select {', '.join(cols)} from {table}) r").fetchone()
            for table, cols in tables.items()
        }


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate_submissions(root, years=YEARS, communes=COMMUNES, workers=1)
    return root


@pytest.fixture(scope="module")
def local_tables(landing, tmp_path_factory):
    """The tables the LocalExecutor path (``airflow dags test``) loads from the same files."""
    name, url = create_database("poverty_local")
    try:
        env = runner.airflow_env(url, landing.as_uri(), home=tmp_path_factory.mktemp("airflow"))
        runner.migrate(env)
        log_dir = tmp_path_factory.mktemp("local_logs")
        runner.dags_test("commune_ingest", env, log_dir=log_dir, echo=lambda _: None)
        yield table_checksums(url, SCHEMAS)
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def stack(landing, tmp_path_factory):
    db = redis_db()
    name, url = create_database("poverty_celery")
    home = tmp_path_factory.mktemp("celery_airflow")
    server = os.environ["POVERTY_TEST_SERVER_URL"]
    stack = CeleryStack(home=home, server_url=server, warehouse_url=url,
                        landing_url=landing.as_uri(), metadata_db=f"airflow_celery_{uuid.uuid4().hex[:8]}",
                        redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}")
    try:
        stack.start()
        yield stack
    except BaseException:
        print(stack.log_tails(60))
        raise
    finally:
        stack.stop()
        stack.drop_metadata_db()
        drop_database(name)
        redis.Redis(REDIS_HOST, REDIS_PORT, db=db).flushdb()


def wait_for(predicate, stack: CeleryStack, timeout: float, what: str, interval: float = 2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f}s\n{stack.log_tails(60)}")
        time.sleep(interval)


def start_run(stack: CeleryStack, dag_id: str) -> str:
    """Unpause the DAG; its run id (the cron run unpausing creates, else a manual one)."""
    stack.airflow("dags", "unpause", dag_id)
    try:
        wait_for(lambda: stack.dag_runs(dag_id), stack, 45, f"{dag_id} run created")
    except TimeoutError:
        stack.airflow("dags", "trigger", dag_id)
    return wait_for(lambda: stack.dag_runs(dag_id), stack, 60, f"{dag_id} run created")[0][0]


def test_ingest_survives_a_killed_worker_with_the_local_executors_tables(stack, request):
    started = time.monotonic()
    stack.wait_parsed(["commune_ingest"])
    run_id = start_run(stack, "commune_ingest")

    # Once an ingest task runs on the first worker, kill that worker with everything it runs.
    def victim_tasks():
        stack.check_alive()
        running = [ti for ti in stack.task_instances("commune_ingest", run_id)
                   if ti[0] == "ingest_batch" and ti[2] == "running" and ti[5]]
        log = stack.processes["worker1"].log_path.read_text(errors="replace")
        return [ti for ti in running if ti[5] in log]
    victims = wait_for(victim_tasks, stack, 240, "an ingest task running on worker1", interval=1)
    stack.processes["worker1"].kill()
    stack.processes["worker1"].popen.wait(timeout=10)
    print(f"killed worker1 at {time.monotonic() - started:.0f}s while it ran "
          f"{[(v[0], v[1]) for v in victims]}")

    def ingest_done():
        stack.check_alive([n for n in stack.processes if n != "worker1"])
        runs = stack.dag_runs("commune_ingest")
        return all(r[2] in FINISHED for r in runs) and runs
    # the orphaned task is failed after the heartbeat timeout and retried after the DAG's delay
    runs = wait_for(ingest_done, stack, 420, "commune_ingest finished", interval=3)
    print(f"ingest finished at {time.monotonic() - started:.0f}s: {runs}")
    assert all(state == "success" for _, _, state in runs), (runs, stack.log_tails(60))
    tis = {(ti[0], ti[1]): ti for ti in stack.task_instances("commune_ingest", run_id)}
    for task_id, map_index, *_ in victims:
        # the task the dead worker held ran again, on the other worker, and succeeded
        assert tis[task_id, map_index][2] == "success" and tis[task_id, map_index][3] >= 2, tis

    celery_tables = table_checksums(stack.warehouse_url, SCHEMAS)
    stack.stop()  # the reference run below gets the machine to itself
    local_tables = request.getfixturevalue("local_tables")
    assert celery_tables["raw.commune_households"][0] > 0
    assert celery_tables["audit.submissions"][0] == len(COMMUNES) * len(YEARS)
    assert celery_tables == local_tables
