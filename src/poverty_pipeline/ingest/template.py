"""The commune's review template: one workbook per commune and review year, generated from the
contract and its Great Expectations suites, pre-filled from the warehouse.

- Sheets, headers and order come from the contract
  (``reference/contracts/commune_household_review.yml``): headers are the Vietnamese labels,
  which the ingest matches as it matches codes.
- What a cell may hold comes from the suites (``expectations/suites/``, read through
  ``poverty_pipeline.ingest.validate``): drop-down lists for every coded column (the suites'
  value sets, shown as their Vietnamese words when those load as the codes:
  ``reference/contracts/value_labels.yml``), whole-number, decimal, date and length checks with
  the suites' ranges, and an input hint on every cell saying what to type (Vietnamese with
  English).
- Header rows are protected (no password: a guard against slips, not a lock), the data area is
  editable (rows can be inserted and deleted), the header row and first column are frozen.
- Pre-filled: the ``thong_tin`` fields known in advance (province, commune, year, review type,
  the poverty standard of that year from the dbt seed) and the commune's households from its
  last accepted periodic review in the warehouse (``raw`` tables) — after a merger, from the
  last reviews of every unit merged into it, each household keeping its former commune's code
  (``28252-HO00007``), as the merged commune lists them.

The template holds personal data of one commune's households: it is written where only
operators read (``<landing>/_templates/<year>/<commune>.xlsx``, which discovery skips, or a
folder given), and says so on its instructions sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources

import yaml

from poverty_pipeline.config import DBT_PROJECT_DIR
from poverty_pipeline.ingest.cell_safety import neutralise
from poverty_pipeline.ingest.validate import suite_definition
from poverty_pipeline.reference import admin_units
from poverty_pipeline.reference.contract import Contract, Field, Sheet, header_key, load_contract

CONTRACT = "commune_household_review"
TEMPLATES_FOLDER = "_templates"  # under the landing; "_" keeps it out of discovery
PERIODIC = "dinh_ky"
LAST_ROW = 1_048_575  # the sheet's last row (0-based): checks cover every row a person adds
INPUT_TITLE_MAX, INPUT_MESSAGE_MAX, LIST_SOURCE_MAX = 32, 255, 255  # Excel's limits
PREFIXED = re.compile(r"^\d{5}-.")  # a household listed under its former commune's code
# A code-list rule of the suites: ^(?:a|b)(?:;(?:a|b))*$ → its codes.
CODE_LIST = re.compile(r"^\^\(\?:([\w|]+)\)\(\?:;")
FIXED_LENGTH_DIGITS = re.compile(r"^\^(?:\\d|\[0-9\])\{(\d+)\}\$$")


# ------------------------------------------------------------------ what the suites allow


@dataclass
class ColumnRule:
    """What the contract and the suites say about one column, for the template's checks."""

    field: Field
    values: list | None = None  # the suite's value set (codes or numbers)
    codes: list[str] | None = None  # a code list's codes (several per cell, joined by ';')
    minimum: float | None = None
    maximum: float | None = None
    digits: int | None = None  # text of exactly this many digits (citizen ID)
    not_future: bool = False  # a date not after today
    required: bool = False
    unique: bool = False  # no two rows of a file with the same value (a household code)
    words: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (vi, en)

    @property
    def shows_words(self) -> bool:
        """Whether the list offers the Vietnamese words: only when each folds to its code,
        so the ingest loads the word as the code (``normalise.canonical_values``)."""
        return bool(self.values and self.words) and all(
            isinstance(code, str) and code in self.words
            and header_key(self.words[code][0]) == header_key(code) for code in self.values)

    def shown(self, value: object) -> object:
        """``value`` as the template shows it (its word when the list offers words)."""
        if self.shows_words and isinstance(value, str) and value in self.words:
            return self.words[value][0]
        return value

    @property
    def choices(self) -> list[str]:
        """The drop-down list: words or codes (numbers as text, as Excel lists them)."""
        if self.codes:
            return list(self.codes)
        if self.values is None:
            return []
        return [self.shown(v) if isinstance(v, str) else _number_text(v) for v in self.values]


def _number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@cache
def value_words(contract: str = CONTRACT) -> dict[str, dict[str, tuple[str, str]]]:
    """column → code → (Vietnamese, English), from ``reference/contracts/value_labels.yml`` (and the
    seeds it points at)."""
    text = (resources.files("poverty_pipeline.reference").joinpath("contracts/value_labels.yml")
            .read_text("utf-8"))
    spec = (yaml.safe_load(text) or {}).get(contract) or {}
    words: dict[str, dict[str, tuple[str, str]]] = {}
    for column, entry in spec.items():
        if "seed" in entry:
            rows = _seed(entry["seed"])
            where = entry.get("where") or {}
            words[column] = {r[entry["code"]]: (r[entry["vi"]], r[entry["en"]]) for r in rows
                             if all(r.get(k) == str(v) for k, v in where.items())}
        else:
            words[column] = {str(code): (vi, en) for code, (vi, en) in entry.items()}
    return words


@cache
def _seed(name: str) -> tuple[dict[str, str], ...]:
    with (DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def review_year_columns(contract: Contract, sheet: str) -> set[str]:
    """The suite's helper columns that stand for the review year (``_review_year``,
    ``_path_year``): known in advance in a template for that year."""
    return {column for column, spec in contract.validation_columns.get(sheet, {}).items()
            if spec.field == "nam_ra_soat" or spec.fallback == "path_period"}


def column_rules(sheet: Sheet, year: int, contract: Contract | None = None) -> dict[str, ColumnRule]:
    """Each field of ``sheet`` with what its suite allows, for review year ``year``."""
    contract = contract or load_contract(CONTRACT)
    words = value_words(contract.name)
    rules = {f.code: ColumnRule(field=f, required=f.required, words=words.get(f.code, {}))
             for f in sheet.fields}
    years = review_year_columns(contract, sheet.name)
    for exp in suite_definition(contract.name, sheet.name)["expectations"]:
        kind, kwargs = exp["type"], exp["kwargs"]
        rule = rules.get(kwargs.get("column"))
        if kind == "expect_column_values_to_be_in_set" and rule and isinstance(kwargs.get("value_set"), list):
            rule.values = list(kwargs["value_set"])
        elif kind == "expect_column_values_to_be_between" and rule:
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            if isinstance(high, dict) and high.get("$PARAMETER") == "today":
                rule.not_future, high = True, None
            rule.minimum = low if isinstance(low, int | float) else rule.minimum
            rule.maximum = high if isinstance(high, int | float) else rule.maximum
        elif kind == "expect_column_values_to_match_regex" and rule:
            if found := CODE_LIST.match(kwargs["regex"]):
                rule.codes = found.group(1).split("|")
            elif found := FIXED_LENGTH_DIGITS.match(kwargs["regex"]):
                rule.digits = int(found.group(1))
        elif kind == "expect_column_pair_values_a_to_be_greater_than_b" and kwargs["column_A"] in years:
            # a value not after the review year (a birth year): at most the template's year
            if other := rules.get(kwargs["column_B"]):
                other.maximum = min(year, other.maximum) if other.maximum is not None else year
        elif kind == "expect_column_values_to_not_be_null" and rule and not kwargs.get("row_condition"):
            rule.required = True
        elif kind == "expect_compound_columns_to_be_unique":
            keys = [c for c in kwargs["column_list"] if c in rules]
            if len(keys) == 1:  # unique within the file (the other key is the submission)
                rules[keys[0]].unique = True
    return rules


# ------------------------------------------------------------------ what is known in advance


def standard_of(year: int) -> str | None:
    """The poverty standard a review of ``year`` applies (``ref_poverty_standards``: its
    first to last review year); the confirmed one when two overlap."""
    rows = [r for r in _seed("reference/ref_poverty_standards")
            if int(r["first_review_year"]) <= year <= int(r["last_review_year"])]
    rows.sort(key=lambda r: (r["is_confirmed"] != "true", -int(r["first_review_year"])))
    return rows[0]["standard_code"] if rows else None


def unit_of(code: str, year: int) -> admin_units.Unit | None:
    """The unit ``code`` names on the review date of ``year`` (31 December)."""
    day = admin_units.review_date(year)
    return next((u for u in admin_units.units_on(day) if u.code == code), None)


def units_of(year: int) -> list[admin_units.Unit]:
    """Every commune-level unit on the review date of ``year``, by code."""
    return sorted(admin_units.units_on(admin_units.review_date(year)), key=lambda u: u.code)


def territory(code: str, year: int) -> list[str]:
    """``code`` and every unit merged into it (directly or through another) by the review
    date of ``year``: whose last reviews hold the households the unit lists now."""
    day = admin_units.review_date(year)
    codes = [code]
    for current in codes:
        codes += [s.predecessor for s in admin_units.successions()
                  if s.successor == current and s.effective <= day and s.predecessor not in codes]
    return codes


@dataclass
class Previous:
    """The last accepted periodic review(s) of a unit's territory."""

    year: int | None = None
    submissions: dict[str, str] = field(default_factory=dict)  # commune code → submission id
    households: list[dict] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)  # khu_vuc codes of their area totals


def previous_review(conn, code: str, year: int, contract: Contract | None = None) -> Previous:
    """The households of the last review year before ``year`` in which the unit or a unit
    merged into it had an accepted periodic review, from every such review of that year
    (the unit's own first); a household of a merged unit keeps its former commune's code as a
    prefix. Nothing when the warehouse holds no such review (or no tables yet)."""
    contract = contract or load_contract(CONTRACT)
    codes = territory(code, year)
    exists = conn.execute("select to_regclass('audit.submissions') is not null").fetchone()[0]
    if not exists:
        return Previous()
    rows = conn.execute(
        """
        select submitter_code, review_year, submission_id
          from audit.submissions
         where contract = %s and status in ('accepted', 'accepted_with_warnings')
           and review_type = %s and review_year < %s and submitter_code = any(%s)
         order by review_year desc, received_at desc
        """,
        (contract.name, PERIODIC, year, codes),
    ).fetchall()
    if not rows:
        return Previous()
    last_year = rows[0][1]
    chosen: dict[str, str] = {}
    for submitter, review_year, submission_id in rows:
        if review_year == last_year:
            chosen.setdefault(submitter, submission_id)
    order = sorted(chosen, key=lambda c: (c != code, codes.index(c)))
    sheet = contract.sheets["danh_sach_ho"]
    households_table = contract.raw_tables["danh_sach_ho"]
    areas_table = contract.raw_tables["tong_hop"]
    columns = ", ".join(sheet.codes)
    households, seen = [], set()
    for submitter in order:
        for row in conn.execute(
                f"select {columns} from raw.{households_table} where submission_id = %s "
                "order by row_number", (chosen[submitter],)):
            household = dict(zip(sheet.codes, row, strict=True))
            key = str(household["ma_ho"])
            if submitter != code and not PREFIXED.match(key):
                key = f"{submitter}-{key}"
            if key in seen:
                continue
            seen.add(key)
            households.append({**household, "ma_ho": key})
    areas = [a for (a,) in conn.execute(
        f"select distinct khu_vuc from raw.{areas_table} where submission_id = any(%s) "
        "and khu_vuc is not null order by khu_vuc desc", (list(chosen.values()),))]
    return Previous(last_year, {c: chosen[c] for c in order}, households, areas)


# ------------------------------------------------------------------ the workbook


HINT = {
    "text": ("Chữ", "text"),
    "integer": ("Số nguyên", "whole number"),
    "number": ("Số", "number"),
    "flag": ("1 = có, 0 hoặc để trống = không", "1 = yes, 0 or blank = no"),
    "date": ("Ngày (ngày/tháng/năm)", "date (day/month/year)"),
    "code_list": ("Một hoặc nhiều mã, cách nhau bởi dấu ;", "one or more codes separated by ;"),
}


def _range_text(rule: ColumnRule) -> tuple[str, str]:
    low, high = rule.minimum, rule.maximum
    if low is not None and high is not None:
        return f"từ {_vn(low)} đến {_vn(high)}", f"{_vn(low)} to {_vn(high)}"
    if low is not None:
        return f"từ {_vn(low)} trở lên", f"at least {_vn(low)}"
    if high is not None:
        return f"tối đa {_vn(high)}", f"at most {_vn(high)}"
    return "", ""


def _vn(number: float) -> str:
    """1000000 → 1.000.000 (Vietnamese thousands separator)."""
    whole = float(number).is_integer()
    text = f"{number:,.0f}" if whole else f"{number:,}"
    return text.replace(",", "·").replace(".", ",").replace("·", ".")


def hint(rule: ColumnRule) -> tuple[str, str]:
    """What to type in the column, Vietnamese and English (one line each)."""
    f = rule.field
    vi, en = [], []
    vi.append("Bắt buộc." if rule.required else "Không bắt buộc.")
    en.append("Required." if rule.required else "Optional.")
    if rule.codes:
        vi.append(HINT["code_list"][0] + " (xem sheet huong_dan).")
        en.append(HINT["code_list"][1].capitalize() + " (see sheet huong_dan).")
    elif rule.values is not None and f.type != "flag":
        if rule.shows_words:
            vi.append("Chọn trong danh sách: " + "; ".join(rule.choices) + ".")
            en.append("Pick from the list: " + "; ".join(
                f"{rule.shown(v)} = {rule.words[v][1]}" for v in rule.values) + ".")
        elif rule.words:
            vi.append("Chọn mã trong danh sách (nghĩa của mã: sheet huong_dan).")
            en.append("Pick a code from the list (what each means: sheet huong_dan).")
        else:
            vi.append("Chọn trong danh sách: " + "; ".join(rule.choices) + ".")
            en.append("Pick a value from the list.")
    else:
        kind_vi, kind_en = HINT[f.type]
        low_high_vi, low_high_en = _range_text(rule)
        vi.append(kind_vi + (f" {low_high_vi}" if low_high_vi else "") + ".")
        en.append(kind_en.capitalize() + (f", {low_high_en}" if low_high_en else "") + ".")
        if rule.digits:
            vi.append(f"Đúng {rule.digits} chữ số.")
            en.append(f"Exactly {rule.digits} digits.")
        if rule.not_future:
            vi.append("Không sau ngày hôm nay.")
            en.append("Not after today.")
    if rule.unique:
        vi.append("Không trùng trong danh sách.")
        en.append("Unique in the list.")
    return " ".join(vi), " ".join(en)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def validation(rule: ColumnRule, column: int | None = None) -> dict:
    """The xlsxwriter data validation of a column (``column``: its index in a table whose
    data start on row 2): its check and its input hint."""
    vi, en = hint(rule)
    f = rule.field
    code = f"\nMã cột / code: {f.code}"
    options: dict = {
        "input_title": _cut(f.label, INPUT_TITLE_MAX),
        "input_message": _cut(f"{vi}\n{en}", INPUT_MESSAGE_MAX - len(code)) + code,
        "error_title": _cut(f.label, INPUT_TITLE_MAX),
        "error_message": _cut(f"Giá trị không hợp lệ. {vi}\nNot allowed. {en}", INPUT_MESSAGE_MAX),
        "ignore_blank": True,
    }
    choices = rule.choices
    if choices and len(",".join(choices)) <= LIST_SOURCE_MAX:
        options.update(validate="list", source=choices)
        if rule.codes:  # several codes in one cell are typed: the list warns, never refuses
            options["error_type"] = "warning"
            options["error_message"] = _cut(
                "Nhiều mã: cách nhau bởi dấu ; rồi bấm Yes. Mã hợp lệ xem sheet huong_dan.\n"
                "Several codes: separate them by ; and click Yes. Codes: see sheet huong_dan.",
                INPUT_MESSAGE_MAX)
    elif f.type in ("integer", "number", "flag"):
        options["validate"] = "integer" if f.type in ("integer", "flag") else "decimal"
        low = rule.minimum if rule.minimum is not None else -1e15
        high = rule.maximum if rule.maximum is not None else 1e15
        options.update(criteria="between", minimum=low, maximum=high)
    elif f.type == "date":
        options.update(validate="date", criteria="between", minimum=dt.date(1900, 1, 1),
                       maximum="=TODAY()" if rule.not_future else dt.date(2100, 12, 31))
    elif rule.digits:
        options.update(validate="length", criteria="==", value=rule.digits)
    elif rule.unique and column is not None:
        from xlsxwriter.utility import xl_col_to_name

        letter = xl_col_to_name(column)
        options.update(validate="custom", value=f"=COUNTIF(${letter}:${letter},{letter}2)=1")
    else:
        options["validate"] = "any"
    return options


def number_format(rule: ColumnRule) -> str:
    f = rule.field
    if f.type == "date":
        return "dd/mm/yyyy"
    if f.type == "flag":
        return "0"
    if f.type == "integer":  # counts with thousands separators; years, months, sizes without
        return "0" if rule.maximum is not None and rule.maximum <= 9999 else "#,##0"
    if f.type == "number":
        if rule.maximum is not None and rule.maximum <= 100:
            return "0.00"
        return "#,##0" if (rule.maximum or 0) > 9999 else "General"
    return "@"  # text: typed digits stay text (a citizen ID keeps its leading 0)


class _Formats:
    """The workbook's cell formats, made once per kind."""

    def __init__(self, wb):
        self.wb = wb
        self._cache: dict = {}
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
        self.base = base
        self.header = wb.add_format({**base, "bold": True, "text_wrap": True, "border": 1,
                                     "bg_color": "#DDEBF7", "locked": True})
        self.label = wb.add_format({**base, "bold": True, "locked": True, "text_wrap": True})
        self.note = wb.add_format({**base, "italic": True, "font_color": "#595959", "locked": True,
                                   "text_wrap": True})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "locked": True})
        self.heading = wb.add_format({**base, "bold": True, "font_size": 12, "locked": True,
                                      "bottom": 1})
        self.text = wb.add_format({**base, "text_wrap": True, "locked": True})
        self.warning = wb.add_format({**base, "bold": True, "font_color": "#C00000", "text_wrap": True,
                                      "locked": True})
        self.fixed_text = wb.add_format({**base, "locked": True, "bg_color": "#F2F2F2", "num_format": "@"})
        self.fixed_number = wb.add_format({**base, "locked": True, "bg_color": "#F2F2F2", "num_format": "0"})

    def cell(self, num_format: str, quoted: bool = False):
        """An editable cell of ``num_format``; ``quoted``: text shown as typed, never taken for a
        formula (the spreadsheet's own leading-apostrophe mark, not part of the value)."""
        key = (num_format, quoted)
        if key not in self._cache:
            props = {**self.base, "locked": False, "num_format": num_format}
            if quoted:
                props["quote_prefix"] = True
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def _write_value(ws, row: int, col: int, value: object, fmt_for, formats: _Formats) -> None:
    """One pre-filled value: text through ``cell_safety.neutralise`` — text it would mark is
    written with the spreadsheet's quote prefix (shown as typed, never evaluated, and read
    back as the same text) — numbers and dates as such."""
    if value is None:
        return
    if isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()) if type(value) is dt.date
                          else value, fmt_for)
    elif isinstance(value, bool):
        ws.write_number(row, col, int(value), fmt_for)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value), fmt_for)
    else:
        text = str(value)
        quoted = neutralise(text) != text
        ws.write_string(row, col, text, formats.cell("@", quoted=True) if quoted else fmt_for)


@dataclass
class Template:
    """One commune's template for one review year."""

    code: str
    year: int
    name: str
    standard: str | None
    previous: Previous
    content: bytes

    @property
    def households(self) -> int:
        return len(self.previous.households)


def build(code: str, year: int, previous: Previous | None = None,
          today: dt.date | None = None) -> Template:
    """The workbook of commune ``code`` for review year ``year`` (``previous``: what to
    pre-fill, from ``previous_review``)."""
    import xlsxwriter

    contract = load_contract(CONTRACT)
    unit = unit_of(code, year)
    if unit is None:
        raise ValueError(f"{code} is not a commune-level unit on {admin_units.review_date(year):%d/%m/%Y}")
    previous = previous or Previous()
    standard = standard_of(year)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({
        "title": f"Mẫu rà soát hộ nghèo, hộ cận nghèo năm {year} — {unit.name} ({code})",
        "subject": "commune household review template",
        "author": "poverty_pipeline",
        "created": dt.datetime.combine(today or dt.date.today(), dt.time(8)),
    })
    formats = _Formats(wb)
    instructions = contract.instruction_sheets[0] if contract.instruction_sheets else "huong_dan"
    rules = {name: column_rules(sheet, year, contract) for name, sheet in contract.sheets.items()}
    guide = wb.add_worksheet(instructions)
    _thong_tin(wb, contract.info_sheet, rules[contract.info_sheet.name], formats, code, year, standard)
    for name, sheet in contract.sheets.items():
        if sheet.layout != "table":
            continue
        rows = (previous.households if name == contract.main_sheet
                else [{"khu_vuc": area} for area in previous.areas] if "khu_vuc" in sheet.codes else [])
        _table(wb, sheet, rules[name], formats, rows)
    _guide(guide, contract, rules, formats, unit, year, standard, previous)
    guide.activate()
    wb.close()
    return Template(code, year, unit.name, standard, previous, buf.getvalue())


def _thong_tin(wb, sheet: Sheet, rules: dict[str, ColumnRule], formats: _Formats, code: str,
               year: int, standard: str | None) -> None:
    ws = wb.add_worksheet(sheet.name)
    ws.set_column(0, 0, 30, formats.label)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 70, formats.note)
    ws.write_string(0, 0, sheet.key_header.get("label", "Trường"), formats.header)
    ws.write_string(0, 1, sheet.value_header.get("label", "Giá trị"), formats.header)
    ws.write_string(0, 2, "Hướng dẫn / How to fill", formats.header)
    known = {"ma_tinh": admin_units.PROVINCE_CODE, "ma_xa": code, "nam_ra_soat": year,
             "loai_ra_soat": PERIODIC, "chuan_ngheo": standard}
    fixed = {"ma_tinh", "ma_xa", "nam_ra_soat"}  # what makes the file this commune's, this year's
    for r, f in enumerate(sheet.fields, start=1):
        rule = rules[f.code]
        ws.write_string(r, 0, f.label, formats.label)
        vi, en = hint(rule)
        ws.write_string(r, 2, f"{vi} {en}" if f.code not in fixed else
                        "Điền sẵn, không sửa. / Pre-filled, do not change.", formats.note)
        value = rule.shown(known.get(f.code))
        if f.code in fixed:  # locked: the file's identity
            _write_value(ws, r, 1, value, formats.fixed_number if isinstance(value, int)
                         else formats.fixed_text, formats)
            continue
        fmt = formats.cell(number_format(rule))
        if value is None:
            ws.write_blank(r, 1, None, fmt)
        else:
            _write_value(ws, r, 1, value, fmt, formats)
        ws.data_validation(r, 1, r, 1, validation(rule))
    ws.freeze_panes(1, 0)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _table(wb, sheet: Sheet, rules: dict[str, ColumnRule], formats: _Formats, rows: list[dict]) -> None:
    ws = wb.add_worksheet(sheet.name)
    last = len(sheet.fields) - 1
    for c, f in enumerate(sheet.fields):
        rule = rules[f.code]
        width = max(10, min(30, len(f.label) * 0.6 + 4))
        ws.set_column(c, c, width, formats.cell(number_format(rule)))
        ws.write_string(0, c, f.label, formats.header)
        ws.data_validation(1, c, LAST_ROW, c, validation(rule, c))
    # the columns right of the table stay editable, so whole rows can be deleted
    ws.set_column(last + 1, 16383, None, formats.cell("General"))
    ws.set_row(0, 64)
    for r, row in enumerate(rows, start=1):
        for c, f in enumerate(sheet.fields):
            rule = rules[f.code]
            _write_value(ws, r, c, rule.shown(row.get(f.code)), formats.cell(number_format(rule)), formats)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, LAST_ROW, last)
    ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True,
                    "delete_rows": True, "sort": True, "autofilter": True})


def _guide(ws, contract: Contract, rules: dict[str, dict[str, ColumnRule]], formats: _Formats,
           unit: admin_units.Unit, year: int, standard: str | None, previous: Previous) -> None:
    """The instructions sheet: what the file is, how to fill it, how to send it, the codes."""
    ws.set_column(0, 0, 28, formats.text)
    ws.set_column(1, 1, 22, formats.text)
    ws.set_column(2, 2, 60, formats.text)
    ws.set_column(3, 3, 60, formats.text)
    code = unit.code
    folder = f"{contract.landing_folder}/{year}/{code}/"
    standards = value_words(contract.name).get("chuan_ngheo", {})
    name_vi, name_en = standards.get(standard or "", ("", ""))
    if previous.households:
        origin_vi = (f"Danh sách hộ đã điền sẵn {len(previous.households)} hộ từ kỳ rà soát năm "
                     f"{previous.year} đã được tiếp nhận (mã xã: {', '.join(previous.submissions)}).")
        origin_en = (f"The household list is pre-filled with {len(previous.households)} households "
                     f"from the accepted review of {previous.year} (communes "
                     f"{', '.join(previous.submissions)}).")
    else:
        origin_vi = "Không có kỳ rà soát trước đã được tiếp nhận: danh sách hộ để trống."
        origin_en = "No earlier accepted review: the household list is empty."
    lines: list[tuple[str, str]] = [
        ("title", f"MẪU RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM {year}"),
        ("title", f"{unit.name} — mã xã {code}"),
        ("text", f"Household poverty review template {year}, commune-level unit {code}."),
        ("warning", "TỆP CÓ DỮ LIỆU CÁ NHÂN của các hộ dân trong xã (họ tên, số định danh): chỉ dùng "
                    "cho việc rà soát của xã; không chuyển cho người khác, không đăng lên mạng, "
                    "không gửi qua kênh công khai."),
        ("warning", "THIS FILE HOLDS PERSONAL DATA of the commune's households (names, citizen IDs): "
                    "use it for the commune's review only; do not pass it on, post it or send it "
                    "through a public channel."),
        ("text", origin_vi),
        ("text", origin_en),
        ("text", f"Chuẩn nghèo áp dụng / poverty standard: {standard or '—'} — {name_vi} ({name_en})."),
        ("heading", "CÁCH ĐIỀN / HOW TO FILL"),
        ("text", "1. Sheet thong_tin: mã tỉnh, mã xã và năm rà soát đã điền sẵn (không sửa). Điền "
                 "Người lập biểu, Điện thoại, Ngày lập. / Province, commune and year are pre-filled "
                 "(do not change them); fill in the preparer, phone and date."),
        ("text", "2. Sheet tong_hop: một dòng cho mỗi khu vực (Thành thị, Nông thôn) có trong xã: "
                 "tổng số hộ và nhân khẩu của xã, số hộ nghèo, cận nghèo và tỷ lệ (%). / One row per "
                 "area (urban, rural): all households and residents, poor and near-poor households "
                 "and their rates (%)."),
        ("text", "3. Sheet danh_sach_ho: một dòng cho mỗi hộ được rà soát. Kiểm tra và cập nhật từng "
                 "hộ đã điền sẵn; xóa dòng của hộ không còn ở xã; thêm hộ mới ở cuối danh sách với "
                 "Mã hộ mới chưa dùng. Giữ nguyên Mã hộ của hộ cũ (kể cả phần mã xã cũ ở đầu, ví dụ "
                 "28252-HO00007): mã hộ theo dõi hộ qua các năm. / One row per reviewed household: "
                 "check and update every pre-filled row, delete the rows of households no longer "
                 "living in the commune, add new households at the bottom with a new, unused "
                 "household code. Keep the code of every household as it is (with its former "
                 "commune's prefix, e.g. 28252-HO00007): it follows the household across years."),
        ("text", "4. Chọn giá trị trong danh sách (mũi tên bên phải ô); ô báo lỗi khi giá trị ngoài "
                 "quy định. Mỗi ô có gợi ý khi chọn ô. Cờ thiếu hụt: 1 = có, để trống hoặc 0 = "
                 "không. Nhiều mã trong một ô: cách nhau bởi dấu ; . / Pick values from the lists "
                 "(arrow at the cell's right); a cell refuses values outside the rules; each cell "
                 "shows a hint when selected. Deprivation flags: 1 = yes, blank or 0 = no. Several "
                 "codes in one cell: separate them by ; ."),
        ("text", "5. Không đổi tên sheet, không sửa dòng tiêu đề, không thêm cột (cột thêm không được "
                 "đọc). Dòng tiêu đề được khóa (Review → Unprotect Sheet, không có mật khẩu, nếu "
                 "thật cần). / Do not rename sheets, change the header row or add columns (extra "
                 "columns are not read). The header rows are protected (Review → Unprotect Sheet, "
                 "no password, if you really must)."),
        ("heading", "CÁCH GỬI / HOW TO SEND"),
        ("text", f"Lưu tệp dạng .xlsx (ví dụ {code}_{year}_dinh_ky.xlsx) và đặt vào thư mục của xã "
                 f"trong nơi nhận báo cáo: {folder} — tệp trong thư mục này chỉ được báo cáo cho "
                 f"xã {code}. Gửi lại bản sửa bằng tệp mới: bản mới nhất được tiếp nhận thay bản cũ. "
                 f"/ Save as .xlsx (e.g. {code}_{year}_dinh_ky.xlsx) and put it into the commune's "
                 f"folder of the landing: {folder} — a file there may report only for commune "
                 f"{code}. Send a correction as a new file: the newest accepted one replaces the "
                 "earlier."),
        ("text", f"Kết quả kiểm tra (tiếp nhận hay từ chối, từng lỗi và cách sửa) có sau lần xử lý "
                 f"hằng đêm tại: _feedback/{folder}<tên tệp>.feedback.html / The result (accepted "
                 f"or rejected, every problem and how to fix it) is ready after the nightly run at "
                 f"_feedback/{folder}<file name>.feedback.html"),
    ]
    r = 0
    for kind, text in lines:
        fmt = getattr(formats, kind)
        if kind in ("title", "heading"):
            ws.write_string(r, 0, text, fmt)
        else:
            ws.merge_range(r, 0, r, 3, text, fmt)
            ws.set_row(r, 15 * max(1, -(-len(text) // 150)) + 3)
        r += 1

    def table_head(r: int, title: str, heads: tuple[str, ...]) -> int:
        """A table's heading and column headers from row ``r``; returns the row after them."""
        ws.write_string(r, 0, title, formats.heading)
        for c, head in enumerate(heads):
            ws.write_string(r + 1, c, head, formats.header)
        return r + 2

    def table_row(r: int, texts: tuple[str, ...]) -> int:
        for c, text in enumerate(texts):
            ws.write_string(r, c, text, formats.text)
        return r + 1

    r = table_head(r + 1, "CÁC CỘT / THE COLUMNS",
                   ("Cột / column", "Mã cột / code", "Cách điền", "How to fill"))
    for sheet_name, sheet_rules in rules.items():
        ws.merge_range(r, 0, r, 3, f"Sheet {sheet_name}", formats.label)
        r += 1
        for rule in sheet_rules.values():
            vi, en = hint(rule)
            r = table_row(r, (rule.field.label, rule.field.code, vi, en))
    r = table_head(r + 1, "CÁC MÃ / THE CODES",
                   ("Cột / column", "Giá trị nhập / value to enter", "Nghĩa", "Meaning"))
    for sheet_rules in rules.values():
        for rule in sheet_rules.values():
            codes = rule.codes or ([v for v in rule.values if isinstance(v, str)] if rule.values else [])
            if not rule.words or not codes:
                continue
            for value in codes:
                vi, en = rule.words.get(value, ("", ""))
                shown = rule.shown(value) if not rule.codes else value
                r = table_row(r, (rule.field.label, str(shown), vi, en))
    ws.protect("", {"format_columns": True, "format_rows": True})


# ------------------------------------------------------------------ where templates go


def template_name(code: str) -> str:
    return f"{code}.xlsx"


def write_templates(conn, codes: Iterable[str], year: int, landing_url: str | None = None,
                    out_dir=None, prefill: bool = True) -> list[tuple[Template, str]]:
    """Write the templates of ``codes`` for ``year``: into ``out_dir/<year>/`` when given,
    else ``<landing>/_templates/<year>/``; each pre-filled from the warehouse unless
    ``prefill`` is false. Returns each template with where it went."""
    from pathlib import Path

    written = []
    if out_dir is not None:
        folder = Path(out_dir) / str(year)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        from poverty_pipeline.ingest.discover import landing_root

        folder = landing_root(landing_url) / TEMPLATES_FOLDER / str(year)
        folder.mkdir(parents=True, exist_ok=True)
    for code in codes:
        previous = previous_review(conn, code, year) if prefill and conn is not None else Previous()
        template = build(code, year, previous)
        target = folder / template_name(code)
        target.write_bytes(template.content)
        written.append((template, str(target)))
    return written
