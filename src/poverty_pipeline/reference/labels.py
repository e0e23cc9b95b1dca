"""Words for the codes a person reads in the files the pipeline writes (feedback reports,
exported workbooks), and Vietnamese number and date formatting of text.

Names come from where they are kept: the contracts (a column's Vietnamese label), the dbt seeds
(poverty standards and their legal sources, communes, reporting agencies). Only the few codes no
seed names are listed here.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from functools import cache

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

from poverty_pipeline.config import DBT_PROJECT_DIR
from poverty_pipeline.reference import admin_units
from poverty_pipeline.reference.contract import CONTRACTS, header_key, load_contract

LOCALE = "vi_VN"
DATE_FORMAT = "dd/MM/yyyy"  # Babel's pattern; an Excel cell's is EXCEL_DATE_FORMAT
# the slashes escaped: Excel would otherwise put the reader's own date separator in their place
EXCEL_DATE_FORMAT = "dd\\/mm\\/yyyy"
EXCEL_DATETIME_FORMAT = "dd\\/mm\\/yyyy hh:mm"

SUBMISSION_KIND = {
    "commune_periodic_review": ("Rà soát định kỳ của xã", "commune periodic review"),
    "commune_monthly_review": ("Rà soát thường xuyên của xã", "commune monthly review"),
    "agency_monthly_report": ("Báo cáo tháng", "monthly report"),
    "agency_quarterly_report": ("Báo cáo quý", "quarterly report"),
    "agency_annual_report": ("Báo cáo năm", "annual report"),
}



# The agencies' units and funding sources (codes of the agency task report's contract).
UNIT = {
    "ho": ("hộ", "households"), "dong": ("đồng", "VND"), "mo_hinh": ("mô hình", "models"),
    "cuoc": ("cuộc", "inspections"), "lop": ("lớp", "classes"), "nguoi": ("người", "people"),
    "luot": ("lượt", "times"), "buoi": ("buổi", "sessions"),
}
FUNDING_SOURCE = {
    "ngan_sach": ("Ngân sách nhà nước", "state budget"),
    "xa_hoi_hoa": ("Xã hội hóa", "private contributions"),
    "tin_dung_chinh_sach": ("Tín dụng chính sách", "policy credit"),
    "khac": ("Khác", "other"),
    "khong_ap_dung": ("Không áp dụng", "not applicable"),
}


def vi_en(table: dict[str, tuple[str, str]], code: str | None) -> str:
    """``Vietnamese / English`` for a code; the code itself when the table does not know it."""
    if code is None:
        return ""
    vi, en = table.get(code, (code, ""))
    return f"{vi} / {en}" if en else vi


# ------------------------------------------------------------------ numbers and dates as text


def number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """``1.234.567`` / ``12,5``: Vietnamese separators (thousands '.', decimal ',')."""
    if value is None:
        return ""
    pattern = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def date(value: dt.date | None) -> str:
    """``10/04/2024``."""
    return "" if value is None else _babel_date(value, DATE_FORMAT, locale=LOCALE)


def date_time(value: dt.datetime | None) -> str:
    """``10/04/2024 08:05`` in the value's own time zone."""
    return "" if value is None else _babel_datetime(value, DATE_FORMAT + " HH:mm", locale=LOCALE)


# ------------------------------------------------------------------ from the seeds


@cache
def _seed(name: str) -> tuple[dict[str, str], ...]:
    with (DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def _legal_document(source: str) -> str:
    """The document a ``legal_source`` names, without its date and articles:
    "Nghị định 07/2021/NĐ-CP (27/01/2021), Điều 3; …" → "Nghị định 07/2021/NĐ-CP"."""
    return re.split(r"\s*[(,;]", source, maxsplit=1)[0].strip()


def standard_label(code: str | None) -> str:
    """A poverty standard by its legal document and the years it was set for:
    ``ND07_2022_2025`` → "Nghị định 07/2021/NĐ-CP (2022–2025)" (its first list year to its
    last review year, as the seed gives them); an unknown code as it is."""
    row = next((r for r in _seed("reference/ref_poverty_standards") if r["standard_code"] == code),
               None)
    if row is None:
        return code or ""
    return (f"{_legal_document(row['legal_source'])} "
            f"({row['first_list_year']}–{row['last_review_year']})")


def _period_day(period: str | None) -> dt.date | None:
    """The last day of a period (2024, 2024-Q1, 2024-03): the day its units are taken at."""
    match = re.fullmatch(r"(\d{4})(?:-Q([1-4])|-(\d{2}))?", period or "")
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) * 3 if match.group(2) else int(match.group(3) or 12)
    return admin_units.review_date(year, month if 1 <= month <= 12 else None)


def submitter_name(code: str | None, period: str | None = None) -> str | None:
    """The name of a commune (as it was named at the end of ``period``, else its latest name)
    or of a reporting agency; None for a code no seed knows."""
    if not code:
        return None
    agency = next((r for r in _seed("registry/ref_reporting_agencies") if r["agency_code"] == code),
                  None)
    if agency:
        return agency["agency_name_vi"]
    units = [u for u in admin_units.units() if u.code == code]
    if not units:
        return None
    day = _period_day(period)
    on_day = [u for u in units if day is not None and u.valid_on(day)]
    latest = max(units, key=lambda u: u.valid_from)
    return (on_day[0] if on_day else latest).name


# ------------------------------------------------------------------ from the contracts


@cache
def _field_labels() -> dict[str, dict[str, set[str]]]:
    """Header key of a column's code or label → sheet → the column's Vietnamese labels."""
    labels: dict[str, dict[str, set[str]]] = {}
    for name in CONTRACTS:
        for sheet in load_contract(name).sheets.values():
            for f in sheet.fields:
                for key in (header_key(f.code), header_key(f.label)):
                    labels.setdefault(key, {}).setdefault(sheet.name, set()).add(f.label)
    return labels


def column_label(sheet: str | None, column: str | None) -> str | None:
    """The contract's Vietnamese label of a column (``tong_so_ho`` → "Tổng số hộ dân cư"),
    matched as the ingest matches headers: the one of ``sheet``, else the one every sheet that
    has such a column agrees on; None when no contract names it (or the contracts disagree)."""
    if not column:
        return None
    by_sheet = _field_labels().get(header_key(column), {})
    labels = by_sheet.get(sheet or "") or set().union(*by_sheet.values())
    return next(iter(labels)) if len(labels) == 1 else None
