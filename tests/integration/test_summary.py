"""The run's summary table: one line per area, under its latest name; before the marts exist,
a sentence saying what to run instead of a traceback; then where the outputs are."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

from poverty_pipeline.cli.main import print_summary
from poverty_pipeline.reporting.summary import NO_SUBMISSIONS, NOT_BUILT, format_table
from poverty_pipeline.warehouse.database import connect, ensure_schema


def _row(code: str, name: str, year: int, poor: str) -> dict:
    return {"area_code": code, "area_name": name, "review_year": year, "standard_code": "ND07_2022_2025",
            "poor_rate": Decimal(poor), "near_poor_rate": Decimal("0.03")}


def test_an_area_renamed_keeps_one_line_under_its_latest_name():
    table = format_table([
        _row("816", "Thị xã Gò Công", 2023, "0.02"),
        _row("816", "Thành phố Gò Công", 2024, "0.015"),
        _row("82", "Tỉnh Tiền Giang", 2024, "0.008"),
        _row("82", "Tỉnh Đồng Tháp", 2025, "0.0065"),
    ])
    lines = [line for line in table.splitlines() if line.strip().startswith(("816", "82 "))]
    assert len(lines) == 2
    assert "Thành phố Gò Công" in lines[0] and " 2.00% /" in lines[0] and " 1.50% /" in lines[0]
    assert "Tỉnh Đồng Tháp" in lines[1] and " 0.80% /" in lines[1] and " 0.65% /" in lines[1]


def poverty_summary(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "poverty_pipeline.cli.main", "summary"],
                          env={**os.environ, "POVERTY_WAREHOUSE_URL": url},
                          capture_output=True, text=True, timeout=120)


def test_the_summary_says_what_to_run_before_the_marts_exist(warehouse):
    done = poverty_summary(warehouse)  # an empty database
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert NO_SUBMISSIONS in done.stdout and NOT_BUILT in done.stdout
    outputs = done.stdout.split("\nOutputs\n", 1)[1]  # where things are, after the figures
    assert "Review summaries (xlsx)" in outputs and "http://127.0.0.1:8080/plugin/poverty-poverty" in outputs
    with connect(warehouse, autocommit=True) as conn:
        ensure_schema(conn)  # what the ingest creates: audit.submissions, no marts yet
        assert print_summary(conn) is False  # the summary `poverty run` ends with
    done = poverty_summary(warehouse)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert NO_SUBMISSIONS not in done.stdout and NOT_BUILT in done.stdout
