"""Reconciliation warnings: what a commune claimed against what the warehouse recomputes.

dbt lists every discrepancy of the current periodic reviews in
``marts.rpt_submission_discrepancies`` (rules and messages: the seed
``ref_reconciliation_rules``) and the submissions it checked in
``marts.rpt_commune_reconciliation``. :func:`record_reconciliation` copies them into the
submission record, in one transaction:

- the earlier ``reconcile_*`` problems of the checked submissions are deleted and the current
  ones inserted (severity ``warning``: the submission stays loaded);
- ``warning_count`` of those submissions is recounted from their problems, and a submission
  with warnings is ``accepted_with_warnings`` (one without any is ``accepted`` again);
  ``superseded`` and ``rejected`` submissions keep their status.

Running it again on the same marts gives the same problem rows (only ``problem_id`` differs).
The status it records is the one dbt already computed (``int_submission_outcomes``), which the
marts read, so a build's marts do not change when its reconciliation runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg

RULE_PREFIX = "reconcile_"

CHECKED_SQL = "select submission_id from marts.rpt_commune_reconciliation"

DELETE_SQL = """
delete from audit.submission_problems
 where submission_id = any(%(checked)s)
   and rule like %(rules)s
"""

INSERT_SQL = """
insert into audit.submission_problems
    (submission_id, severity, sheet, row_number, column_name, value, rule, message_vi, message_en)
select submission_id, severity, sheet, row_number, column_name, value, rule, message_vi, message_en
  from marts.rpt_submission_discrepancies
 where submission_id = any(%(checked)s)
 order by submission_id, sheet, row_number, rule
"""

UPDATE_SQL = """
with warnings as (
    select s.submission_id,
           (select count(*) from audit.submission_problems p
             where p.submission_id = s.submission_id and p.severity = 'warning') as warning_count
      from audit.submissions s
     where s.submission_id = any(%(checked)s)
)
update audit.submissions s
   set warning_count = w.warning_count,
       status = case
           when s.status not in ('accepted', 'accepted_with_warnings') then s.status
           when w.warning_count > 0 then 'accepted_with_warnings'
           else 'accepted'
       end
  from warnings w
 where s.submission_id = w.submission_id
   and (s.warning_count is distinct from w.warning_count
        or (s.status in ('accepted', 'accepted_with_warnings')
            and s.status <> case when w.warning_count > 0 then 'accepted_with_warnings'
                                 else 'accepted' end))
returning s.submission_id, s.status
"""


@dataclass(frozen=True)
class ReconciliationResult:
    submissions_checked: int
    warnings_deleted: int
    warnings_written: int
    submissions_updated: int
    submissions_with_warnings: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def record_reconciliation(conn: psycopg.Connection) -> ReconciliationResult:
    """Replace the ``reconcile_*`` warnings of the checked submissions (one transaction)."""
    with conn.transaction():
        # one reconciliation at a time; ingest may record other submissions meanwhile
        conn.execute("select pg_advisory_xact_lock(hashtext('poverty_pipeline.quality.reconcile'))")
        checked = [row[0] for row in conn.execute(CHECKED_SQL).fetchall()]
        params = {"checked": checked, "rules": RULE_PREFIX.replace("_", r"\_") + "%"}
        deleted = conn.execute(DELETE_SQL, params).rowcount
        written = conn.execute(INSERT_SQL, params).rowcount
        updated = conn.execute(UPDATE_SQL, params).fetchall()
        flagged = conn.execute(
            """
            select count(distinct submission_id) from audit.submission_problems
             where submission_id = any(%(checked)s) and rule like %(rules)s
            """,
            params,
        ).fetchone()[0]
    return ReconciliationResult(
        submissions_checked=len(checked),
        warnings_deleted=deleted,
        warnings_written=written,
        submissions_updated=len(updated),
        submissions_with_warnings=flagged,
    )
