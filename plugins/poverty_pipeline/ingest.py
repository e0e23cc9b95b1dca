"""Ingest a batch of landed files: read → normalise → validate → record, one outcome per file.

A file that cannot be read, or breaks a rule, is rejected on its own; the other files of the
batch still load. Only a failure of the warehouse itself stops the batch (the task then fails
and Airflow retries it; files not yet recorded are picked up again). Every recorded file gets
its feedback report (``feedback.py``); the suites' results go to the Data Docs site
(``data_docs.py``); progress is logged as files done of total, rows loaded and time taken.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg

from poverty_pipeline.contract import Contract, load_contract
from poverty_pipeline.discover import LandedFile, fetch, landing_root
from poverty_pipeline.feedback import write_feedback
from poverty_pipeline.load import Outcome, already_recorded, record
from poverty_pipeline.normalise import Submission, normalise
from poverty_pipeline.problems import problem
from poverty_pipeline.read import ReadError, read_workbook
from poverty_pipeline.validate import validate_batch, value_sets

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 10.0  # a progress line at most this often (and at the end of each phase)


class Progress:
    """Logs "<phase>: n of total files, rows, elapsed" at most every PROGRESS_EVERY_S."""

    def __init__(self, phase: str, total: int, started: float):
        self.phase, self.total, self.started, self.last = phase, total, started, time.monotonic()

    def update(self, done: int, rows: int | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            loaded = "" if rows is None else f", {rows} rows loaded"
            log.info("%s: %d of %d files%s (%.1f s)", self.phase, done, self.total, loaded,
                     now - self.started)


@dataclass
class BatchReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def household_rows(self) -> int:
        return sum(o.household_rows for o in self.outcomes)

    @property
    def rows(self) -> int:
        """Rows loaded into the contract's main table (households, activities)."""
        return sum(o.rows for o in self.outcomes)

    @property
    def loaded(self) -> int:
        return sum(o.status.startswith("accepted") for o in self.outcomes)

    def as_dict(self) -> dict:
        return {"files": len(self.outcomes), "loaded": self.loaded,
                "household_rows": self.household_rows, "rows": self.rows, **self.counts}


def prepare(landed: LandedFile, data: bytes, contract: Contract, sets) -> Submission:
    """Read and normalise one file; problems are collected on the returned Submission."""
    sub = Submission(submission_id=landed.submission_id, path=landed.path, path_period=None)
    match = contract.period_pattern.match(landed.period)
    if match:
        sub.path_period = match.group("period").upper()
    else:
        sub.add(problem("path_period", value=landed.period, contract=contract.name))
    try:
        workbook = read_workbook(landed.path, data)
    except ReadError as exc:
        sub.add(problem(exc.rule, value=exc.value or landed.path, detail=exc.detail))
        return sub
    return normalise(sub, workbook, contract, sets)


def ingest_files(
    conn: psycopg.Connection,
    landing_url: str,
    files: list[LandedFile],
    run_id: str | None = None,
    contract_name: str = "commune_household_review",
) -> BatchReport:
    """Read, normalise, validate and record ``files`` (found by ``discover.new_files`` under
    the contract's landing folder) against the contract ``contract_name``."""
    contract = load_contract(contract_name)
    sets = value_sets(contract.name, contract.sheets)
    root = landing_root(landing_url)
    started = time.monotonic()

    # Another run may have recorded some of these since discovery.
    done = already_recorded(conn, [f.submission_id for f in files])
    todo = [f for f in files if f.submission_id not in done]
    subs: list[Submission] = []
    progress = Progress("read", len(todo), started)
    for i, landed in enumerate(todo):
        landed, data = fetch(root, landed)  # data is None for a file over the size limit
        subs.append(prepare(landed, data, contract, sets))
        progress.update(i + 1, force=i + 1 == len(todo))

    # Only structurally sound files go to the suites: a missing sheet leaves nothing to check.
    checkable = [s for s in subs if not s.rejected or s.tables]
    columns = {name: sheet.codes for name, sheet in contract.sheets.items()}
    results = validate_batch(checkable, contract.name, columns) or []
    log.info("validated %d files (%.1f s)", len(subs), time.monotonic() - started)
    _publish_validations(results, run_id, contract.name, files)

    def feedback(sub: Submission, status: str, rows: int) -> str:
        values = contract.record_values(sub.info, sub.path_period)
        return write_feedback(root, sub, status, rows, values.get("submitter_code"), values.get("period"))

    report = BatchReport()
    progress = Progress("recorded", len(subs), started)
    for i, sub in enumerate(subs):
        outcome = record(conn, sub, contract, run_id, feedback)
        report.outcomes.append(outcome)
        if outcome.status == "rejected":
            first = next(p for p in sub.problems if p.is_error)
            log.warning("rejected %s: %d problem(s), first: %s", sub.path, outcome.errors, first.message_en)
        progress.update(i + 1, report.rows)
    log.info("recorded %d files, %d %s rows (%.1f s): %s", len(subs), report.rows,
             contract.main_sheet, time.monotonic() - started, report.counts)
    return report


def _publish_validations(results: list, run_id: str | None, contract: str, files: list[LandedFile]) -> None:
    """The suites' results of this batch into the Data Docs site (values removed, see data_docs)."""
    if not results:
        return
    from poverty_pipeline import data_docs

    periods = sorted({f.period for f in files})
    try:
        data_docs.publish_submission_validations(results, run_id or "manual",
                                                 f"{contract}.{'+'.join(periods) or 'batch'}")
    except OSError as exc:  # the record in the warehouse matters more than the docs site
        log.warning("Data Docs not updated: %s", exc)
