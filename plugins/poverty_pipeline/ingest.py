"""Ingest a batch of landed files: read → normalise → validate → record, one outcome per file.

A file that cannot be read, or breaks a rule, is rejected on its own; the other files of the
batch still load. Only a failure of the warehouse itself stops the batch (the task then fails
and Airflow retries it; files not yet recorded are picked up again).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg

from poverty_pipeline.contract import Contract, load_contract
from poverty_pipeline.discover import LandedFile, content_hash, landing_root
from poverty_pipeline.load import Outcome, already_recorded, record
from poverty_pipeline.normalise import Submission, normalise
from poverty_pipeline.problems import problem
from poverty_pipeline.read import ReadError, read_workbook
from poverty_pipeline.validate import validate_batch, value_sets

log = logging.getLogger(__name__)


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
    subs: list[Submission] = []
    for i, landed in enumerate(f for f in files if f.submission_id not in done):
        data = (root / landed.path).read_bytes()
        if content_hash(data) != landed.submission_id:
            landed = LandedFile(landed.path, content_hash(data), len(data))  # replaced since discovery
        subs.append(prepare(landed, data, contract, sets))
        if (i + 1) % 50 == 0:
            log.info("read %d of %d files (%.1f s)", i + 1, len(files), time.monotonic() - started)

    # Only structurally sound files go to the suites: a missing sheet leaves nothing to check.
    checkable = [s for s in subs if not s.rejected or s.tables]
    columns = {name: sheet.codes for name, sheet in contract.sheets.items()}
    validate_batch(checkable, contract.name, columns)
    log.info("validated %d files (%.1f s)", len(subs), time.monotonic() - started)

    report = BatchReport()
    for sub in subs:
        outcome = record(conn, sub, contract, run_id)
        report.outcomes.append(outcome)
        if outcome.status == "rejected":
            first = next(p for p in sub.problems if p.is_error)
            log.warning("rejected %s: %d problem(s), first: %s", sub.path, outcome.errors, first.message_en)
    log.info("recorded %d files, %d %s rows (%.1f s): %s", len(subs), report.rows,
             contract.main_sheet, time.monotonic() - started, report.counts)
    return report
