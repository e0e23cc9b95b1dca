"""The registry of Plan 24-KH/TU: reporting agencies, the tasks each reports on, the reporting
calendar — dbt seeds under ``dbt_project/seeds/registry/`` that the province edits.

The pipeline reads the same CSV files at run time (the agency-code rule of the agency contract,
the sample generator), so the warehouse and the ingest checks share one registry.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path

from poverty_pipeline.config import DBT_PROJECT_DIR

REGISTRY_DIR = DBT_PROJECT_DIR / "seeds" / "registry"
AGENCIES_SEED = REGISTRY_DIR / "ref_reporting_agencies.csv"
AGENCY_TASKS_SEED = REGISTRY_DIR / "ref_agency_tasks.csv"
CALENDAR_SEED = REGISTRY_DIR / "ref_reporting_calendar.csv"
TASKS_SEED = REGISTRY_DIR / "ref_plan_tasks.csv"


@cache
def _rows(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def agencies() -> tuple[dict[str, str], ...]:
    return _rows(AGENCIES_SEED)


def agency_codes() -> frozenset[str]:
    return frozenset(a["agency_code"] for a in agencies())


def agency_tasks() -> dict[str, tuple[str, ...]]:
    """Agency code → the plan tasks (NV1–NV6) it must report on."""
    tasks: dict[str, list[str]] = {}
    for row in _rows(AGENCY_TASKS_SEED):
        tasks.setdefault(row["agency_code"], []).append(row["task_code"])
    return {code: tuple(sorted(t)) for code, t in tasks.items()}


def task_codes() -> tuple[str, ...]:
    return tuple(r["task_code"] for r in _rows(TASKS_SEED))


def calendar() -> dict[str, dict[str, str]]:
    """Submission kind → its reporting-calendar row."""
    return {r["submission_kind"]: r for r in _rows(CALENDAR_SEED)}


def agency_calendar(frequency: str) -> dict[str, str]:
    """The calendar row of agency reports of a frequency (monthly, quarterly, annual)."""
    return next(r for r in calendar().values()
                if r["submitter_type"] == "agency" and r["reporting_frequency"] == frequency)


def parse_date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
