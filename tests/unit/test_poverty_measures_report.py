"""The review summary workbook (poverty_pipeline.reporting.review_report) without a warehouse: formula
neutralisation, layout and order, the standard in words, print set-up and filters,
determinism. The workbook read from real marts is tested in tests/integration/dbt/test_poverty_measures.py."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from poverty_pipeline.ingest.cell_safety import neutralise
from poverty_pipeline.reporting.review_report import (
    COLUMNS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    workbook_bytes,
)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Phường 5", "Phường 5"),
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+84 273", "'+84 273"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text, written):
    assert neutralise(text) == written


STANDARD = {"standard_code": "ND07_2022_2025", "standard_name_vi": "Chuẩn nghèo đa chiều"}


def row(level, code, area_type, name=None, parent=None, **figures) -> dict:
    values = {column: 0 for column, _ in COLUMNS}
    values.update(
        area_level=level, area_code=code, area_name=name, parent_area_code=parent,
        area_type=area_type, total_households=100, poor_rate=Decimal("0.0125"),
        near_poor_rate=None,
    )
    values.update(figures)
    return values


ROWS = [
    row("province", "82", "total", "Tỉnh Tiền Giang", poor_end=5),
    row("district", "815", "total", "=cmd|' /C calc'!A0", "82", poor_start=7),
    row("commune", "@28249", "total", None, "815"),
]


def _cells(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_workbook_cells():
    cells = _cells(workbook_bytes(2023, STANDARD, ROWS))
    data = cells[FIRST_DATA_ROW:FIRST_DATA_ROW + 3]
    headers = [label for _, label in COLUMNS]
    assert cells[HEADER_ROW][0] == "STT" and "Hộ nghèo" in cells[HEADER_ROW]
    assert data[0][:5] == [1, "82", "Tỉnh Tiền Giang", "Tỉnh", "Tổng cộng"]
    assert data[0][headers.index("Số hộ nghèo cuối năm")] == 5
    assert data[0][headers.index("Tỷ lệ hộ nghèo cuối năm (%)")] == pytest.approx(0.0125)
    assert data[0][headers.index("Tỷ lệ hộ cận nghèo cuối năm (%)")] == ""  # no rate: blank
    # text from the warehouse that a spreadsheet would run is written as text, as it is, in a
    # quote-prefixed cell (never a formula)
    assert data[1][2] == "=cmd|' /C calc'!A0"
    assert data[1][headers.index("Số hộ nghèo đầu năm")] == 7
    # the title names the province as the mart names its row, and the standard in words
    assert cells[1][0] == "Tỉnh Tiền Giang – chuẩn nghèo theo Nghị định 07/2021/NĐ-CP (2022–2025)"
    # a commune without a name shows its code
    assert data[2][1:3] == ["@28249", "@28249"]


def test_the_2025_title_names_the_territory_the_rows_cover():
    rows = [row("province", "82", "total", "Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp")]
    cells = _cells(workbook_bytes(2025, STANDARD, rows))
    assert cells[1][0].startswith("Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp – chuẩn nghèo theo ")
    assert cells[FIRST_DATA_ROW][2] == "Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp"
    headers = [label for _, label in COLUMNS]
    assert "Số hộ nghèo năm trước của địa bàn không rà soát năm nay" in headers


def _parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist()}


def test_formula_like_text_is_quote_prefixed_not_evaluated():
    parts = _parts(workbook_bytes(2023, STANDARD, ROWS))
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert "<f>" not in sheet  # no formula cells anywhere
    styles = parts["xl/styles.xml"]
    quoted = [i for i, xf in enumerate(re.findall(r"<xf [^>]*>", styles.split("<cellXfs")[1]))
              if 'quotePrefix="1"' in xf]
    assert quoted
    # the district's name and the commune's code sit in quote-prefixed cells, "Phường"-like
    # names in plain ones
    styled = dict(re.findall(r'<c r="([A-Z]+\d+)" s="(\d+)"', sheet))
    first = FIRST_DATA_ROW + 1  # 1-based row of the province
    assert int(styled[f"C{first + 1}"]) in quoted and int(styled[f"B{first + 2}"]) in quoted
    assert int(styled[f"C{first}"]) not in quoted


def test_the_table_prints_landscape_one_page_wide_with_its_headers_and_has_filters():
    parts = _parts(workbook_bytes(2023, STANDARD, ROWS))
    sheet = parts["xl/worksheets/sheet1.xml"]
    last = FIRST_DATA_ROW + len(ROWS)  # 1-based
    assert f'<autoFilter ref="A{HEADER_ROW + 3}:' in sheet and f'{last}"/>' in sheet
    # fit to one page wide (fitToWidth defaults to 1), as many pages long as needed
    assert '<pageSetup paperSize="9" fitToHeight="0" orientation="landscape"/>' in sheet
    assert '<pageSetUpPr fitToPage="1"/>' in sheet
    titles = re.search(r'<definedName name="_xlnm.Print_Titles"[^>]*>([^<]*)<', parts["xl/workbook.xml"])
    assert titles and titles.group(1).endswith(f"!${HEADER_ROW + 1}:${HEADER_ROW + 3}")


def test_workbook_is_deterministic():
    assert workbook_bytes(2023, STANDARD, ROWS) == workbook_bytes(2023, STANDARD, ROWS)
