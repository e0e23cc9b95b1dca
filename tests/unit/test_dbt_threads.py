"""dbt's threads come from configuration, defaulting to the machine's cores."""

from __future__ import annotations

import os

import pytest
import yaml

from poverty_pipeline.config import DBT_PROJECT_DIR, dbt_threads
from poverty_pipeline.warehouse.database import dbt_env


def test_threads_default_to_the_cores_and_follow_the_setting(monkeypatch):
    monkeypatch.delenv("POVERTY_DBT_THREADS", raising=False)
    assert dbt_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv("POVERTY_DBT_THREADS", "6")
    assert dbt_env("postgresql://u@h:5432/d")["POVERTY_DBT_THREADS"] == "6"
    for wrong in ("0", "-1", "two"):
        monkeypatch.setenv("POVERTY_DBT_THREADS", wrong)
        with pytest.raises(RuntimeError, match="POVERTY_DBT_THREADS"):
            dbt_threads()


def test_the_profile_reads_the_threads_from_the_environment():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    threads = profile["poverty_warehouse"]["outputs"]["local"]["threads"]
    assert "env_var('POVERTY_DBT_THREADS'" in threads
