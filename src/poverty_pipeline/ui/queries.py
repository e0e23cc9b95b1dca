"""What the pages read: dbt models — the marts (the BI surface), and for the Submissions page
``restricted.rst_submission_status`` (where files and feedback reports lie) — plus the feedback
link of one submission from ``audit.submissions``. Selection by period, area, standard or year,
and ordering only: every join and figure is computed in dbt (the models are declared as the
pages' exposures in ``dbt_project/models/exposures.yml``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row

from poverty_pipeline.config import warehouse_url


class WarehouseUnavailable(Exception):
    """No warehouse URL is set, or the server does not answer."""


@contextmanager
def read_only(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A read-only connection to the warehouse: the pages never write."""
    try:
        conn = psycopg.connect(
            url or warehouse_url(), connect_timeout=5, row_factory=dict_row,
            options="-c default_transaction_read_only=on -c statement_timeout=30000",
        )
    except (RuntimeError, psycopg.OperationalError) as exc:
        raise WarehouseUnavailable(str(exc)) from exc
    with conn:
        yield conn


def _has_column(conn: psycopg.Connection, schema: str, table: str, column: str) -> bool:
    return conn.execute(
        "select 1 from information_schema.columns"
        " where table_schema = %s and table_name = %s and column_name = %s",
        (schema, table, column),
    ).fetchone() is not None


# ------------------------------------------------------------------ submissions


def periods(conn: psycopg.Connection) -> list[dict]:
    """Every period of fct_submission_status, newest first (periods with no known end, such
    as a folder name no calendar knows, last), with how many files were expected and arrived."""
    return conn.execute("""
        select period, period_end, expected_count as expected, received_count as received,
               expected_received_count as expected_received
          from marts.rpt_submission_periods
         order by period_end desc nulls last, period desc
    """).fetchall()


def default_period(rows: list[dict]) -> str | None:
    """The newest period of the calendar for which an expected file arrived; else the newest
    period any file arrived for; else the newest period (a calendar reaching into the future
    would otherwise open the page on an empty month)."""
    for wanted in ("expected_received", "received"):
        found = [r["period"] for r in rows if r[wanted]]
        if found:
            return found[0]
    return rows[0]["period"] if rows else None


def submissions(conn: psycopg.Connection, period: str) -> list[dict]:
    """Each expected (or unexpectedly received) submission of ``period``, with the path and
    feedback report of its newest file."""
    return conn.execute("""
        select submitter_type, submitter_code, submitter_name, submission_kind, district_code,
               district_name, agency_group_name, deadline_on, is_expected, is_due, is_received,
               file_count, rejected_file_count, first_received_on, first_accepted_on, outcome,
               timeliness, is_on_time, days_late, days_overdue, latest_submission_id,
               latest_path, feedback_url
          from restricted.rst_submission_status
         where period = %s
         order by submitter_type desc, submission_kind, district_code, agency_group, submitter_code
    """, (period,)).fetchall()


def reporting_rates(conn: psycopg.Connection, period: str) -> list[dict]:
    return conn.execute("""
        select submitter_type, rollup_level, rollup_code, rollup_name, submission_kind,
               deadline_on, expected_count, received_count, accepted_count, on_time_count,
               late_count, rejected_count, missing_count, not_yet_due_count, reporting_rate,
               on_time_rate
          from marts.rpt_reporting_rates
         where period = %s
         order by submitter_type desc, submission_kind,
                  rollup_level in ('province', 'all_agencies'), rollup_code
    """, (period,)).fetchall()


def feedback_location(conn: psycopg.Connection, submission_id: str) -> tuple[str, str | None] | None:
    """The landing path of a submission and its recorded feedback URL (None before the
    column exists or while it is empty); None for an unknown submission."""
    feedback = "feedback_url" if _has_column(conn, "audit", "submissions", "feedback_url") \
        else "null::text"
    row = conn.execute(
        f"select path, {feedback} as feedback_url from audit.submissions where submission_id = %s",
        (submission_id,),
    ).fetchone()
    return (row["path"], row["feedback_url"]) if row else None


# ------------------------------------------------------------------ poverty


def standards(conn: psycopg.Connection) -> list[dict]:
    """The confirmed standards (QĐ59, NĐ07, …), oldest first, with their names."""
    return conn.execute("""
        select standard_code, standard_name_vi, standard_name_en, legal_source,
               first_review_year, last_review_year
          from marts.dim_poverty_standard
         where is_confirmed
         order by first_review_year, standard_code
    """).fetchall()


AREA_COLUMNS = """area_level, area_code, area_name, parent_area_code, review_year, standard_code,
               poor_households, near_poor_households, total_households, poor_rate,
               near_poor_rate"""
AREA_ORDER = """case area_level when 'province' then 0 when 'district' then 1
                           when 'commune' then 2 else 3 end, area_code, review_year, standard_code"""


def poor_rates(conn: psycopg.Connection, standard_codes: list[str]) -> list[dict]:
    """Poor and near-poor rates of the province, its districts and (when the mart has them)
    today's communes, per review year and standard."""
    return conn.execute(f"""
        select {AREA_COLUMNS}
          from marts.rpt_poverty_indicators_by_area
         where area_level in ('province', 'district', 'current_commune')
           and standard_code = any(%s)
         order by {AREA_ORDER}
    """, (standard_codes,)).fetchall()


def districts(conn: psycopg.Connection) -> list[dict]:
    """The districts the indicators know (units before the 2025 reorganisation), by code."""
    return conn.execute("""
        select distinct district_code as area_code, district_name as area_name
          from marts.rpt_district_drilldown
         order by district_code
    """).fetchall()


def district_rates(conn: psycopg.Connection, standard_codes: list[str], district: str) -> list[dict]:
    """A district and each commune that ever belonged to it, every review year — a commune's
    rows after the district was abolished (its parent is then the province) included."""
    return conn.execute(f"""
        select {AREA_COLUMNS}
          from marts.rpt_district_drilldown
         where standard_code = any(%s) and district_code = %s
         order by {AREA_ORDER}
    """, (standard_codes, district)).fetchall()


def commune_rates(conn: psycopg.Connection, standard_codes: list[str], commune: str) -> list[dict]:
    """A commune (a unit of the review date) in every review year."""
    return conn.execute(f"""
        select {AREA_COLUMNS}
          from marts.rpt_poverty_indicators_by_area
         where standard_code = any(%s) and area_level = 'commune' and area_code = %s
         order by {AREA_ORDER}
    """, (standard_codes, commune)).fetchall()


def poor_rate_targets(conn: psycopg.Connection) -> list[dict]:
    """The poor-rate targets in percent (Plan 24-KH/TU: below 1% under QĐ59 by 2025)."""
    return conn.execute("""
        select distinct target_code, target_name_vi, target_name_en, source_document,
               standard_code, comparison, target_value, target_review_year
          from marts.rpt_target_progress
         where metric_code = 'poor_rate_percent'
         order by target_code
    """).fetchall()


def target_progress(conn: psycopg.Connection) -> list[dict]:
    return conn.execute("""
        select target_code, target_name_vi, target_name_en, review_year, standard_code, unit,
               comparison, actual_value, target_value, gap, is_target_met, projected_value,
               target_review_year, is_on_track, is_target_confirmed
          from marts.rpt_target_progress
         order by target_code, review_year
    """).fetchall()


def area_flows(conn: psycopg.Connection, standard_codes: list[str], level: str = "province",
               code: str | None = None) -> list[dict]:
    """The review summary's flows of the poor and the near-poor for an area (the province
    by default; urban and rural together), with the households of t−1 whose territory had no
    review in t (``*_not_reviewed``: not in the start of the year)."""
    return conn.execute("""
        select review_year, standard_code, area_level, area_code, area_name, poor_start,
               poor_escaped, poor_left_review, poor_to_unclassifiable, near_poor_to_poor,
               newly_poor, re_poor, poor_not_compared, poor_end, poor_not_reviewed,
               total_households, poor_rate,
               near_poor_start, near_poor_escaped, near_poor_left_review,
               near_poor_to_unclassifiable, poor_escaped_to_near_poor, newly_near_poor,
               re_near_poor, near_poor_not_compared, near_poor_end, near_poor_not_reviewed,
               near_poor_rate
          from marts.rpt_review_summary
         where area_level = %s and (%s::text is null or area_code = %s)
           and area_type = 'total' and standard_code = any(%s)
         order by standard_code, review_year
    """, (level, code, code, standard_codes)).fetchall()


def province_flows(conn: psycopg.Connection, standard_codes: list[str]) -> list[dict]:
    """The review summary's flows for the whole province."""
    return area_flows(conn, standard_codes)


def task_years(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute("""
        select distinct period_year from marts.fct_task_completion
         where has_current_report order by period_year desc
    """).fetchall()
    return [r["period_year"] for r in rows]


def task_completion(conn: psycopg.Connection, year: int) -> list[dict]:
    """Per agency × assigned task, its standing in its latest reported period of ``year``
    (activities are cumulative through the year, so the latest report is the year's state)."""
    return conn.execute("""
        select agency_code, agency_name_vi, agency_name_en, task_code, task_title_vi, period,
               has_current_report, activities_reported, activities_completed,
               activities_overdue, completion_rate
          from marts.rpt_task_completion_by_year
         where period_year = %s
         order by agency_code, task_code
    """, (year,)).fetchall()


def plan_results(conn: psycopg.Connection, year: int) -> list[dict]:
    return conn.execute("""
        select task_code, task_title_vi, indicator_label_vi, indicator_label_en, unit_code,
               funding_source, agency_count, activity_count, completed_activity_count,
               achieved_in_year_quantity, achieved_cumulative_quantity,
               planned_cumulative_quantity, cumulative_progress_rate
          from marts.rpt_plan_results_by_year
         where result_year = %s
         order by task_code, indicator_code, funding_source nulls first
    """, (year,)).fetchall()
