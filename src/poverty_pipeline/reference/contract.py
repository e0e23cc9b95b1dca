"""The submission contracts as data: sheets, fields, types and header labels.

Loaded from ``contracts/*.yml``; the parser, the loader's raw tables and the sample generator
all read the same definition, so a new column is one line in the YAML. What differs between
contracts beyond the sheets — the landing folder and its period, the raw tables, how the
``audit.submissions`` row is filled, what supersedes what, the helper columns the suites
compare against — is data in the same file, so a new kind of submission is a new YAML file
plus its Great Expectations suites.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import yaml

CONTRACTS = ("commune_household_review", "agency_task_report")

SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "numeric",
    "flag": "smallint",
    "date": "date",
    "code_list": "text",
    "period": "text",
}

# audit.submissions columns a contract's ``record`` may fill.
RECORD_COLUMNS = ("submitter_code", "period", "review_year", "review_type", "review_month", "reported_on")
# Where the file lies, as ValueSpec names it: the period folder's period, and the submitter's
# own folder under it (communes/<year>/<ma_xa>/…) when the file is in one.
PATH_VALUES = ("path_period", "path_submitter")


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
class ValueSpec:
    """How one derived value (an audit column, a helper column) is computed from a submission.

    ``field``: a field of the key-value sheet, ``path_period`` — the period of the folder the
    file lies in — or ``path_submitter`` — the submitter folder it lies in, if any;
    ``formats``: the first template whose placeholders are all present (not blank, not 0)
    among the key-value fields and the values computed before it; ``when``: the value exists
    only when those fields have those values; ``fallback``: a field (or a path value) used when
    the value is blank; ``compute``: ``module:function`` called with
    the key-value fields and the folder's period, for values that need reference data (the
    status of a commune code on the review date); ``rows``: ``module:function`` called with
    the values of ``field`` in each row of a table sheet, the key-value fields and the folder's
    period, giving one value per row (a household code's prefix checked against the commune's
    predecessors).
    """

    field: str | None = None
    compute: str | None = None
    formats: tuple[str, ...] = ()
    when: tuple[tuple[str, object], ...] = ()
    fallback: str | None = None
    rows: str | None = None
    type: str = "text"

    @classmethod
    def parse(cls, spec: Mapping) -> ValueSpec:
        formats = spec.get("format", ())
        return cls(
            field=spec.get("field"),
            compute=spec.get("compute"),
            formats=(formats,) if isinstance(formats, str) else tuple(formats),
            when=tuple((spec.get("when") or {}).items()),
            fallback=spec.get("fallback"),
            rows=spec.get("rows"),
            type=spec.get("type", "text"),
        )

    def evaluate(self, info: Mapping[str, object], computed: Mapping[str, object],
                 path_period: str | None, path_submitter: str | None = None) -> object:
        paths = {"path_period": path_period, "path_submitter": path_submitter}

        def lookup(name: str) -> object:
            return paths[name] if name in paths else info.get(name)

        value: object = None
        if self.compute:
            return _function(self.compute)(info, path_period)
        if all(info.get(k) == v for k, v in self.when):
            if self.field:
                value = lookup(self.field)
            names = {**info, **computed}
            for template in self.formats:
                placeholders = [m.group(1) for m in re.finditer(r"{(\w+)[^}]*}", template)]
                if all(names.get(p) for p in placeholders):
                    value = template.format(**names)
                    break
        if not value and self.fallback:
            value = lookup(self.fallback)
        return value

    def evaluate_rows(self, values: list, info: Mapping[str, object], path_period: str | None) -> list:
        """One value per row of a table sheet (``rows``), from that row's ``field``."""
        return list(_function(self.rows)(values, info, path_period))


def _function(reference: str):
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Contract:
    name: str
    version: int
    landing_folder: str
    period_pattern: re.Pattern
    sheets: dict[str, Sheet]
    raw_tables: dict[str, str] = field(default_factory=dict)  # sheet → table in schema raw
    main_sheet: str | None = None  # the sheet whose rows audit.submissions.row_count counts
    record: dict[str, ValueSpec] = field(default_factory=dict)  # audit.submissions column → spec
    contact: dict[str, str] = field(default_factory=dict)  # name/phone → key-value field
    supersede_on: tuple[str, ...] = ()  # audit columns that identify "the same submission"
    validation_columns: dict[str, dict[str, ValueSpec]] = field(default_factory=dict)
    suite_parameters: tuple[str, ...] = ()
    instruction_sheets: tuple[str, ...] = ()  # the template's own sheets, never read
    # a sub-folder of the period folder whose name matches is the submitter's own folder
    submitter_folder: re.Pattern | None = None
    own_period: str | None = None  # the key-value field naming the period the file is for

    @property
    def info_sheet(self) -> Sheet:
        """The key-value sheet (thong_tin): what the submission is about."""
        return next(s for s in self.sheets.values() if s.layout == "key_value")

    def record_values(self, info: Mapping[str, object], path_period: str | None,
                      path_submitter: str | None = None) -> dict[str, object]:
        """The audit.submissions columns this contract fills, from the file's key-value sheet
        and where it lies."""
        values: dict[str, object] = {}
        for column, spec in self.record.items():
            values[column] = spec.evaluate(info, values, path_period, path_submitter)
        return values

    def period_of_folder(self, folder: str) -> str | None:
        """The period a period folder's name gives (``2023-q3`` → ``2023-Q3``), or None."""
        match = self.period_pattern.fullmatch(folder)
        return match.group("period").upper() if match else None


def header_key(text: object) -> str:
    """Matching key of a header cell: case, diacritics, spaces and line breaks ignored.

    ``đ`` has no decomposition in Unicode, so it is folded by hand. The header search keys the
    first rows of every sheet, whose cells repeat (headers, flags, area codes): each distinct
    cell is keyed once per process.
    """
    try:
        return _cached_header_key(text)
    except TypeError:  # an unhashable cell (a JSON list or object)
        return _header_key(text)


def _header_key(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return _SPACES.sub("", s).casefold()


_SPACES = re.compile(r"[\s_]+")
_cached_header_key = lru_cache(maxsize=1 << 16, typed=True)(_header_key)


@cache
def load_contract(name: str = "commune_household_review") -> Contract:
    text = resources.files("poverty_pipeline.reference").joinpath(f"contracts/{name}.yml").read_text("utf-8")
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
    record = {column: ValueSpec.parse(v) for column, v in (spec.get("record") or {}).items()}
    unknown = set(record) - set(RECORD_COLUMNS)
    if unknown:
        raise ValueError(f"contract {name}: record columns {sorted(unknown)} are not audit columns")
    return Contract(
        name=spec["contract"],
        version=spec["version"],
        landing_folder=spec["landing_folder"],
        period_pattern=re.compile(spec["period_pattern"], re.ASCII),
        sheets=sheets,
        raw_tables=dict(spec.get("raw_tables") or {}),
        main_sheet=spec.get("main_sheet"),
        record=record,
        contact=dict(spec.get("contact") or {}),
        supersede_on=tuple(spec.get("supersede_on") or ()),
        validation_columns={
            sheet: {column: ValueSpec.parse(v) for column, v in columns.items()}
            for sheet, columns in (spec.get("validation_columns") or {}).items()
        },
        suite_parameters=tuple(spec.get("suite_parameters") or ()),
        instruction_sheets=tuple(spec.get("instruction_sheets") or ()),
        submitter_folder=(re.compile(spec["submitter_folder_pattern"], re.ASCII)
                          if spec.get("submitter_folder_pattern") else None),
        own_period=spec.get("own_period"),
    )


def all_contracts() -> list[Contract]:
    return [load_contract(name) for name in CONTRACTS]


def header_index(sheet: Sheet) -> dict[str, str]:
    """Header matching key → field code, for both the code and the Vietnamese label."""
    index: dict[str, str] = {}
    for f in sheet.fields:
        index[header_key(f.code)] = f.code
        index[header_key(f.label)] = f.code
    return index


def report_period_year(info: Mapping[str, object], path_period: str | None) -> int | None:
    """The year of an agency report's period (``ky_bao_cao``, else its folder's), for the
    suites' bound on future periods."""
    for period in (info.get("ky_bao_cao"), path_period):
        if isinstance(period, str) and re.match(r"[0-9]{4}", period):
            return int(period[:4])
    return None
