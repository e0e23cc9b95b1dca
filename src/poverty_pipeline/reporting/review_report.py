"""The review report's summary table as a workbook, one per review year, in Vietnamese.

Reads ``marts.rpt_review_summary`` (the official standard of each review year: its
``is_official_standard`` rows) and writes ``<landing>/_reports/review_summary/<year>.xlsx``:
the province (named as the mart names it: from 2025 "Tiền Giang (cũ), nay thuộc tỉnh Đồng
Tháp"), then each district followed by its communes, each with its urban, rural and total rows;
resident households, the poor block (start of year, households of territories not reviewed,
flows, end of year, rate) and the near-poor block, ready to attach to the province's report.

- :func:`summary_years` / :func:`summary_rows` — what the mart holds for the report.
- :func:`workbook_bytes` — one year's workbook (pure: rows in, bytes out; deterministic).
- :func:`export_review_summaries` — every year's workbook written to the landing location.

The standard is named by its legal document and years (from the standards seed, through
``labels.standard_label``); counts and rates are numbers (the reader's spreadsheet shows them with
its own separators: '.' for thousands and ',' for decimals in Vietnamese). The table prints
landscape, one page wide, its header rows on every page, and has filters on its columns. Texts
come from submissions (area names, codes), so a cell that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written as text with the
spreadsheet's quote prefix: shown as written, never evaluated.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from poverty_pipeline.ingest.cell_safety import formula_like
from poverty_pipeline.reference import labels

REPORT_FOLDER = ("_reports", "review_summary")

LEVEL_LABELS = {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
AREA_TYPE_LABELS = {"thanh_thi": "Thành thị", "nong_thon": "Nông thôn", "total": "Tổng cộng"}
AREA_TYPE_ORDER = {"thanh_thi": 0, "nong_thon": 1, "total": 2}

# (mart column, header); the rate columns are fractions written as percentages
IDENTITY_COLUMNS = [
    ("row_number", "STT"),
    ("area_code", "Mã đơn vị"),
    ("area_name", "Tên đơn vị"),
    ("area_level", "Cấp"),
    ("area_type", "Khu vực"),
    ("total_households", "Tổng số hộ dân cư"),
]
POOR_COLUMNS = [
    ("poor_start", "Số hộ nghèo đầu năm"),
    ("poor_not_reviewed", "Số hộ nghèo năm trước của địa bàn không rà soát năm nay"),
    ("poor_escaped", "Số hộ thoát nghèo"),
    ("re_poor", "Số hộ tái nghèo"),
    ("newly_poor", "Số hộ nghèo phát sinh mới"),
    ("near_poor_to_poor", "Số hộ cận nghèo chuyển thành hộ nghèo"),
    ("poor_left_review", "Số hộ nghèo không còn trong danh sách rà soát"),
    ("poor_to_unclassifiable", "Số hộ nghèo không phân loại được"),
    ("poor_not_compared", "Số hộ nghèo chưa đối chiếu được với năm trước"),
    ("poor_end", "Số hộ nghèo cuối năm"),
    ("poor_rate", "Tỷ lệ hộ nghèo cuối năm (%)"),
]
NEAR_POOR_COLUMNS = [
    ("near_poor_start", "Số hộ cận nghèo đầu năm"),
    ("near_poor_not_reviewed", "Số hộ cận nghèo năm trước của địa bàn không rà soát năm nay"),
    ("near_poor_escaped", "Số hộ thoát cận nghèo"),
    ("near_poor_to_poor", "Số hộ cận nghèo chuyển thành hộ nghèo"),
    ("poor_escaped_to_near_poor", "Số hộ nghèo chuyển thành hộ cận nghèo"),
    ("re_near_poor", "Số hộ tái cận nghèo"),
    ("newly_near_poor", "Số hộ cận nghèo phát sinh mới"),
    ("near_poor_left_review", "Số hộ cận nghèo không còn trong danh sách rà soát"),
    ("near_poor_to_unclassifiable", "Số hộ cận nghèo không phân loại được"),
    ("near_poor_not_compared", "Số hộ cận nghèo chưa đối chiếu được với năm trước"),
    ("near_poor_end", "Số hộ cận nghèo cuối năm"),
    ("near_poor_rate", "Tỷ lệ hộ cận nghèo cuối năm (%)"),
]
RATE_COLUMNS = {"poor_rate", "near_poor_rate"}
COLUMNS = IDENTITY_COLUMNS + POOR_COLUMNS + NEAR_POOR_COLUMNS

HEADER_ROW = 4  # group headers; column headers below, then their numbers (1), (2), …
FIRST_DATA_ROW = HEADER_ROW + 3

NOTES = [
    "Ghi chú:",
    "- Số hộ nghèo, hộ cận nghèo được tính lại từ danh sách hộ do xã gửi (kết quả rà soát định kỳ "
    "hiện hành của mỗi xã) theo chuẩn nghèo ghi ở đầu bảng; tỷ lệ = số hộ cuối năm / tổng số hộ dân "
    "cư của địa bàn (theo biểu tổng hợp của xã).",
    "- Xã: đơn vị hành chính cấp xã tại ngày 31/12 của năm rà soát; báo cáo gửi dưới mã của xã đã "
    "sáp nhập được tính cho xã nhận sáp nhập, và một hộ có trong hai danh sách chỉ được tính một lần.",
    "- Đầu năm: hộ có trong danh sách rà soát năm trước, thuộc địa bàn được rà soát năm nay; cuối "
    "năm: hộ có trong danh sách rà soát năm nay. Hộ được theo dõi theo mã hộ ổn định (kể cả qua "
    "sáp nhập).",
    "- Không rà soát năm nay: hộ có trong danh sách năm trước của địa bàn không có kết quả rà soát "
    "năm nay; đầu năm + không rà soát năm nay = cuối năm trước trên cùng địa bàn.",
    "- Tái nghèo: hộ nghèo năm nay, năm trước không phải hộ nghèo hay cận nghèo, và đã là hộ nghèo "
    "trong một lần rà soát trước đó (đã thoát nghèo rồi nghèo lại). Nghèo phát sinh mới: hộ nghèo "
    "năm nay, năm trước không phải hộ nghèo hay cận nghèo, chưa từng là hộ nghèo (kể cả khi trước "
    "đó là hộ cận nghèo hoặc không có tên trong danh sách). Tương tự với tái cận nghèo.",
    "- Chưa đối chiếu được: hộ của xã không có kết quả rà soát năm trước trên địa bàn.",
    "- Hộ nghèo cuối năm = đầu năm − thoát nghèo − không còn trong danh sách − không phân loại được "
    "+ tái nghèo + phát sinh mới + từ cận nghèo chuyển lên + chưa đối chiếu được.",
    "Nguồn: kho dữ liệu giảm nghèo của tỉnh (tổng hợp kết quả rà soát hộ nghèo, hộ cận nghèo).",
]

def summary_years(conn: psycopg.Connection) -> list[int]:
    """Review years with rows under their official standard."""
    rows = conn.execute(
        "select distinct review_year from marts.rpt_review_summary "
        "where is_official_standard order by review_year"
    ).fetchall()
    return [row[0] for row in rows]


def summary_rows(conn: psycopg.Connection, year: int) -> tuple[dict, list[dict]]:
    """The official standard of ``year`` (code and names) and its rows, in report order."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            select summary.*, standards.standard_name_vi
              from marts.rpt_review_summary as summary
              join marts.dim_poverty_standard as standards using (standard_code)
             where summary.review_year = %s and summary.is_official_standard
               -- the table of the year's own units (today's communes are another series)
               and summary.area_level in ('province', 'district', 'commune')
            """,
            (year,),
        ).fetchall()
    if not rows:
        raise LookupError(f"rpt_review_summary has no official rows for review year {year}")
    standards = {(r["standard_code"], r["standard_name_vi"]) for r in rows}
    if len(standards) != 1:
        raise ValueError(f"review year {year} has several official standards: {sorted(standards)}")
    code, name = standards.pop()
    return {"standard_code": code, "standard_name_vi": name}, sorted(rows, key=_report_order)


def _report_order(row: dict) -> tuple:
    """Province; then each district followed by its communes; communes without a district last."""
    level = row["area_level"]
    if level == "province":
        group = ("0", row["area_code"])
    elif level == "district":
        group = ("1", row["area_code"])
    else:
        group = ("1", row["parent_area_code"]) if row["parent_area_code"] else ("2", "")
    return (*group, level != "district" and level != "province", row["area_code"],
            AREA_TYPE_ORDER[row["area_type"]])


def _cell_value(column: str, row: dict):
    value = row.get(column)
    if column == "area_level":
        return LEVEL_LABELS.get(value, value)
    if column == "area_type":
        return AREA_TYPE_LABELS.get(value, value)
    if column == "area_name" and value is None:
        return row.get("area_code")
    if isinstance(value, Decimal):
        return float(value) if column in RATE_COLUMNS else int(value)
    return value


def workbook_bytes(year: int, standard: dict, rows: Sequence[dict]) -> bytes:
    """One review year's summary table as an .xlsx (deterministic for the same rows)."""
    import xlsxwriter  # only when a workbook is written

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    created = dt.datetime(year + 1, 1, 1)
    book.set_properties({
        "title": f"Tổng hợp kết quả rà soát hộ nghèo, hộ cận nghèo năm {year}",
        "author": "poverty_pipeline",
        "created": created,
    })
    title = book.add_format({"bold": True, "font_size": 13})
    bold = book.add_format({"bold": True})
    header = book.add_format({
        "bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1,
        "bg_color": "#DDEBF7",
    })
    number_header = book.add_format({"italic": True, "align": "center", "border": 1})
    text = book.add_format({"border": 1})
    quoted_text = book.add_format({"border": 1, "quote_prefix": True})
    count = book.add_format({"border": 1, "num_format": "#,##0"})
    rate = book.add_format({"border": 1, "num_format": "0.00%"})
    total_text = book.add_format({"border": 1, "bold": True})
    quoted_total_text = book.add_format({"border": 1, "bold": True, "quote_prefix": True})
    total_count = book.add_format({"border": 1, "bold": True, "num_format": "#,##0"})
    total_rate = book.add_format({"border": 1, "bold": True, "num_format": "0.00%"})

    sheet = book.add_worksheet(f"Tổng hợp {year}")
    last_column = len(COLUMNS) - 1
    sheet.merge_range(
        0, 0, 0, last_column,
        f"BẢNG TỔNG HỢP KẾT QUẢ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM {year}", title,
    )
    province = next((r.get("area_name") for r in rows if r["area_level"] == "province"), None)
    line = (f"{province or 'Tỉnh Tiền Giang'} – chuẩn nghèo theo "
            f"{labels.standard_label(standard['standard_code'])}")
    sheet.write_string(1, 0, line, book.add_format({"bold": True, "quote_prefix": True})
                       if formula_like(line) else bold)
    sheet.write_string(2, 0, "Đơn vị tính: hộ; tỷ lệ: % so với tổng số hộ dân cư")

    identity_end = len(IDENTITY_COLUMNS) - 1
    poor_end = identity_end + len(POOR_COLUMNS)
    for index, (_, label) in enumerate(IDENTITY_COLUMNS):
        sheet.merge_range(HEADER_ROW, index, HEADER_ROW + 1, index, label, header)
    sheet.merge_range(HEADER_ROW, identity_end + 1, HEADER_ROW, poor_end, "Hộ nghèo", header)
    sheet.merge_range(HEADER_ROW, poor_end + 1, HEADER_ROW, last_column, "Hộ cận nghèo", header)
    for index, (_, label) in enumerate(POOR_COLUMNS + NEAR_POOR_COLUMNS, start=identity_end + 1):
        sheet.write_string(HEADER_ROW + 1, index, label, header)
    for index in range(len(COLUMNS)):
        sheet.write_string(HEADER_ROW + 2, index, f"({index + 1})", number_header)
    sheet.set_row(HEADER_ROW + 1, 60)

    area_numbers: dict[tuple[str, str], int] = {}
    for offset, row in enumerate(rows):
        number = area_numbers.setdefault((row["area_level"], row["area_code"]),
                                         len(area_numbers) + 1)
        is_total = row["area_type"] == "total"
        for index, (column, _) in enumerate(COLUMNS):
            value = number if column == "row_number" else _cell_value(column, row)
            cell = (FIRST_DATA_ROW + offset, index)
            if value is None:
                sheet.write_blank(*cell, None, total_text if is_total else text)
            elif isinstance(value, str):
                quoted = formula_like(value)
                sheet.write_string(*cell, value, (quoted_total_text if quoted else total_text)
                                   if is_total else (quoted_text if quoted else text))
            elif column in RATE_COLUMNS:
                sheet.write_number(*cell, value, total_rate if is_total else rate)
            else:
                sheet.write_number(*cell, value, total_count if is_total else count)

    notes_row = FIRST_DATA_ROW + len(rows) + 1
    for offset, note in enumerate(NOTES):
        sheet.write_string(notes_row + offset, 0, note, bold if offset == 0 else None)

    sheet.set_column(0, 0, 5)
    sheet.set_column(1, 1, 9)
    sheet.set_column(2, 2, 28)
    sheet.set_column(3, 4, 10)
    sheet.set_column(5, last_column, 12)
    sheet.freeze_panes(FIRST_DATA_ROW, 3)
    # filters on the numbered row: one cell per column, below the merged headers
    sheet.autofilter(HEADER_ROW + 2, 0, max(HEADER_ROW + 2, FIRST_DATA_ROW + len(rows) - 1),
                     last_column)
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
    sheet.repeat_rows(HEADER_ROW, HEADER_ROW + 2)
    sheet.print_area(0, 0, notes_row + len(NOTES) - 1, last_column)
    sheet.set_footer("&CTrang &P/&N")
    book.close()
    return buffer.getvalue()


def _landing_root(landing_url: str | os.PathLike):
    from airflow.sdk import ObjectStoragePath  # heavy import, only when writing

    return ObjectStoragePath(os.fspath(landing_url))


def export_review_summaries(
    conn: psycopg.Connection, landing_url: str | os.PathLike, years: Iterable[int] | None = None
) -> list[str]:
    """Write ``<landing>/_reports/review_summary/<year>.xlsx`` for every review year (or
    ``years``); return the written locations. Re-running overwrites them with the same bytes."""
    folder = _landing_root(landing_url).joinpath(*REPORT_FOLDER)
    if folder.protocol in ("", "file", "local"):
        folder.mkdir(parents=True, exist_ok=True)
    written = []
    for year in summary_years(conn) if years is None else years:
        standard, rows = summary_rows(conn, year)
        target = folder / f"{year}.xlsx"
        target.write_bytes(workbook_bytes(year, standard, rows))
        written.append(str(target))
    return written
