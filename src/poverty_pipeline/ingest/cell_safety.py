"""Text that a spreadsheet program must show, never evaluate.

A value a spreadsheet would take for a formula (``=HYPERLINK(…)``, ``+1``, ``@SUM``, a leading
tab or carriage return) is ``formula_like``. A workbook writes such text as a string cell with
the spreadsheet's own quote prefix (a cell format: shown as written, never evaluated, no
apostrophe in the value); ``neutralise`` gives the text with the usual leading apostrophe,
for a file that has no cell formats (CSV).
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet would evaluate."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate."""
    return "'" + value if formula_like(value) else value
