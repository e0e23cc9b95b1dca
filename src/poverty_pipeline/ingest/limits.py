"""What one landed file may cost to read and store: the bounds of ``reference/contracts/limits.yml``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    unpacked_bytes: int
    sheet_rows: int
    sheet_columns: int
    workbook_cells: int
    reader_memory_mib: int
    reader_seconds: float
    text_chars: int
    value_chars: int
    name_chars: int


@cache
def limits() -> Limits:
    text = resources.files("poverty_pipeline.reference").joinpath("contracts/limits.yml").read_text("utf-8")
    spec = yaml.safe_load(text)
    missing = {f.name for f in fields(Limits)} - set(spec)
    if missing:
        raise ValueError(f"contracts/limits.yml lacks {sorted(missing)}")
    return Limits(**{f.name: spec[f.name] for f in fields(Limits)})


LIMITS = limits()
