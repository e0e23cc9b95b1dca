"""Run an ingest against a test warehouse and read back what it recorded: the outcome of each
file, the recorded files, a file's problem rows, the problems' messages and the raw tables' row
counts."""

from __future__ import annotations

from poverty_pipeline.ingest.batch import ingest_files
from poverty_pipeline.ingest.discover import new_files
from poverty_pipeline.warehouse.database import connect, ensure_schema


def run_ingest(url: str, landing, folder: str = "communes",
               contract_name: str = "commune_household_review") -> dict[str, str]:
    """Ingest the new files of the landing ``folder`` under ``contract_name``: path → status."""
    with connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        files = new_files(conn, landing.as_uri(), folder)
        report = ingest_files(conn, landing.as_uri(), files, run_id="test", contract_name=contract_name)
    return {o.path: o.status for o in report.outcomes}


def problems(url: str, path: str) -> list[tuple]:
    """The problem rows of the file at ``path``: (severity, sheet, row, column, value, rule)."""
    with connect(url) as conn:
        return conn.execute(
            """
            select p.severity, p.sheet, p.row_number, p.column_name, p.value, p.rule
              from audit.submission_problems p join audit.submissions s using (submission_id)
             where s.path = %s order by p.problem_id
            """,
            (path,),
        ).fetchall()


def recorded(url: str) -> list[tuple]:
    """Every recorded file by path: (path, status, superseded_by)."""
    with connect(url) as conn:
        return conn.execute(
            "select path, status, superseded_by from audit.submissions order by path"
        ).fetchall()


def messages(url: str, *rules: str) -> list[tuple]:
    """The messages of the problem rows of ``rules``: (path, rule, message_vi, message_en)."""
    with connect(url) as conn:
        return conn.execute(
            """
            select s.path, p.rule, p.message_vi, p.message_en
              from audit.submission_problems p join audit.submissions s using (submission_id)
             where p.rule = any(%s) order by p.problem_id
            """,
            (list(rules),),
        ).fetchall()


def raw_counts(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Row count of each raw table named."""
    with connect(url) as conn:
        return {
            table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in tables
        }
