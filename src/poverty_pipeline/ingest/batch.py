"""Ingest a batch of landed files: read → normalise → validate → record, one outcome per file.

A file that cannot be read, or breaks a rule, is rejected on its own; the other files of the
batch still load. Whatever a file does — vanish after discovery, be a link, exhaust the reader's
memory or time, hold values the warehouse refuses, trip an error of the pipeline's own — ends as
that file's outcome (see ``load.record``); only a failure of the warehouse connection stops the
batch (the task then fails and Airflow retries it; files not yet recorded are picked up again).
Files are read by reader processes under a memory and time limit, several at once
(``read_pool``, ``read_worker``; ``config.ingest_readers()``), and validated and recorded in
parts of about ``config.ingest_part_rows()`` rows, a part while the next one is read, so the
batch's memory is two parts', however many files landed. Every recorded file gets its feedback
report (``feedback.py``); the suites' results go to the Data Docs site (``data_docs.py``);
progress is logged as files done of total, rows loaded and time taken. Log lines name files by
path and problems by rule, never by value.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

from poverty_pipeline.config import ingest_part_rows, ingest_readers
from poverty_pipeline.ingest.discover import (
    BecameLink,
    LandedFile,
    derived_id,
    fetch,
    landing_root,
    period_of,
)
from poverty_pipeline.ingest.feedback import write_feedback
from poverty_pipeline.ingest.load import (
    LOADED,
    Outcome,
    already_recorded,
    analyse_loaded,
    audit_values,
    is_connection_failure,
    record,
)
from poverty_pipeline.ingest.problems import printable, problem
from poverty_pipeline.ingest.read_pool import ReadPool
from poverty_pipeline.ingest.read_worker import ReadWorker, Request, where
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.ingest.validate import start_warming_up, validate_batch
from poverty_pipeline.reference.contract import Contract, load_contract

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 10.0  # a progress line at most this often (and at the end of each phase)
REQUIRE_SUBMITTER_FOLDERS = "POVERTY_REQUIRE_SUBMITTER_FOLDERS"  # 1: files must lie in one


def submitter_folders_required() -> bool:
    """Whether every file must lie in its submitter's folder (``communes/<year>/<ma_xa>/``):
    set ``POVERTY_REQUIRE_SUBMITTER_FOLDERS=1`` when submitters write to the landing themselves."""
    return os.environ.get(REQUIRE_SUBMITTER_FOLDERS, "").strip().lower() in ("1", "true", "yes", "on")


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
        return sum(o.status in LOADED for o in self.outcomes)

    def as_dict(self) -> dict:
        return {"files": len(self.outcomes), "loaded": self.loaded,
                "household_rows": self.household_rows, "rows": self.rows, **self.counts}


# --- where a file lies ----------------------------------------------------------------------

def check_path(sub: Submission, path: str, contract: Contract, require_folders: bool = False,
               add_problems: bool = True) -> Submission:
    """Set what ``path`` tells about ``sub``: its period folder's period and the submitter
    folder it lies in (``communes/<year>/<code>/…``; any other sub-folder is the landing
    operator's order and reads as the period folder); add the problems of a path that is not
    where the contract wants it."""
    sub.path = path
    folder = period_of(path)
    sub.path_period = contract.period_of_folder(folder)
    parts = path.split("/")
    below = parts[2] if len(parts) > 3 else None
    pattern = contract.submitter_folder
    sub.path_submitter = below if below and pattern is not None and pattern.fullmatch(below) else None
    if add_problems:
        found = []
        if sub.path_period is None:
            found.append(problem("path_period", value=folder, contract=contract.name))
        if require_folders and sub.path_submitter is None:
            found.append(problem("submitter_folder_required", value=path, contract=contract.name))
        sub.problems[0:0] = found
    return sub


def own_copy(sub: Submission, landed: LandedFile, contract: Contract) -> str:
    """Of the paths holding the same bytes, the one in the folder of the file's own period
    (``own_period``: a commune's review year, an agency's reporting period), else the first;
    the others are logged with the reason."""
    if not landed.copies:
        return landed.path
    own = sub.info.get(contract.own_period) if contract.own_period else None
    own = str(own).upper() if own is not None else None
    paths = (landed.path, *landed.copies)
    chosen = next((p for p in paths if own and contract.period_of_folder(period_of(p)) == own), landed.path)
    why = (f"the folder of the file's own period {contract.period_of_folder(period_of(chosen))}"
           if chosen != landed.path or (own and contract.period_of_folder(landed.period) == own)
           else "the first in path order (none lies in the folder of the file's own period)")
    for other in paths:
        if other != chosen:
            log.info("%s: the same bytes as %s, recorded there: %s", printable(other, one_line=True),
                     printable(chosen, one_line=True), why)
    return chosen


# --- taking one file in ---------------------------------------------------------------------

def _not_read(landed: LandedFile, contract: Contract, rule: str, submission_id: str,
              detail: str = "") -> Submission:
    """A file whose bytes were not read (a link, a file gone): its outcome, under its own id."""
    sub = Submission(submission_id, landed.path, None)
    check_path(sub, landed.path, contract, add_problems=False)
    sub.add(problem(rule, value=landed.path, detail=detail))
    return sub


def take_in(root, landed: LandedFile, contract: Contract, reader: ReadWorker,
            require_folders: bool = False) -> Submission:
    """Fetch, read and normalise one landed file, and check where it lies; whatever goes wrong
    is a problem on the returned Submission."""
    if landed.kind == "link":
        return _not_read(landed, contract, "symbolic_link", landed.submission_id)
    if landed.kind == "unreadable":
        return _not_read(landed, contract, "internal_error", landed.submission_id,
                         "the file could not be read")
    try:
        landed, data = fetch(root, landed)
    except FileNotFoundError:
        log.info("%s vanished before it was read", printable(landed.path, one_line=True))
        return _not_read(landed, contract, "file_vanished",
                         derived_id("file_vanished", landed.path, landed.submission_id))
    except BecameLink:
        return _not_read(landed, contract, "symbolic_link", derived_id("symbolic_link", landed.path))
    except Exception as exc:
        if is_connection_failure(exc):
            raise
        log.error("internal error fetching %s: %s", printable(landed.path, one_line=True), where(exc))
        return _not_read(landed, contract, "internal_error",
                         derived_id("internal_error", landed.path, landed.submission_id), where(exc))
    try:
        sub = reader.prepare(Request(landed.path, landed.submission_id, data, contract.name))
        path = own_copy(sub, landed, contract)
    except Exception as exc:
        log.error("internal error reading %s: %s", printable(landed.path, one_line=True), where(exc))
        sub = Submission(landed.submission_id, landed.path, None)
        sub.add(problem("internal_error", detail=where(exc)))
        path = landed.path
    if any(p.rule == "internal_error" for p in sub.problems):  # ours, not the file's: in again next run
        sub.submission_id = derived_id("internal_error", landed.path, landed.submission_id)
    return check_path(sub, path, contract, require_folders)


def prepare(landed: LandedFile, data: bytes | None, contract: Contract, sets=None) -> Submission:
    """Read and normalise one file in this process, and check where it lies (for tests and
    tools; the ingest reads in a worker process, ``take_in``)."""
    from poverty_pipeline.ingest.read_worker import prepare as read_and_normalise

    sub = read_and_normalise(Request(landed.path, landed.submission_id, data, contract.name))
    return check_path(sub, own_copy(sub, landed, contract), contract, submitter_folders_required())


def validate(subs: list[Submission], contract: Contract) -> list:
    """The suites over the batch; should they fail to run, file by file, so an error of the
    pipeline's on one file's values is that file's ``internal_error``."""
    columns = {name: sheet.codes for name, sheet in contract.sheets.items()}
    before = {id(s): len(s.problems) for s in subs}
    try:
        return validate_batch(subs, contract.name, columns) or []
    except Exception as exc:
        if len(subs) == 1:
            raise
        log.error("validating the batch failed (%s); validating file by file", where(exc))
    results = []
    for sub in subs:
        del sub.problems[before[id(sub)]:]
        try:
            results += validate_batch([sub], contract.name, columns) or []
        except Exception as exc:
            log.error("internal error validating %s: %s", printable(sub.path, one_line=True), where(exc))
            del sub.problems[before[id(sub)]:]
            sub.add(problem("internal_error", detail=where(exc)))
            sub.submission_id = derived_id("internal_error", sub.path, sub.submission_id)
    return results


def ingest_files(
    conn: psycopg.Connection,
    landing_url: str,
    files: list[LandedFile],
    run_id: str | None = None,
    contract_name: str = "commune_household_review",
    reader: ReadWorker | None = None,
) -> BatchReport:
    """Read, normalise, validate and record ``files`` (found by ``discover.new_files`` under
    the contract's landing folder) against the contract ``contract_name``. The files are read
    by ``reader``, or by ``config.ingest_readers()`` reader processes started for the batch."""
    contract = load_contract(contract_name)
    root = landing_root(landing_url)
    started = time.monotonic()
    require_folders = submitter_folders_required()
    part_rows = ingest_part_rows()  # one part in memory at a time, whatever the batch

    # Another run may have recorded some of these since discovery.
    done = already_recorded(conn, [f.submission_id for f in files])
    todo = [f for f in files if f.submission_id not in done]
    report = BatchReport()
    published: list = []  # the Data Docs keys of the suites' results, one set per part
    part: list[Submission] = []
    progress = Progress("read", len(todo), started)
    warming_up = start_warming_up() if todo else None

    def read(landed: LandedFile, worker: ReadWorker) -> Submission:
        return take_in(root, landed, contract, worker, require_folders)

    def take(part: list[Submission]) -> list:
        warming_up.join()
        return _take_part(conn, root, part, contract, run_id, report,
                          Progress("recorded", len(todo), started))

    pool = ReadPool(readers=[reader]) if reader else ReadPool(min(ingest_readers(), len(todo) or 1))
    taking = None  # the part being validated and recorded (in `taker`) while the next is read
    # The taker is left last: after an error it still finishes the part it holds (each file's
    # outcome stands). The reader pool is closed before its readers: files read ahead of an
    # error are waited for, then dropped.
    with (ThreadPoolExecutor(1, thread_name_prefix="part") as taker, pool,
          contextlib.closing(pool.map(read, todo)) as subs):
        for i, sub in enumerate(subs):
            part.append(sub)
            progress.update(i + 1, force=i + 1 == len(todo))
            if i + 1 == len(todo) or sum(s.row_count for s in part) >= part_rows:
                if taking is not None:  # one part taken at a time: memory follows two parts
                    published += taking.result()
                taking = taker.submit(take, part)
                part = []
        if taking is not None:
            published += taking.result()
    log.info("recorded %d files, %d %s rows (%.1f s): %s", len(report.outcomes), report.rows,
             contract.main_sheet, time.monotonic() - started, report.counts)
    if published:
        _build_data_docs(published)
    if todo:
        try:
            analyse_loaded(conn, contract)
        except psycopg.Error as exc:  # what was recorded stands; the build's plans may suffer
            log.warning("statistics not refreshed after the batch: %s", where(exc))
    return report


def _take_part(conn: psycopg.Connection, root, subs: list[Submission], contract: Contract,
               run_id: str | None, report: BatchReport, progress: Progress) -> list:
    """Validate and record one part of a batch (each file its outcome in ``report``); the keys
    of its suites' results stored for Data Docs."""
    # Only structurally sound files go to the suites: a missing sheet leaves nothing to check.
    checkable = [s for s in subs if not s.rejected or s.tables]
    try:
        results = validate(checkable, contract) if checkable else []
    except Exception as exc:  # one file, whose suites failed to run: its own outcome
        (sub,) = checkable
        log.error("internal error validating %s: %s", printable(sub.path, one_line=True), where(exc))
        sub.add(problem("internal_error", detail=where(exc)))
        sub.submission_id = derived_id("internal_error", sub.path, sub.submission_id)
        results = []
    log.info("validated %d files (%.1f s)", len(subs), time.monotonic() - progress.started)
    keys = _store_validations(results, run_id, contract.name, subs, len(report.outcomes))

    def feedback(sub: Submission, status: str, rows: int) -> str:
        values = audit_values(contract, sub)
        return write_feedback(root, sub, status, rows, values.get("submitter_code"), values.get("period"))

    for sub in subs:
        content_id = sub.submission_id
        outcome = record(conn, sub, contract, run_id, feedback,
                         failure_id=lambda s=sub, c=content_id: derived_id("internal_error", s.path, c))
        report.outcomes.append(outcome)
        if outcome.status == "rejected":  # rules and counts only: a message may quote a value
            rules = Counter(outcome.error_rules)
            log.warning("rejected %s: %d error(s): %s", printable(sub.path, one_line=True), outcome.errors,
                        ", ".join(f"{rule} ×{n}" for rule, n in sorted(rules.items())))
        progress.update(len(report.outcomes), report.rows, force=sub is subs[-1])
    return keys


def _store_validations(results: list, run_id: str | None, contract: str, subs: list[Submission],
                       first: int) -> list:
    """The suites' results of one part into the Data Docs store (values removed), named by the
    part's periods and its files' places in the batch (``….2023.files-1-164``); their keys."""
    if not results:
        return []
    from poverty_pipeline.ingest import data_docs

    periods = "+".join(sorted({period_of(s.path) for s in subs})) or "batch"
    name = f"{contract}.{periods}.files-{first + 1}-{first + len(subs)}"
    try:
        return data_docs.store_submission_validations(results, run_id or "manual", name)
    except Exception as exc:  # the record in the warehouse matters more than the docs site
        log.warning("Data Docs not updated: %s", where(exc))
        return []


def _build_data_docs(keys: list) -> None:
    from poverty_pipeline.ingest import data_docs

    try:
        data_docs.build(keys)
    except Exception as exc:
        log.warning("Data Docs not updated: %s", where(exc))
