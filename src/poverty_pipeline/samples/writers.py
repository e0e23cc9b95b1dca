"""One submission (the three parts as plain Python values) → the bytes of an xlsx or JSON file."""

from __future__ import annotations

import datetime as dt
import io
import json
import os

import xlsxwriter

from poverty_pipeline.reference.contract import load_contract

SHEETS = ("thong_tin", "tong_hop", "danh_sach_ho")

# constant_memory streams rows through temporary files: on a RAM disk when there is one (their
# creation and removal otherwise dominate the cost of a small workbook).
_TMPDIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def to_json_bytes(parts: dict) -> bytes:
    """``{"thong_tin": {...}, "tong_hop": [...], "danh_sach_ho": [...]}``, UTF-8, compact."""
    doc = {name: parts[name] for name in SHEETS}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _created(parts: dict) -> dt.datetime:
    """A fixed workbook creation time (from ``ngay_lap``) so the bytes are reproducible."""
    text = str(parts["thong_tin"].get("ngay_lap") or "2000-01-01")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = dt.datetime.strptime(text, "%d/%m/%Y").date()
    return dt.datetime(day.year, day.month, day.day, 8, 0, 0)


def to_xlsx_bytes(parts: dict, headers: str = "code") -> bytes:
    """A workbook with the sheets ``thong_tin``, ``tong_hop`` and ``danh_sach_ho``.

    ``headers`` is ``code`` (field codes) or ``label`` (the contract's Vietnamese labels; the
    ``thong_tin`` field names and the date are then written the way a Vietnamese clerk would).
    Columns follow the contract; a value of ``None`` is an empty cell.
    """
    if headers not in ("code", "label"):
        raise ValueError(f"headers must be 'code' or 'label', not {headers!r}")
    contract = load_contract()
    use_label = headers == "label"
    buf = io.BytesIO()
    options: dict = {"constant_memory": True}
    if _TMPDIR:
        options["tmpdir"] = _TMPDIR
    wb = xlsxwriter.Workbook(buf, options)
    wb.set_properties({"created": _created(parts), "author": "poverty_pipeline.samples"})
    bold = wb.add_format({"bold": True})

    sheet = contract.sheets["thong_tin"]
    ws = wb.add_worksheet("thong_tin")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 28)
    key = sheet.key_header["label" if use_label else "code"]
    value = sheet.value_header["label" if use_label else "code"]
    ws.write_string(0, 0, key, bold)
    ws.write_string(0, 1, value, bold)
    info = parts["thong_tin"]
    for r, fld in enumerate(sheet.fields, start=1):
        ws.write_string(r, 0, fld.label if use_label else fld.code)
        v = info.get(fld.code)
        if fld.code == "ngay_lap" and use_label and v:
            v = dt.date.fromisoformat(v).strftime("%d/%m/%Y")
        write_cell(ws, r, 1, v)

    for name in ("tong_hop", "danh_sach_ho"):
        sheet = contract.sheets[name]
        ws = wb.add_worksheet(name)
        codes = sheet.codes
        for col, fld in enumerate(sheet.fields):
            ws.write_string(0, col, fld.label if use_label else fld.code, bold)
        write_number, write_string = ws.write_number, ws.write_string
        for r, row in enumerate(parts[name], start=1):
            for col, code in enumerate(codes):
                v = row.get(code)
                if v is None:
                    continue
                if type(v) is str:
                    write_string(r, col, v)
                else:
                    write_number(r, col, v)
    wb.close()
    return buf.getvalue()


def write_cell(ws, row: int, col: int, v: object) -> None:
    """Write a value of a sample as its type (text or number); leave the cell empty for None."""
    if v is None:
        return
    if isinstance(v, str):
        ws.write_string(row, col, v)
    else:
        ws.write_number(row, col, v)
