"""How the nightly ingest splits its new files into mapped tasks.

A mapped task costs about a second and a half before it reads a file (its start, the
warehouse connection, Great Expectations made ready), and a period of agency reports often
holds one file: one task per period spent 110 of the sample's 138 s of agency ingest on that
cost. So consecutive periods share a task until it holds ``min_files`` files; a period is
never split (its files supersede each other), and a period that holds as many on its own —
a commune review year — keeps its task.
"""

from __future__ import annotations

# A task's name in the grid (its rendered map index): Airflow stores at most 250 characters,
# and a period folder's name is whatever the landing holds.
MAX_LABEL_CHARS = 200


def group_periods(batches: list[dict], min_files: int) -> list[dict]:
    """``batches`` (``{"period", "files"}``, in period order) joined into tasks of at least
    ``min_files`` files each, the last one possibly fewer; each ``{"period", "periods",
    "files"}``, ``period`` naming it (``2021``, or ``2021-10 … 2022-Q1`` for several)."""
    groups: list[dict] = []
    current: list[dict] = []
    files = 0
    for batch in batches:
        current.append(batch)
        files += len(batch["files"])
        if files >= min_files:
            groups.append(_joined(current))
            current, files = [], 0
    if current:
        groups.append(_joined(current))
    return groups


def _joined(batches: list[dict]) -> dict:
    periods = [b["period"] for b in batches]
    label = periods[0] if len(periods) == 1 else f"{periods[0]} … {periods[-1]}"
    if len(label) > MAX_LABEL_CHARS:
        label = label[:MAX_LABEL_CHARS - 1] + "…"
    return {"period": label, "periods": periods, "files": [f for b in batches for f in b["files"]]}
