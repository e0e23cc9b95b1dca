"""Read a submitted file into sheets of cells: calamine for .xlsx, the json module for .json.

Both formats come out the same shape — each sheet a grid whose first row is the header — so
everything after this module is format-blind. Row numbers are those a person sees: the
spreadsheet's row, or for JSON the item's position in its list (1-based; the header is row 0).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import PurePosixPath


class ReadError(Exception):
    """The file cannot be read as a submission at all."""

    def __init__(self, rule: str, detail: str = "", value: str | None = None):
        super().__init__(detail or rule)
        self.rule, self.detail, self.value = rule, detail, value


@dataclass
class Grid:
    rows: list[list[object]]  # rows[0] is the header row
    header_row_number: int  # the row number a person sees for rows[0]

    def row_number(self, index: int) -> int:
        return self.header_row_number + index


Workbook = dict[str, Grid]

FORMATS = (".xlsx", ".json")


def file_format(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in FORMATS:
        raise ReadError("unsupported_format", value=suffix or name)
    return suffix


def read_workbook(name: str, data: bytes) -> Workbook:
    """Parse the bytes of a landed file named ``name`` into its sheets."""
    return _read_xlsx(data) if file_format(name) == ".xlsx" else _read_json(data)


def _read_xlsx(data: bytes) -> Workbook:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets: Workbook = {}
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=True)
            start_row = sheet.start[0] if sheet.start else 0
            sheets[name] = Grid(rows=[list(r) for r in rows], header_row_number=start_row + 1)
        return sheets
    except Exception as exc:  # calamine raises several types for broken workbooks
        raise ReadError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc


def _read_json(data: bytes) -> Workbook:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ReadError("unreadable_file", "the JSON document is not an object")
    sheets: Workbook = {}
    for name, part in doc.items():
        if isinstance(part, dict):  # thong_tin: field → value
            sheets[name] = Grid(rows=[["truong", "gia_tri"], *([k, v] for k, v in part.items())],
                                header_row_number=0)
        elif isinstance(part, list):
            header: list[str] = []
            for item in part:
                if isinstance(item, dict):
                    header.extend(k for k in item if k not in header)
            rows = [[item.get(k) if isinstance(item, dict) else None for k in header] for item in part]
            sheets[name] = Grid(rows=[list(header), *rows], header_row_number=0)
    return sheets
