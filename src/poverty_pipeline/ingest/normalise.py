"""Normalise a read workbook to the contract: match sheets and headers (codes or Vietnamese
labels, ignoring case, diacritics and spaces), convert values to the contract's types, and
collect structural problems (missing sheet or column, a value of the wrong type).

The header of a table sheet is the row, among the first ``HEADER_SEARCH_ROWS``, that names the
most contract columns: title rows above it are skipped. Text is NFC; a cell longer than
``MAX_TEXT_CHARS``, a number beyond what the warehouse stores, a JSON list or object where one
value belongs are problems of their cell, never a crash.

The value rules are checked afterwards by the Great Expectations suite (validate.py) on the
frames built here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata

import pandas as pd

from poverty_pipeline.ingest.limits import LIMITS
from poverty_pipeline.ingest.problems import NOT_TEXT, problem
from poverty_pipeline.ingest.problems import name as name_of
from poverty_pipeline.ingest.read import Grid, Workbook
from poverty_pipeline.ingest.submission import Submission
from poverty_pipeline.reference.contract import Contract, Field, Sheet, header_index, header_key

EXCEL_EPOCH = dt.date(1899, 12, 30)
# Numbers are written in ASCII digits ([0-9], never \d: that also takes Arabic-Indic and
# full-width digits, which int() and float() would silently read).
THOUSANDS = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{3})+$")  # Vietnamese thousands separators: 1.500.000
# Vietnamese decimal comma (12,5; 1.500.000,5); a lone comma before three digits (1,500) is
# ambiguous and refused. Several comma groups (1,500,000) are thousands.
DECIMAL_COMMA = re.compile(r"^-?([0-9]{1,3}(\.[0-9]{3})+,[0-9]+|[0-9]+,([0-9]{1,2}|[0-9]{4,}))$")
COMMA_THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3}){2,}$")
INTEGER = re.compile(r"^[+-]?[0-9]+$")
NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
DATE_TEXT = re.compile(r"^[0-9/: T-]+$")
MAX_TEXT_CHARS = LIMITS.text_chars  # longer is a pasted blob, not a name, code or note
TEXT_TYPES = ("text", "code_list", "period")
MAX_INTEGER = 2**63 - 1  # the warehouse's bigint
HEADER_SEARCH_ROWS = 20


class ValueProblem(Exception):
    def __init__(self, rule: str):
        self.rule = rule


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def to_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # calamine reads the number 28249 as 28249.0
    return unicodedata.normalize("NFC", str(value)).strip()


def to_integer(value: object) -> int:
    number = _integer(value)
    if abs(number) > MAX_INTEGER:
        raise ValueProblem("number_too_large")
    return number


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueProblem("not_integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueProblem("not_integer")
    text = to_text(value).replace(" ", "")
    if THOUSANDS.match(text) or COMMA_THOUSANDS.match(text):
        text = text.replace(".", "").replace(",", "")
    if not INTEGER.match(text):
        raise ValueProblem("not_integer")
    return int(text)


def to_number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueProblem("not_number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = to_text(value).replace(" ", "")
        if THOUSANDS.match(text) and text.count(".") >= 2:
            text = text.replace(".", "")
        elif DECIMAL_COMMA.match(text):
            text = text.replace(".", "").replace(",", ".")
        elif COMMA_THOUSANDS.match(text):
            text = text.replace(",", "")
        if not NUMBER.match(text):
            raise ValueProblem("not_number")
        number = float(text)
    if not math.isfinite(number):
        raise ValueProblem("not_number")
    return number


def to_flag(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    try:
        number = to_number(value)
    except ValueProblem:
        raise ValueProblem("not_flag") from None
    if number not in (0, 1):
        raise ValueProblem("not_flag")
    return int(number)


def to_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = to_text(value)
    if not DATE_TEXT.match(text):
        raise ValueProblem("not_date")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueProblem("not_date")


def to_period(value: object) -> str:
    """A reporting period: ``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``. A date cell (Excel turns a
    typed ``2024-03`` into 1 March 2024) is read as its month; ``q`` is upper-cased. Whether
    the text is a valid period is the suite's rule, not a type error."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    return to_text(value).upper()


def to_code_list(value: object) -> str:
    codes = [c.strip().lower() for c in to_text(value).split(";")]
    return ";".join(c for c in codes if c)


CONVERTERS = {
    "text": to_text,
    "integer": to_integer,
    "number": to_number,
    "flag": to_flag,
    "date": to_date,
    "code_list": to_code_list,
    "period": to_period,
}

# Frame dtypes per contract type; nullable so a blank stays a blank.
DTYPES = {"integer": "Int64", "flag": "Int64", "number": "Float64"}


def canonical_values(values: list[str]) -> dict[str, str]:
    """Match key → canonical code, so 'Thành thị' or 'THANH_THI' become 'thanh_thi'."""
    return {header_key(v): v for v in values}


def convert_value(spec: Field, value: object, canon: dict[str, str] | None) -> tuple[object, str | None]:
    """(converted value, None) or (None, the rule the value breaks). Pure: no problem recorded."""
    if _is_blank(value):
        return None, None
    if isinstance(value, dict | list):  # JSON: one value expected
        scalars = isinstance(value, list) and not any(isinstance(v, dict | list) for v in value)
        if spec.type != "code_list" or not scalars:
            return None, "nested_value"
        value = ";".join(to_text(v) for v in value if not _is_blank(v))
    if isinstance(value, bool) and spec.type in ("text", "code_list", "period"):
        return None, "not_text"
    try:
        converted = CONVERTERS[spec.type](value)
    except ValueProblem as bad:
        return None, bad.rule
    if converted == "":
        return None, None
    if isinstance(converted, str) and NOT_TEXT.search(converted):
        return None, "control_character"  # PostgreSQL text holds no NUL; the rest is no text
    if isinstance(converted, str) and len(converted) > MAX_TEXT_CHARS:
        return None, "text_too_long"
    if canon and isinstance(converted, str):
        converted = canon.get(header_key(converted), converted)
    return converted, None


def convert(
    sub: Submission,
    spec: Field,
    value: object,
    *,
    sheet: str,
    row: int | None,
    canon: dict[str, str] | None,
) -> object:
    """Convert one cell; a value of the wrong type becomes a problem on ``sub`` and a blank."""
    converted, rule = convert_value(spec, value, canon)
    if rule:
        _bad_cell(sub, spec, value, rule, sheet, row)
    return converted


def convert_column(sub: Submission, spec: Field, cells: list, rows: list, *, sheet: str,
                   canon: dict[str, str] | None) -> list:
    """``convert`` of each of a column's ``cells`` (on spreadsheet ``rows``), in order: the same
    values and problems, without a call per cell (a sheet of 50,000 households has nearly two
    million cells). Each distinct value (of each type: 1 and 1.0 are not the same cell) is
    converted once, and the column is then mapped through those conversions."""
    keys = list(zip(map(type, cells), cells, strict=True))
    try:
        memo = dict.fromkeys(keys)
    except TypeError:  # an unhashable cell (a JSON list or object): cell by cell
        return [convert(sub, spec, value, sheet=sheet, row=row, canon=canon)
                for value, row in zip(cells, rows, strict=True)]
    for key in memo:
        memo[key] = convert_value(spec, key[1], canon)
    if any(rule for _, rule in memo.values()):
        for key, row in zip(keys, rows, strict=True):
            if rule := memo[key][1]:
                _bad_cell(sub, spec, key[1], rule, sheet, row)
    converted = {key: value for key, (value, _) in memo.items()}
    return list(map(converted.__getitem__, keys))


def _bad_cell(sub: Submission, spec: Field, value: object, rule: str, sheet: str, row: int | None) -> None:
    sub.add(problem(rule, sheet=sheet, row_number=row, column=spec.code, value=value))
    sub.bad_cells.add((sheet, row, spec.code))


def _code(index: dict[str, str], cell: object, originals: dict[str, str]) -> str | None:
    """The field a header cell names; for text converted from a legacy encoding, also what the
    cell said before (a Unicode header beside legacy data)."""
    code = index.get(header_key(cell))
    if code is None and isinstance(cell, str) and cell in originals:
        code = index.get(header_key(originals[cell]))
    return code


def find_sheet(workbook: Workbook, name: str) -> Grid | None:
    index = {header_key(name): name}
    originals = getattr(workbook, "originals", {})
    return next((grid for key, grid in workbook.items() if _code(index, key, originals)), None)


def normalise(
    sub: Submission,
    workbook: Workbook,
    contract: Contract,
    value_sets: dict[tuple[str, str], list[str]],
) -> Submission:
    """Fill ``sub`` with the contract-shaped info and tables of ``workbook``."""
    for found in getattr(workbook, "problems", ()):
        sub.add(found)
    known = {header_key(name): name for name in (*contract.sheets, *contract.instruction_sheets)}
    for name, grid in workbook.items():
        if not _code(known, name, grid.originals) and any(not _is_blank(c) for row in grid.rows for c in row):
            sub.add(problem("unknown_sheet", sheet=str(name), value=name))
    for sheet in contract.sheets.values():
        grid = find_sheet(workbook, sheet.name)
        if grid is None:
            sub.add(problem("missing_sheet", sheet=sheet.name))
            continue
        if grid.hidden:
            sub.add(problem("hidden_sheet", sheet=sheet.name))
        expected = "object" if sheet.layout == "key_value" else "list"
        if grid.shape not in ("table", expected):
            sub.add(problem(f"json_{expected}_expected", sheet=sheet.name))
            continue
        if sheet.layout == "key_value":
            _normalise_key_value(sub, sheet, grid, value_sets)
        else:
            _normalise_table(sub, sheet, grid, value_sets)
    return sub


def _normalise_key_value(sub: Submission, sheet: Sheet, grid: Grid, value_sets) -> None:
    index = header_index(sheet)
    header_keys = {header_key(sheet.key_header.get(k, "")): "header" for k in ("code", "label")}
    for i, row in enumerate(grid.rows):
        if not row or _is_blank(row[0]):
            continue
        if i == 0 and _code(header_keys, row[0], grid.originals):
            continue  # the truong / gia_tri header
        code = _code(index, row[0], grid.originals)
        row_number = grid.row_number(i)
        if code is None:
            sub.add(problem("unknown_field", sheet=sheet.name, row_number=row_number, value=row[0]))
            continue
        if code in sub.info_rows:
            sub.add(problem("duplicate_field", sheet=sheet.name, row_number=row_number, column=code,
                            value=row[1] if len(row) > 1 else None))
            sub.bad_cells.add((sheet.name, row_number, code))
            continue
        value = row[1] if len(row) > 1 else None
        sub.info_rows[code] = row_number
        sub.info[code] = convert(
            sub, sheet.field(code), value, sheet=sheet.name, row=row_number,
            canon=_canon(value_sets, sheet.name, code),
        )
    if not sub.info_rows:
        sub.add(problem("empty_sheet", sheet=sheet.name))


def _canon(value_sets, sheet: str, code: str) -> dict[str, str] | None:
    values = value_sets.get((sheet, code))
    return canonical_values(values) if values else None


def _header_at(grid: Grid, index: dict[str, str]) -> int:
    """The row (within the first HEADER_SEARCH_ROWS) naming the most contract columns; 0 when
    none names any."""
    best, best_count = 0, 0
    for i, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        count = len({_code(index, c, grid.originals) for c in row if not _is_blank(c)} - {None})
        if count > best_count:
            best, best_count = i, count
    return best


def _normalise_table(sub: Submission, sheet: Sheet, grid: Grid, value_sets) -> None:
    index = header_index(sheet)
    top = _header_at(grid, index) if grid.shape == "table" else 0  # JSON: keys are the header
    body = [(i, row) for i, row in enumerate(grid.rows[top + 1:], start=top + 1)
            if any(not _is_blank(c) for c in row)]
    if not body:
        sub.add(problem("empty_sheet", sheet=sheet.name))
        return
    header_row = grid.row_number(top) or None  # JSON has no header row to point at
    positions: dict[str, int] = {}
    extras: dict[int, str] = {}
    for col, cell in enumerate(grid.rows[top]):
        if _is_blank(cell):
            continue
        code = _code(index, cell, grid.originals)
        if code is None:
            extras[col] = _extra_name(to_text(cell), extras.values())
            sub.add(problem("unknown_column", sheet=sheet.name, row_number=header_row,
                            column=to_text(cell), value=to_text(cell)))
        elif code in positions:
            sub.add(problem("duplicate_column", sheet=sheet.name, column=code, row_number=header_row))
        else:
            positions[code] = col
    for f in sheet.fields:
        if f.required and f.code not in positions:
            sub.add(problem("missing_column", sheet=sheet.name, column=f.code))

    row_numbers = [grid.row_number(i) for i, _ in body]
    by_column = _transposed([row for _, row in body])
    columns: dict[str, list] = {"_row_number": row_numbers}
    for f in sheet.fields:
        col = positions.get(f.code)
        cells = list(by_column[col]) if col is not None and col < len(by_column) else [None] * len(body)
        values = convert_column(sub, f, cells, row_numbers, sheet=sheet.name,
                                canon=_canon(value_sets, sheet.name, f.code))
        columns[f.code] = pd.array(values, dtype=DTYPES[f.type]) if f.type in DTYPES else values
    columns["extra_columns"] = [
        {name: _extra_value(sub, sheet.name, n, name, row[col]) for col, name in extras.items()
         if col < len(row)} or None
        for (_, row), n in zip(body, row_numbers, strict=True)
    ] if extras else [None] * len(body)

    sub.tables[sheet.name] = pd.DataFrame(columns)


def _transposed(rows: list[list]) -> list[tuple]:
    """The cells of ``rows`` column by column, a short row's missing cells as None."""
    width = max(map(len, rows), default=0)
    if any(len(row) < width for row in rows):
        rows = [row + [None] * (width - len(row)) for row in rows]
    return list(zip(*rows, strict=True))


def _extra_name(text: str, taken) -> str:
    """An unknown column's name as its key in ``extra_columns``: bounded, and still distinct
    from the other extra columns' keys when shortened."""
    key = name_of(text) or ""
    if key != text or key in taken:
        key = f"{key}#{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return key


def _extra_value(sub: Submission, sheet: str, row: int, column: str, value: object) -> object:
    """An unknown column's cell as stored in ``extra_columns`` (jsonb); text that is no text
    (NUL, control characters) is a problem of its cell, as in a contract column."""
    value = _jsonable(value)
    if isinstance(value, str) and NOT_TEXT.search(value):
        sub.add(problem("control_character", sheet=sheet, row_number=row, column=column, value=value))
        return None
    return value


def _jsonable(value: object) -> object:
    if _is_blank(value):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
