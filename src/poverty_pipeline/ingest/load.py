"""Write outcomes to the warehouse.

An accepted submission is loaded with COPY into the raw tables in ONE transaction together with
its ``audit.submissions`` row (so a crash leaves nothing half-loaded). A rejected one writes
its audit row and one ``audit.submission_problems`` row per problem, and nothing in raw but
whom to contact about it (``raw.submission_contacts``). The content hash is the primary key, so
the same file is never loaded twice, even by two runs at once. Which raw tables, which audit
columns and what supersedes what come from the contract YAML.

Versions of one review (the contract's ``supersede_on``: a commune's year, type and month; an
agency's period) are recorded one at a time — a transaction-level advisory lock on the review
is taken before anything of the new version is read or written — and ordered by the date the
file says it was prepared (``reported_on``, the contract's report date), arrival breaking a
tie: the newest accepted version is current and the earlier ones ``superseded``; a version
older than the current one, arriving later, is loaded as ``superseded`` with an
``older_version`` warning.

Nothing a file holds can make recording fail for the batch: a value PostgreSQL refuses rolls
the file's transaction back and the file is recorded again as rejected (``load_failed``), with
its problem rows made printable and its audit row without values that break a rule; an
exception of the pipeline's own (writing the feedback report, a bug) records it as rejected
with ``internal_error``, under an identity derived from its path and hash so the same bytes are
taken in again at the next run. Only a failure of the connection itself is raised.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from poverty_pipeline.ingest.problems import Problem, printable, problem, sanitised
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.reference.contract import Contract

log = logging.getLogger(__name__)

PROBLEM_COLUMNS = ("submission_id", "severity", "sheet", "row_number", "column_name", "value",
                   "rule", "message_vi", "message_en")
INT4 = (-(2**31), 2**31 - 1)  # audit.submissions' integer columns
LOADED = ("accepted", "accepted_with_warnings", "superseded")  # statuses whose rows are in raw


@dataclass(frozen=True)
class Outcome:
    submission_id: str
    path: str
    status: str  # accepted | accepted_with_warnings | superseded | rejected | duplicate
    household_rows: int = 0
    errors: int = 0
    warnings: int = 0
    rows: int = 0  # rows loaded into the contract's main table (households, activities)
    feedback_url: str | None = None
    error_rules: tuple[str, ...] = ()  # the rule of each error recorded, for the log


# Writes the submitter's feedback report for a status and rows loaded; returns where it went.
FeedbackWriter = Callable[[Submission, str, int], str]


def already_recorded(conn: psycopg.Connection, submission_ids: list[str]) -> set[str]:
    return set(recorded_paths(conn, submission_ids))


def recorded_paths(conn: psycopg.Connection, submission_ids: list[str]) -> dict[str, str]:
    """Submission id → the path it was recorded under, for the ids already recorded."""
    rows = conn.execute(
        "select submission_id, path from audit.submissions where submission_id = any(%s)",
        [submission_ids],
    ).fetchall()
    return dict(rows)


def is_connection_failure(exc: BaseException) -> bool:
    """A failure of the warehouse itself (the task fails, Airflow retries), not of one file."""
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def record(conn: psycopg.Connection, sub: Submission, contract: Contract, run_id: str | None,
           feedback: FeedbackWriter | None = None, failure_id: Callable[[], str] | None = None) -> Outcome:
    """Record the outcome of one submission atomically; load its rows when it is accepted.

    ``feedback`` writes the submitter's report inside the transaction. When the transaction
    fails on something of the file's (a value PostgreSQL refuses) or of the pipeline's (an
    exception, the report that could not be written), the file is recorded again, once, as
    rejected (``load_failed`` / ``internal_error``; the latter under ``failure_id()``, an
    identity that lets the same bytes in again). Connection failures are raised."""
    try:
        return _record(conn, sub, contract, run_id, feedback)
    except Exception as exc:
        if is_connection_failure(exc):
            raise
        from poverty_pipeline.ingest.read_worker import where

        if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
            detail = getattr(exc.diag, "message_primary", None) or type(exc).__name__
            log.warning("%s: the warehouse refused a value (%s); recorded as rejected",
                        printable(sub.path, one_line=True), type(exc).__name__)
            return _record_failure(conn, sub, contract, run_id, feedback, "load_failed", detail,
                                   sub.submission_id)
        log.error("internal error recording %s: %s", printable(sub.path, one_line=True), where(exc))
        return _record_failure(conn, sub, contract, run_id, feedback, "internal_error", where(exc),
                               failure_id() if failure_id else sub.submission_id)


def _record(conn, sub: Submission, contract: Contract, run_id: str | None,
            feedback: FeedbackWriter | None) -> Outcome:
    values = audit_values(contract, sub)
    errors = sum(p.is_error for p in sub.problems)
    status = "rejected" if errors else "accepted"
    households = 0 if errors else len(sub.tables.get("danh_sach_ho", ()))
    rows = 0 if errors else len(sub.tables.get(contract.main_sheet, ()))
    with conn.transaction():
        superseded_by = None
        if status != "rejected":
            _lock_review(conn, contract, values)
            current = _newer_version(conn, contract, values)
            if current is not None:
                superseded_by, current_date = current
                sub.add(problem("older_version", value=_day(values.get("reported_on")),
                                detail=_day(current_date)))
        warnings = len(sub.problems) - errors
        if status != "rejected":
            status = "superseded" if superseded_by else "accepted_with_warnings" if warnings else "accepted"
        inserted = _insert_submission(conn, sub, contract, values, status, households, rows, errors,
                                      warnings, run_id, superseded_by)
        if not inserted:
            return Outcome(sub.submission_id, sub.path, "duplicate")
        _copy_problems(conn, sub.submission_id, sub.problems)
        _insert_contact(conn, sub, contract)
        if status != "rejected":
            _copy_raw(conn, sub, contract)
        if status in ("accepted", "accepted_with_warnings"):
            _supersede(conn, sub, contract)
        feedback_url = feedback(sub, status, rows) if feedback else None
        if feedback_url:
            conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                         (feedback_url, sub.submission_id))
    return Outcome(sub.submission_id, sub.path, status, households, errors, warnings, rows, feedback_url,
                   tuple(p.rule for p in sub.problems if p.is_error))


def _record_failure(conn, sub: Submission, contract: Contract, run_id: str | None,
                    feedback: FeedbackWriter | None, rule: str, detail: str, submission_id: str) -> Outcome:
    """Record ``sub`` as rejected for ``rule``: its problems made printable, no raw rows, no
    contact; the feedback report when it can be written. A last, minimal row when even that
    fails; a second failure is raised."""
    failed = Submission(submission_id, sub.path, sub.path_period, sub.path_submitter, info=dict(sub.info),
                        info_rows=dict(sub.info_rows))
    failed.problems = [sanitised(p) for p in sub.problems if p.rule != "older_version"]
    failed.add(problem(rule, detail=detail))
    errors = sum(p.is_error for p in failed.problems)
    warnings = len(failed.problems) - errors
    values = audit_values(contract, failed)
    try:
        with conn.transaction():
            if not _insert_submission(conn, failed, contract, values, "rejected", 0, 0, errors, warnings,
                                      run_id, None):
                return Outcome(submission_id, sub.path, "duplicate")
            _copy_problems(conn, submission_id, failed.problems)
    except Exception as exc:
        if is_connection_failure(exc):
            raise
        log.error("%s could not be recorded with its problems (%s); recorded with %s alone",
                  printable(sub.path, one_line=True), type(exc).__name__, rule)
        failed.problems = [problem(rule)]
        errors, warnings = 1, 0
        with conn.transaction():
            if not _insert_submission(conn, failed, contract, {}, "rejected", 0, 0, 1, 0, run_id, None):
                return Outcome(submission_id, sub.path, "duplicate")
            _copy_problems(conn, submission_id, failed.problems)
    feedback_url = None
    if feedback:
        try:
            feedback_url = feedback(failed, "rejected", 0)
            conn.execute("update audit.submissions set feedback_url = %s where submission_id = %s",
                         (feedback_url, submission_id))
        except Exception as exc:
            if is_connection_failure(exc):
                raise
            log.error("no feedback report for %s (%s)", printable(sub.path, one_line=True),
                      type(exc).__name__)
    return Outcome(submission_id, sub.path, "rejected", 0, errors, warnings, 0, feedback_url,
                   tuple(p.rule for p in failed.problems if p.is_error))


def audit_values(contract: Contract, sub: Submission) -> dict[str, object]:
    """The contract's audit.submissions columns for ``sub``, each storable: an integer field
    that breaks a rule (a review year of 3,000,000,000, a month 9999) fills nothing — it is
    blank, and what derives from it (the period) falls back as the contract says; text is
    printable."""
    broken = {p.column_name for p in sub.problems if p.is_error and p.sheet == contract.info_sheet.name}
    info = {k: (None if k in broken and isinstance(v, int) else v) for k, v in sub.info.items()}
    values = contract.record_values(info, sub.path_period, sub.path_submitter)
    return {column: _storable(value) for column, value in values.items()}


def _storable(value: object) -> object:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT4[0] <= value <= INT4[1] else None
    if isinstance(value, str):
        return printable(value)
    return value


def _day(value: object) -> str:
    return value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else str(value or "?")


def _review_key(contract: Contract, values: dict[str, object]) -> str:
    return json.dumps([contract.name, *(str(values.get(c)) for c in contract.supersede_on)])


def _lock_review(conn, contract: Contract, values: dict[str, object]) -> None:
    """Serialise the versions of one review: held until this transaction ends."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (_review_key(contract, values),))


def _same_review(values: dict[str, object], contract: Contract) -> tuple[sql.Composed, list]:
    conditions = [sql.SQL("contract = %s")]
    params: list = [contract.name]
    for column in contract.supersede_on:
        conditions.append(sql.SQL("{} is not distinct from %s").format(sql.Identifier(column)))
        params.append(values.get(column))
    return sql.SQL(" and ").join(conditions), params


def _newer_version(conn, contract: Contract, values: dict[str, object]) -> tuple[str, object] | None:
    """The accepted version of the same review prepared after this one, if any."""
    if values.get("reported_on") is None:
        return None  # no date to order by: arrival decides, and this one arrives last
    same, params = _same_review(values, contract)
    row = conn.execute(
        sql.SQL("""
            select submission_id, reported_on from audit.submissions
             where {same} and status in ('accepted', 'accepted_with_warnings') and reported_on > %s
             order by reported_on desc, received_at desc limit 1
        """).format(same=same),
        [*params, values["reported_on"]],
    ).fetchone()
    return (row[0], row[1]) if row else None


def _insert_submission(conn, sub: Submission, contract: Contract, values: dict[str, object], status: str,
                       households: int, rows: int, errors: int, warnings: int, run_id: str | None,
                       superseded_by: str | None) -> bool:
    columns = ["submission_id", "contract", "path", *values, "status", "household_rows",
               "row_count", "error_count", "warning_count", "ingest_run_id", "superseded_by"]
    params = [sub.submission_id, contract.name, printable(sub.path), *values.values(), status, households,
              rows, errors, warnings, run_id, superseded_by]
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
        (sub.submission_id, None if name is None else printable(str(name)),
         None if phone is None else printable(str(phone))),
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
        # column by column, then zipped into rows: one Python pass per column instead of a
        # function call per cell (the loader's time went there, not into COPY)
        values = [_cells(frame[c].tolist()) for c in sheet.codes]
        extras = frame["extra_columns"].tolist() if "extra_columns" in frame else [None] * len(frame)
        extras = [json.dumps(e, ensure_ascii=False) if e else None for e in extras]
        keys = [[sub.submission_id] * len(frame), *([frame["_row_number"].tolist()] if keyed else [])]
        with conn.cursor().copy(f"copy raw.{table} ({', '.join(columns)}) from stdin") as copy:
            for row in zip(*keys, *values, extras, strict=True):
                copy.write_row(row)


def analyse_loaded(conn: psycopg.Connection, contract: Contract) -> None:
    """Fresh statistics for the tables a batch wrote (a sample, well under a second): the build
    joins them next, and a server whose autovacuum has not come by — or never runs — would plan
    a table of a million rows as if it held the few it had before."""
    tables = ["audit.submissions", "audit.submission_problems", "raw.submission_contacts",
              *(f"raw.{table}" for table in contract.raw_tables.values())]
    conn.execute(f"analyze {', '.join(tables)}")


def _cells(values: list) -> list:
    """A column's values with every missing one (None, pandas' NA, NaN) as None (SQL null)."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in values]


def _supersede(conn, sub: Submission, contract: Contract) -> None:
    """The newest accepted submission of a review replaces the earlier ones (kept in history).

    "The same review" is the same contract, submitter and values of the contract's
    ``supersede_on`` columns (a commune's year, type and month; an agency's period). None of
    them was prepared after this one (``_newer_version``, under the review's lock)."""
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

