"""Every table the pages show, as CSV: the same query the page reads, every column of it,
UTF-8 with a byte-order mark (so Excel opens Vietnamese names as they are)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from decimal import Decimal

import psycopg
from fastapi import HTTPException
from fastapi.responses import Response

from poverty_pipeline.ui import queries

# A cell starting with one of these would be a formula to a spreadsheet; text that reached the
# warehouse from a submitter's file is kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LEVELS = ("province", "district", "commune", "current_commune")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return str(value)


def to_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if rows:
        writer.writerow(list(rows[0]))
        writer.writerows([cell(v) for v in row.values()] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _codes(conn: psycopg.Connection) -> list[str]:
    return [s["standard_code"] for s in queries.standards(conn)]


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise HTTPException(400, f"thiếu / missing: {name}")
    return value


def _year(params: Mapping[str, str]) -> int:
    try:
        return int(_required(params, "year"))
    except ValueError as exc:
        raise HTTPException(400, "year: một năm / a year") from exc


def _level(params: Mapping[str, str]) -> str:
    level = params.get("level") or "province"
    if level not in LEVELS:
        raise HTTPException(400, f"level: {', '.join(LEVELS)}")
    return level


def _submissions(conn: psycopg.Connection, params: Mapping[str, str]) -> list[dict]:
    hidden = {"latest_path", "feedback_url"}  # where files lie on the server: not a figure
    return [{k: v for k, v in row.items() if k not in hidden}
            for row in queries.submissions(conn, _required(params, "period"))]


# name → (the query behind the table, the query parameters naming the file)
TABLES: dict[str, tuple[Callable[[psycopg.Connection, Mapping[str, str]], list[dict]], tuple[str, ...]]] = {
    "poor-rates": (lambda conn, p: queries.poor_rates(conn, _codes(conn)), ()),
    "district-rates": (lambda conn, p: queries.district_rates(conn, _codes(conn), _required(p, "code")),
                       ("code",)),
    "commune-rates": (lambda conn, p: queries.commune_rates(conn, _codes(conn), _required(p, "code")),
                      ("code",)),
    "flows": (lambda conn, p: queries.area_flows(conn, _codes(conn), _level(p), p.get("code")),
              ("level", "code")),
    "target-progress": (lambda conn, p: queries.target_progress(conn), ()),
    "task-completion": (lambda conn, p: queries.task_completion(conn, _year(p)), ("year",)),
    "plan-results": (lambda conn, p: queries.plan_results(conn, _year(p)), ("year",)),
    "reporting-rates": (lambda conn, p: queries.reporting_rates(conn, _required(p, "period")), ("period",)),
    "submissions": (_submissions, ("period",)),
}


def file_name(table: str, params: Mapping[str, str]) -> str:
    parts = [table, *(params[k] for k in TABLES[table][1] if params.get(k))]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(parts)) + ".csv"


def download(conn: psycopg.Connection, table: str, params: Mapping[str, str]) -> Response:
    if table not in TABLES:
        raise HTTPException(404, "Không có bảng này / no such table")
    rows = TABLES[table][0](conn, params)
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{file_name(table, params)}"'})
