"""Problems found in a submission, as values: each names the sheet, row, column, value and
rule, with its message in Vietnamese and English."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from poverty_pipeline.ingest.limits import LIMITS

MAX_VALUE_CHARS = LIMITS.value_chars  # a problem quotes the value, not a 10,000-character cell
MAX_NAME_CHARS = LIMITS.name_chars  # a sheet or column name, not a 1 MB header cell
# What PostgreSQL text cannot hold (NUL, lone surrogates) or a reader should not get raw
# (control characters); tab, line feed and carriage return are text.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" rejects the submission, "warning" does not
    rule: str
    message_vi: str
    message_en: str
    sheet: str | None = None
    row_number: int | None = None
    column_name: str | None = None
    value: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("poverty_pipeline.reference").joinpath("contracts/rules.yml").read_text("utf-8")
    return yaml.safe_load(text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, one_line: bool = False) -> str:
    """``text`` with control characters and lone surrogates written as escapes (``\\x00``):
    storable in PostgreSQL, and (``one_line``) a single line for a log."""
    return (NOT_ONE_LINE if one_line else NOT_TEXT).sub(_escape, text)


def _shorten(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars] + "…"


def quote(value: object) -> str | None:
    """A value as a problem row quotes it: printable, at most ``MAX_VALUE_CHARS``."""
    if value is None:
        return None
    return _shorten(printable(str(value)), MAX_VALUE_CHARS)


def name(value: object) -> str | None:
    """A sheet, column or field name as it is stored or echoed: printable, at most
    ``MAX_NAME_CHARS``."""
    if value is None:
        return None
    return _shorten(printable(str(value)), MAX_NAME_CHARS)


def problem(
    rule: str,
    *,
    sheet: str | None = None,
    row_number: int | None = None,
    column: str | None = None,
    value: object = None,
    detail: str = "",
    contract: str | None = None,
) -> Problem:
    """A problem of a rule from ``reference/contracts/rules.yml``, its messages filled in (the
    contract's own wording when the rule has one under ``by_contract``)."""
    entry = _catalogue()[rule]
    entry = {**entry, **(entry.get("by_contract") or {}).get(contract, {})}
    sheet, column = name(sheet), name(column)
    fields = {"sheet": sheet or "", "column": column or "", "value": quote(value) or "",
              "detail": quote(detail) or ""}
    return Problem(
        severity=entry["severity"],
        rule=rule,
        message_vi=entry["vi"].format(**fields),
        message_en=entry["en"].format(**fields),
        sheet=sheet,
        row_number=row_number,
        column_name=column,
        value=quote(value),
    )


def sanitised(p: Problem) -> Problem:
    """``p`` with every text printable and bounded (for a problem made elsewhere)."""
    from dataclasses import replace

    return replace(p, sheet=name(p.sheet), column_name=name(p.column_name), value=quote(p.value),
                   message_vi=printable(p.message_vi), message_en=printable(p.message_en))
