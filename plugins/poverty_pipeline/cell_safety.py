"""Text that a spreadsheet program must show, never evaluate.

Every workbook or CSV the pipeline writes passes its text cells through ``neutralise``:
a value a spreadsheet would take for a formula (``=HYPERLINK(…)``, ``+1``, ``@SUM``, a leading
tab or carriage return) gets a leading apostrophe, the usual spreadsheet escape.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
