"""Problems found in a submission, as values: each names the sheet, row, column, value and
rule, with its message in Vietnamese and English."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

MAX_VALUE_CHARS = 500  # a problem quotes the value, not a 10,000-character cell


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
    text = resources.files("poverty_pipeline").joinpath("contracts/rules.yml").read_text("utf-8")
    return yaml.safe_load(text)


def quote(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


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
    """A problem of a rule from ``contracts/rules.yml``, its messages filled in (the
    contract's own wording when the rule has one under ``by_contract``)."""
    entry = _catalogue()[rule]
    entry = {**entry, **(entry.get("by_contract") or {}).get(contract, {})}
    fields = {"sheet": sheet or "", "column": column or "", "value": quote(value) or "", "detail": detail}
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
