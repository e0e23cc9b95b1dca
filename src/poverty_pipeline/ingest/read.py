"""Read a submitted file into sheets of cells: calamine for .xlsx, the json module for .json.

Both formats come out the same shape — each sheet a grid whose first row is the header — so
everything after this module is format-blind. Row numbers are those a person sees: the
spreadsheet's row, or for JSON the item's position in its list (1-based; the header is row 0).

Bad input is refused before it can cost much: a file over ``MAX_FILE_BYTES`` is never read
(discover.py does not read it either), and a workbook is a zip whose members are inflated here,
counted, before calamine sees it, so a zip bomb stops at ``MAX_UNPACKED_BYTES``. Formulas are
never evaluated: calamine returns the value the spreadsheet program saved with the formula.
What can be decoded is decoded: JSON in UTF-8 with or without BOM, UTF-16, Windows-1258, TCVN3
or VNI, and spreadsheet text typed in TCVN3 or VNI fonts, all become Unicode (the legacy ones
with a warning). Merged cells hold their value in every cell they cover, as a person sees them.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from poverty_pipeline.ingest import sheet_extent, vietnamese_encodings
from poverty_pipeline.ingest.limits import LIMITS
from poverty_pipeline.ingest.problems import Problem, problem
from poverty_pipeline.ingest.problems import name as name_of

MAX_FILE_BYTES = LIMITS.file_bytes  # a province-wide commune file is a few MB
MAX_UNPACKED_BYTES = LIMITS.unpacked_bytes  # what a workbook may inflate to
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 files and encrypted workbooks
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


class ReadError(Exception):
    """The file cannot be read as a submission at all."""

    def __init__(self, rule: str, detail: str = "", value: str | None = None):
        super().__init__(detail or rule)
        self.rule, self.detail, self.value = rule, detail, value


@dataclass
class Grid:
    rows: list[list[object]]  # rows[0] is the header row
    header_row_number: int  # the row number a person sees for rows[0]
    shape: str = "table"  # JSON: "object" (field → value), "list" (items), "scalar" (neither)
    hidden: bool = False  # a workbook sheet its author hid
    originals: dict[str, str] = field(default_factory=dict)  # the workbook's, see Workbook

    def row_number(self, index: int) -> int:
        return self.header_row_number + index


class Workbook(dict[str, Grid]):
    """The sheets of a file by name, and what reading found wrong with the file as a whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems: list[Problem] = []
        self.originals: dict[str, str] = {}  # text converted from a legacy encoding → as it was


FORMATS = (".xlsx", ".json")


def file_format(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in FORMATS:
        raise ReadError("unsupported_format", value=suffix or name)
    return suffix


def read_workbook(name: str, data: bytes | None) -> Workbook:
    """Parse the bytes of a landed file named ``name`` into its sheets. ``data`` is None for a
    file that was not read because it is over ``MAX_FILE_BYTES``."""
    suffix = file_format(name)
    if data is None or len(data) > MAX_FILE_BYTES:
        raise ReadError("file_too_large", value=name)
    if not data.strip():
        raise ReadError("empty_file", value=name)
    # The content decides, not the name: a JSON file saved as .xlsx is still read.
    if data.startswith(b"PK"):
        return _read_xlsx(data)
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise ReadError("encrypted_file", value=name)
        raise ReadError("unreadable_file", "an Excel 97-2003 (.xls) file, not .xlsx", value=name)
    if suffix == ".xlsx" and not data.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").startswith((b"{", b"[")):
        raise ReadError("unreadable_file", "not an Excel .xlsx workbook", value=name)
    return _read_json(data)


def _check_zip(data: bytes) -> None:
    """Inflate every member, counting, so calamine only sees an archive of bounded size whose
    members are what their headers say, and whose sheets reach no further than the bounds
    (``sheet_extent``: a cell at XFD1048576 would make calamine allocate its whole grid)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > MAX_UNPACKED_BYTES:
            raise ReadError("zip_bomb", f"{declared / 2**20:,.0f} MB")
        total = cells = 0
        labels = _sheet_labels(archive)
        for member in members:
            scan = sheet_extent.MemberScan(labels.get(member.filename) or _member_name(member.filename))
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise ReadError("zip_bomb", f"> {MAX_UNPACKED_BYTES / 2**20:,.0f} MB")
                    scan.feed(chunk)
            cells += scan.cells_written(rescan=lambda m=member: _chunks(archive, m))
            if cells > LIMITS.workbook_cells:
                raise ReadError("sheet_too_large",
                                f"the sheets have more than {LIMITS.workbook_cells:,} cells")
    except sheet_extent.ExtentError as exc:
        raise ReadError("sheet_too_large", exc.detail) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise ReadError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc


def _chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo):
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            yield chunk


def _member_name(name: str) -> str:
    """A zip member as the messages name it (``xl/worksheets/sheet3.xml``), bounded."""
    return f"part {name_of(name)}"


_SHEET = re.compile(rb"<(?:\w+:)?sheet\s[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_ATTRIBUTE = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
LABEL_BYTES = 1 << 20  # what of the workbook's sheet list is read to name the sheets


def _sheet_labels(archive: zipfile.ZipFile) -> dict[str, str]:
    """Zip member → "sheet '<name>'", from the workbook's sheet list and its relationships
    (read bounded: they may lie), so a message names the sheet its author sees."""

    def read(member: str) -> bytes:
        try:
            with archive.open(member) as stream:
                return stream.read(LABEL_BYTES)
        except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
            return b""

    def attributes(tag: bytes) -> dict[str, str]:
        return {k.decode("ascii", "replace").rsplit(":", 1)[-1]: html.unescape(v.decode("utf-8", "replace"))
                for k, v in _ATTRIBUTE.findall(tag)}

    targets = {}
    for tag in _RELATIONSHIP.findall(read("xl/_rels/workbook.xml.rels")):
        a = attributes(tag)
        target = a.get("Target", "")
        targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    labels = {}
    for tag in _SHEET.findall(read("xl/workbook.xml")):
        a = attributes(tag)
        if (member := targets.get(a.get("id"))) and "name" in a:
            labels[member] = f"sheet '{name_of(a['name'])}'"
    return labels


def _read_xlsx(data: bytes) -> Workbook:
    from python_calamine import CalamineWorkbook, PasswordError, SheetVisibleEnum

    _check_zip(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = {m.name: m.visible == SheetVisibleEnum.Visible for m in book.sheets_metadata}
        sheets = Workbook()
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = [list(r) for r in sheet.to_python(skip_empty_area=True)]
            start = sheet.start or (0, 0)
            _fill_merged(rows, sheet.merged_cell_ranges or [], start)
            sheets[name] = Grid(rows=rows, header_row_number=start[0] + 1, hidden=not visible.get(name, True))
    except PasswordError as exc:
        raise ReadError("encrypted_file") from exc
    except Exception as exc:  # calamine raises several types for broken workbooks
        raise ReadError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc
    _decode_legacy_text(sheets)
    return sheets


def _fill_merged(rows: list[list[object]], ranges, start: tuple[int, int]) -> None:
    """Give every cell of a merged range the value of its top-left cell (calamine gives it only
    there): a header merged over two rows, a hamlet merged over its households."""
    for (r0, c0), (r1, c1) in ranges:
        top, left = r0 - start[0], c0 - start[1]
        if not (0 <= top < len(rows) and 0 <= left < len(rows[top])):
            continue
        value = rows[top][left]
        for r in range(max(top, 0), min(r1 - start[0], len(rows) - 1) + 1):
            for c in range(max(left, 0), min(c1 - start[1], len(rows[r]) - 1) + 1):
                rows[r][c] = value


def _decode_legacy_text(sheets: Workbook) -> None:
    """Convert text typed in TCVN3 or VNI fonts to Unicode, cells and sheet names alike."""
    try:  # the distinct cells, gathered in C
        cells = set().union(*(row for grid in sheets.values() for row in grid.rows))
    except TypeError:  # an unhashable cell (a JSON list or object)
        cells = [c for grid in sheets.values() for row in grid.rows for c in row]
    encoding = vietnamese_encodings.decode_texts([*(c for c in cells if isinstance(c, str)), *sheets])
    if encoding is None:
        return
    def decode(cell: object) -> object:
        if not isinstance(cell, str):
            return cell
        converted = vietnamese_encodings.decode_cell(cell, encoding)
        if converted != cell:
            sheets.originals.setdefault(converted, cell)
        return converted

    for name in list(sheets):
        grid = sheets.pop(name)
        grid.rows = [[decode(c) for c in row] for row in grid.rows]
        sheets[decode(name)] = grid
        grid.originals = sheets.originals
    sheets.problems.append(problem("legacy_encoding", value=encoding))


# A multi-byte UTF-8 sequence: legacy Vietnamese bytes (TCVN3, VNI, Windows-1258) practically
# never form one, a UTF-8 file with Vietnamese text is full of them.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode_json_bytes(data: bytes) -> tuple[str, str | None]:
    """The text of a JSON file and, when it was not UTF-8, the encoding it was in.

    A file with UTF-8 sequences and an invalid byte is a damaged UTF-8 file: rejected, not
    read in a legacy encoding that would garble every name. A file with none is read in the
    legacy encoding that reads all of it as Vietnamese, if one does."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None  # "Unicode" as Windows Notepad saves it
        except UnicodeDecodeError as exc:
            raise ReadError("invalid_encoding", f"UTF-16, byte {exc.start:,}") from exc
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"line {line:,}, byte 0x{data[exc.start]:02x}"
        if _UTF8_SEQUENCE.search(data):
            raise ReadError("invalid_encoding", f"UTF-8, {where}") from exc
        decoded = vietnamese_encodings.decode_bytes(data)
        if decoded is None:
            raise ReadError("invalid_encoding", where) from exc
        return decoded


class _Object(dict):
    """A JSON object that remembers its members in order, duplicates included."""

    pairs: list[tuple[str, object]]
    duplicates: list[str]


def _object(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object(pairs)
    obj.pairs = pairs
    obj.duplicates = []
    if len(obj) < len(pairs):  # only then is a key there twice
        seen: set[str] = set()
        obj.duplicates = [k for k, _ in pairs if k in seen or seen.add(k)]
    return obj


def _read_json(data: bytes) -> Workbook:
    text, encoding = _decode_json_bytes(data)
    try:
        # NaN and Infinity stay text, so they are reported as values that are not numbers.
        doc = json.loads(text, object_pairs_hook=_object, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise ReadError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc
    except RecursionError as exc:
        raise ReadError("unreadable_file", "the JSON document is nested too deeply") from exc
    if not isinstance(doc, dict):
        raise ReadError("unreadable_file", "the JSON document is not an object")
    for part_name, part in doc.items():
        if isinstance(part, list) and len(part) > LIMITS.sheet_rows:
            raise ReadError("sheet_too_large", f"list '{name_of(part_name)}' has {len(part):,} items; "
                                               f"a sheet may have {LIMITS.sheet_rows:,} rows")
    sheets = Workbook()
    if encoding:
        sheets.problems.append(problem("legacy_encoding", value=encoding))
    for key in doc.duplicates:
        sheets.problems.append(problem("duplicate_key", sheet=key, value=key))
    for name, part in doc.items():
        if isinstance(part, dict):  # thong_tin: field → value, duplicates kept as rows
            sheets[name] = Grid(rows=[["truong", "gia_tri"], *([k, v] for k, v in part.pairs)],
                                header_row_number=0, shape="object")
        elif isinstance(part, list):
            header: list[str] = []  # every key of the items, in the order they first come
            known: set[str] = set()
            for i, item in enumerate(part, start=1):
                if isinstance(item, dict):
                    if not known.issuperset(item):
                        for key in item:
                            if key not in known:
                                known.add(key)
                                header.append(key)
                    sheets.problems.extend(problem("duplicate_key", sheet=name, row_number=i, column=k,
                                                   value=k) for k in item.duplicates)
                else:
                    sheets.problems.append(problem("not_an_object", sheet=name, row_number=i,
                                                   value=json.dumps(item, ensure_ascii=False)))
            rows = [list(map(item.get, header)) if isinstance(item, dict) else [None] * len(header)
                    for item in part]
            sheets[name] = Grid(rows=[list(header), *rows], header_row_number=0, shape="list")
        else:
            sheets[name] = Grid(rows=[], header_row_number=0, shape="scalar")
    _decode_legacy_text_json(sheets)
    return sheets


def _decode_legacy_text_json(sheets: Workbook) -> None:
    """A UTF-8 JSON file whose text was exported from a TCVN3 or VNI database."""
    if any(p.rule == "legacy_encoding" for p in sheets.problems):
        return
    _decode_legacy_text(sheets)

