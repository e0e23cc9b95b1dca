"""docker-compose.yml is for users' machines (no Docker engine here): check its wiring."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_every_part():
    assert set(SERVICES) >= {
        "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker", "redis", "airflow-metadata", "warehouse",
    }
    assert SERVICES["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_images_are_pinned_and_long_running_services_have_health_checks():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert re.search(r":\d[\w.-]*$", image), f"{name}: image {image!r} is not pinned"
        if name != "airflow-init":
            assert "healthcheck" in service, f"{name} has no health check"


def test_no_secret_is_written_in_the_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"(PASSWORD|_KEY)\w*:\s*(\S+)", text):
        assert match.group(2).startswith("${"), match.group(0)
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    for var in set(re.findall(r"(?<!\$)\$\{(\w+)", text)):
        assert f"{var}=" in example, f"{var} missing from .env.example"


def test_airflow_reaches_the_warehouse_through_the_connection_and_the_url():
    env = SERVICES["airflow-scheduler"]["environment"]
    assert "@warehouse:5432/" in env["AIRFLOW_CONN_POVERTY_WAREHOUSE"]
    assert "@warehouse:5432/" in env["POVERTY_WAREHOUSE_URL"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
