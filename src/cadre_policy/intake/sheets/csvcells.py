"""CSV cell values that a spreadsheet program shows as written, never runs.

A CSV cell starting with ``= + - @`` (or a tab or carriage return) would be taken
for a formula by Excel or LibreOffice (formula injection); it is written with a
leading ``'``, which those programs show as text. (XLSX needs no escape: text is
written as string cells, see ``intake/sheets/writer.py``.)
"""
from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` escaped for a CSV cell."""
    return "'" + value if value.startswith(_FORMULA_START) else value

