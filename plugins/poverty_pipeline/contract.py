"""The submission contracts as data: sheets, fields, types and header labels.

Loaded from ``contracts/*.yml``; the parser, the loader's raw tables and the sample generator
all read the same definition, so a new column is one line in the YAML.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "numeric",
    "flag": "smallint",
    "date": "date",
    "code_list": "text",
}


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    type: str
    required: bool = False
    pii: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Sheet:
    name: str
    layout: str  # "table" or "key_value"
    fields: tuple[Field, ...]
    key_header: dict = field(default_factory=dict)
    value_header: dict = field(default_factory=dict)

    def field(self, code: str) -> Field:
        return next(f for f in self.fields if f.code == code)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]


@dataclass(frozen=True)
class Contract:
    name: str
    version: int
    landing_folder: str
    period_pattern: re.Pattern
    sheets: dict[str, Sheet]


def header_key(text: object) -> str:
    """Matching key of a header cell: case, diacritics, spaces and line breaks ignored.

    ``đ`` has no decomposition in Unicode, so it is folded by hand.
    """
    s = unicodedata.normalize("NFKD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[\s_]+", "", s).casefold()


@cache
def load_contract(name: str = "commune_household_review") -> Contract:
    text = resources.files("poverty_pipeline").joinpath(f"contracts/{name}.yml").read_text("utf-8")
    spec = yaml.safe_load(text)
    sheets = {
        sheet_name: Sheet(
            name=sheet_name,
            layout=sheet["layout"],
            fields=tuple(Field(**f) for f in sheet["fields"]),
            key_header=sheet.get("key_header", {}),
            value_header=sheet.get("value_header", {}),
        )
        for sheet_name, sheet in spec["sheets"].items()
    }
    return Contract(
        name=spec["contract"],
        version=spec["version"],
        landing_folder=spec["landing_folder"],
        period_pattern=re.compile(spec["period_pattern"]),
        sheets=sheets,
    )


def header_index(sheet: Sheet) -> dict[str, str]:
    """Header matching key → field code, for both the code and the Vietnamese label."""
    index: dict[str, str] = {}
    for f in sheet.fields:
        index[header_key(f.code)] = f.code
        index[header_key(f.label)] = f.code
    return index
