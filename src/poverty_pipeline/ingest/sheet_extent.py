"""How far a workbook's sheets reach, read off their XML while the zip is inflated.

calamine builds each sheet as a dense grid from its first to its last cell, so one value at
``XFD1048576`` asks for 17 billion cells. Before calamine opens a workbook, every zip member is
scanned as it is inflated (``read._check_zip``): the extent a sheet declares
(``<dimension ref>``) and the cells it holds (``<c r="…">``) must lie within the bounds of
``reference/contracts/limits.yml``, and the cells holding something, all sheets together, are counted.

The scan must cost little beside reading: it works on bytes, not on a parsed tree. Each chunk
is translated (upper-case letters → ``A``, digits → ``0``, white space → a blank), so the width
of a cell reference — how many letters, how many digits — is found by ``bytes.find`` of a few
fixed patterns; a cell's exact row or column is parsed (by a regular expression over every
cell) only when those widths cannot settle the bounds. A member whose cells are not all written
``<c r="A1" …>`` (no reference, attributes in another order, a namespace prefix) is scanned
again tag by tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from poverty_pipeline.ingest.limits import LIMITS

_TRANSLATE = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\t\n\r/>",
                             b"A" * 26 + b"0" * 10 + b" " * 5)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)[0-9]')
_CELL_ROW = re.compile(rb'<c r="[A-Z]+([0-9]+)')
_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)(?=[\s/>])([^>]*?)(/?)>")
_REF = re.compile(rb'\br\s*=\s*["\']([A-Za-z]*)([0-9]*)["\']')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']*)["\']')
_RANGE_END = re.compile(r"([A-Za-z]+)([0-9]+)$")
CARRY_MAX = 1 << 16  # what of a chunk's unfinished tag is kept for the next chunk


class ExtentError(Exception):
    """A sheet reaches beyond the bounds; ``detail`` says where."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def column_number(letters: str | bytes) -> int:
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Bounds:
    rows: int = LIMITS.sheet_rows
    columns: int = LIMITS.sheet_columns

    @property
    def row_digits_to_parse(self) -> int:
        """Row references of this many digits or more may lie beyond the bound (6 for 200,000:
        a reference of fewer digits is below 100,000)."""
        digits = len(str(self.rows))
        return digits + 1 if self.rows == 10**digits - 1 else digits

    @property
    def letters_to_parse(self) -> int:
        """Column references of this many letters or more may lie beyond the bound (3 for ZZ)."""
        letters = len(column_letters(self.columns))
        return letters + 1 if self.columns == column_number("Z" * letters) else letters

    def check(self, where: str, row: int | None = None, column: int | None = None) -> None:
        too_low = row is not None and row > self.rows
        too_wide = column is not None and column > self.columns
        if too_low and too_wide:
            raise ExtentError(f"{where} {column_letters(column)}{row} (row {row:,}, column {column:,}); "
                              f"a sheet may reach row {self.rows:,} and column "
                              f"{column_letters(self.columns)}")
        if too_low:
            raise ExtentError(f"{where} row {row:,}; a sheet may reach row {self.rows:,}")
        if too_wide:
            raise ExtentError(f"{where} column {column_letters(column)} ({column:,}); a sheet may reach "
                              f"column {column_letters(self.columns)} ({self.columns:,})")


class MemberScan:
    """The cells of one zip member (``where`` names it in messages), fed its inflated bytes
    chunk by chunk: each must lie within ``bounds``; they are counted."""

    def __init__(self, where: str, bounds: Bounds | None = None):
        self.where, self.bounds = where, bounds or Bounds()
        self.carry = b""
        self.cells = 0
        self.letters = 0  # the widest column reference seen, in letters
        self.needs_tag_scan = False
        self.first = True

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        cut = data.rfind(b"<")  # every pattern starts with "<": none spans the cut
        if cut <= 0:
            cut = len(data) if len(data) > CARRY_MAX else 0
        segment, self.carry = data[:cut], data[cut:]
        if len(self.carry) > CARRY_MAX:  # a tag this long holds no cell reference
            self.carry = self.carry[-64:]
        if segment:
            self._scan(segment)

    def cells_written(self, rescan=None) -> int:
        """The member's cells (an empty formatted one too), once all lie within the bounds.
        ``rescan`` (a callable giving the member's chunks again) is used when the member needs
        the tag-by-tag scan."""
        if self.carry:
            self._scan(self.carry)
            self.carry = b""
        if self.needs_tag_scan and rescan is not None:
            return tag_scan(self.where, rescan(), self.bounds)
        return self.cells

    def _scan(self, segment: bytes) -> None:
        if self.first:  # the declared extent comes before the cells, in the first bytes
            self.first = False
            if match := _DIMENSION.search(segment):
                self._check_dimension(match.group(1).decode("ascii", "replace"))
        t = segment.translate(_TRANSLATE)
        tags = t.count(b"<c ")  # <c …>, <c>, <c/>: every cell, an empty formatted one too
        refs = t.count(b'<c r="A')
        if tags != refs or b":c " in t:
            self.needs_tag_scan = True
        self.cells += tags
        if not refs:
            return
        for letters in range(3, self.letters, -1):
            if b'<c r="' + b"A" * letters in t:
                self.letters = letters
                break
        if self.letters >= self.bounds.letters_to_parse:
            self._parse_columns(segment)
        if b"A" + b"0" * self.bounds.row_digits_to_parse in t:  # a row that may be too far down
            self._parse_rows(segment)

    def _parse_columns(self, segment: bytes) -> None:
        if letters := set(_CELL_COLUMN.findall(segment)):
            self.bounds.check(f"{self.where} has a cell in",
                              column=column_number(max(letters, key=lambda w: (len(w), w))))

    def _parse_rows(self, segment: bytes) -> None:
        if numbers := set(_CELL_ROW.findall(segment)):
            self.bounds.check(f"{self.where} has a cell on", row=max(int(n) for n in numbers))

    def _check_dimension(self, ref: str) -> None:
        if match := _RANGE_END.search(ref.split(":")[-1]):
            self.bounds.check(f"{self.where} declares its extent to", row=int(match.group(2)),
                              column=column_number(match.group(1)))


def tag_scan(where: str, chunks, bounds: Bounds) -> int:
    """The cells of a member read tag by tag (cells without a reference take the next column
    of their row, as calamine places them): checked against ``bounds``, counted."""
    row = column = cells = 0
    carry = b""

    def scan(segment: bytes) -> None:
        nonlocal row, column, cells
        for closing, tag, attributes, _ in _TAG.findall(segment):
            if closing or tag == b"dimension":
                continue
            ref = _REF.search(attributes)
            if tag == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                column = 0
                continue
            if ref and ref.group(1):
                column = column_number(ref.group(1))
                row = int(ref.group(2)) if ref.group(2) else row
            else:
                column += 1
            bounds.check(f"{where} has a cell at", row=row, column=column)
            cells += 1

    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(b"<")
        segment, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        if len(carry) > CARRY_MAX:
            carry = carry[-64:]
        scan(segment)
    scan(carry)
    return cells
