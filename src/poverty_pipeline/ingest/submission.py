"""A landed file as the stages after reading see it: its identity, where it lay, its key-value
fields and tables in the contract's types, and the problems found so far. Built by
``normalise``, checked by ``validate``, written by ``load``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from poverty_pipeline.ingest.problems import Problem


@dataclass
class Submission:
    """One landed file, normalised: what validation checks and what the loader writes."""

    submission_id: str
    path: str
    path_period: str | None
    path_submitter: str | None = None  # the submitter folder the file lies in, if any
    info: dict[str, object] = field(default_factory=dict)
    info_rows: dict[str, int] = field(default_factory=dict)  # field → its row in thong_tin
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    bad_cells: set[tuple[str, int | None, str]] = field(default_factory=set)

    @property
    def row_count(self) -> int:
        """Rows of its sheets, as read."""
        return sum(len(table) for table in self.tables.values())

    @property
    def rejected(self) -> bool:
        return any(p.is_error for p in self.problems)

    def add(self, found: Problem) -> None:
        self.problems.append(found)
