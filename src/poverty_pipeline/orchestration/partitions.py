"""Which landing periods one partitioned ingest run processes.

A partition is a slice of the calendar named by its key (``2023``, ``2023-07``); its run
processes the landing period folders that close in it, so a backfill over a date range
re-processes exactly the periods of that range. Commune reviews are partitioned by review year
(``communes/<YYYY>/``). Agency reports follow the reporting calendar: a partition per month,
which closes the month's reports (``YYYY-MM``), the quarter's when the month ends one
(``YYYY-Qn``) and the year's in December (``YYYY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def review_year_periods(key: str) -> list[str]:
    return [key]


def month_periods(key: str) -> list[str]:
    """``2023-09`` → ``['2023-09', '2023-Q3']``; ``2023-12`` → also ``'2023'``."""
    year, month = key.split("-")
    periods = [key]
    if int(month) % 3 == 0:
        periods.append(f"{year}-Q{int(month) // 3}")
    if month == "12":
        periods.append(year)
    return periods


@dataclass(frozen=True)
class Partitioning:
    grain: str  # what one partition is, for names and docs
    cron: str  # one tick per partition, at its start (local time)
    key_format: str  # the partition key from the tick
    periods_of: Callable[[str], list[str]]  # the landing periods closing in a partition


PARTITIONING = {
    "commune_household_review": Partitioning("year", "0 0 1 1 *", "%Y", review_year_periods),
    "agency_task_report": Partitioning("month", "0 0 1 * *", "%Y-%m", month_periods),
}


def period_folders(root, folder: str, period_pattern, periods: list[str]) -> list[str]:
    """The folders under ``<root>/<folder>`` holding one of ``periods`` (as the contract's
    ``period_pattern`` reads a folder name: ``2023-q3`` is ``2023-Q3``), as paths relative to
    the root, sorted."""
    base = root / folder
    if not base.exists():
        return []
    wanted = set(periods)
    found = []
    for child in base.iterdir():
        match = period_pattern.match(child.name)
        if match and match.group("period").upper() in wanted and child.is_dir():
            found.append(f"{folder}/{child.name}")
    return sorted(found)
