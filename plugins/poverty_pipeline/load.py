"""Write outcomes to the warehouse.

An accepted submission is loaded with COPY into the raw tables in ONE transaction together with
its ``audit.submissions`` row (so a crash leaves nothing half-loaded) and supersedes the earlier
accepted submission of the same review (the contract's ``supersede_on``). A rejected one writes
its audit row and one ``audit.submission_problems`` row per problem, and nothing in raw but
whom to contact about it (``raw.submission_contacts``). The content hash is the primary key, so
the same file is never loaded twice, even by two runs at once. Which raw tables, which audit
columns and what supersedes what come from the contract YAML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from poverty_pipeline.contract import Contract
from poverty_pipeline.normalise import Submission
from poverty_pipeline.problems import Problem

PROBLEM_COLUMNS = ("submission_id", "severity", "sheet", "row_number", "column_name", "value",
                   "rule", "message_vi", "message_en")


@dataclass(frozen=True)
class Outcome:
    submission_id: str
    path: str
    status: str  # accepted | accepted_with_warnings | rejected | duplicate
    household_rows: int = 0
    errors: int = 0
    warnings: int = 0
    rows: int = 0  # rows loaded into the contract's main table (households, activities)
    feedback_url: str | None = None


# Writes the submitter's feedback report for a status and rows loaded; returns where it went.
FeedbackWriter = Callable[[Submission, str, int], str]


def already_recorded(conn: psycopg.Connection, submission_ids: list[str]) -> set[str]:
    rows = conn.execute(
        "select submission_id from audit.submissions where submission_id = any(%s)",
        [submission_ids],
    ).fetchall()
    return {r[0] for r in rows}


def record(conn: psycopg.Connection, sub: Submission, contract: Contract, run_id: str | None,
           feedback: FeedbackWriter | None = None) -> Outcome:
    """Record the outcome of one submission atomically; load its rows when it is accepted.

    ``feedback`` writes the submitter's report inside the transaction: if writing it fails,
    nothing is recorded and the file is taken in again by the next run (the report is
    rewritten, the same content)."""
    errors = sum(p.is_error for p in sub.problems)
    warnings = len(sub.problems) - errors
    status = "rejected" if errors else ("accepted_with_warnings" if warnings else "accepted")
    households = 0 if errors else len(sub.tables.get("danh_sach_ho", ()))
    rows = 0 if errors else len(sub.tables.get(contract.main_sheet, ()))
    try:
        with conn.transaction():
            inserted = _insert_submission(conn, sub, contract, status, households, rows, errors,
                                          warnings, run_id)
            if not inserted:
                return Outcome(sub.submission_id, sub.path, "duplicate")
            _copy_problems(conn, sub.submission_id, sub.problems)
            _insert_contact(conn, sub, contract)
            if status != "rejected":
                _copy_raw(conn, sub, contract)
                _supersede(conn, sub, contract)
            feedback_url = feedback(sub, status, rows) if feedback else None
            if feedback_url:
                conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                             (feedback_url, sub.submission_id))
    except psycopg.DataError as exc:
        # A value the suite let through but PostgreSQL refuses: reject the file, not the run.
        from poverty_pipeline.problems import problem

        sub.problems.append(problem("load_failed", detail=str(exc).splitlines()[0]))
        return record(conn, sub, contract, run_id, feedback)
    return Outcome(sub.submission_id, sub.path, status, households, errors, warnings, rows, feedback_url)


def _insert_submission(conn, sub: Submission, contract: Contract, status: str, households: int,
                       rows: int, errors: int, warnings: int, run_id: str | None) -> bool:
    values = contract.record_values(sub.info, sub.path_period)
    columns = ["submission_id", "contract", "path", *values, "status", "household_rows",
               "row_count", "error_count", "warning_count", "ingest_run_id"]
    params = [sub.submission_id, contract.name, sub.path, *values.values(), status, households,
              rows, errors, warnings, run_id]
    statement = sql.SQL(
        "insert into audit.submissions ({columns}, received_at) values ({values}, clock_timestamp()) "
        "on conflict (submission_id) do nothing"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    return conn.execute(statement, params).rowcount == 1


def _insert_contact(conn, sub: Submission, contract: Contract) -> None:
    """Whom to contact about the file (the preparer and phone it gives), for the follow-up list."""
    name = sub.info.get(contract.contact.get("name", ""))
    phone = sub.info.get(contract.contact.get("phone", ""))
    if name is None and phone is None:
        return
    conn.execute(
        "insert into raw.submission_contacts (submission_id, contact_name, contact_phone) "
        "values (%s, %s, %s) on conflict (submission_id) do nothing",
        (sub.submission_id, None if name is None else str(name), None if phone is None else str(phone)),
    )


def _copy_problems(conn, submission_id: str, problems: list[Problem]) -> None:
    if not problems:
        return
    with conn.cursor().copy(
        f"copy audit.submission_problems ({', '.join(PROBLEM_COLUMNS)}) from stdin"
    ) as copy:
        for p in problems:
            copy.write_row((submission_id, p.severity, p.sheet, p.row_number, p.column_name,
                            p.value, p.rule, p.message_vi, p.message_en))


def _copy_raw(conn, sub: Submission, contract: Contract) -> None:
    info_sheet = next(s for s in contract.sheets.values() if s.layout == "key_value")
    rows = {info_sheet.name: pd.DataFrame([{c: sub.info.get(c) for c in info_sheet.codes}]), **sub.tables}
    for sheet_name, table in contract.raw_tables.items():
        sheet = contract.sheets[sheet_name]
        frame = rows[sheet_name]
        keyed = sheet.layout != "key_value"
        columns = ["submission_id", *(["row_number"] if keyed else []), *sheet.codes, "extra_columns"]
        with conn.cursor().copy(f"copy raw.{table} ({', '.join(columns)}) from stdin") as copy:
            values = [frame[c].tolist() for c in sheet.codes]
            row_numbers = frame["_row_number"].tolist() if keyed else None
            extras = frame["extra_columns"].tolist() if "extra_columns" in frame else [None] * len(frame)
            for i in range(len(frame)):
                row = [sub.submission_id]
                if keyed:
                    row.append(row_numbers[i])
                row.extend(_cell(col[i]) for col in values)
                row.append(json.dumps(extras[i], ensure_ascii=False) if extras[i] else None)
                copy.write_row(row)


def _cell(value: object) -> object:
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def _supersede(conn, sub: Submission, contract: Contract) -> None:
    """The newest accepted submission of a review replaces the earlier ones (kept in history).

    "The same review" is the same contract, submitter and values of the contract's
    ``supersede_on`` columns (a commune's year, type and month; an agency's period).
    """
    same = [sql.SQL("older.{0} is not distinct from newer.{0}").format(sql.Identifier(column))
            for column in contract.supersede_on if column != "submitter_code"]
    conn.execute(
        sql.SQL(
            """
            update audit.submissions as older
               set status = 'superseded', superseded_by = newer.submission_id
              from audit.submissions as newer
             where newer.submission_id = %s
               and older.contract = newer.contract
               and older.submitter_code = newer.submitter_code
               {same}
               and older.submission_id <> newer.submission_id
               and older.status in ('accepted', 'accepted_with_warnings')
            """
        ).format(same=sql.SQL("").join(sql.SQL(" and ") + cond for cond in same)),
        (sub.submission_id,),
    )
