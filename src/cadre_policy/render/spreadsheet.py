"""Cell values that a spreadsheet program shows as written, never runs.

A CSV cell starting with ``= + - @`` (or a tab or carriage return) would be taken
for a formula by Excel or LibreOffice (formula injection); it is written with a
leading ``'``, which those programs show as text. In XLSX, openpyxl would store a
string starting with ``=`` as a formula; :func:`xlsx_value` makes it a string cell.
"""
from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """``value`` escaped for a CSV cell."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def xlsx_value(ws, value):
    """``value`` for a write-only openpyxl sheet; text starting with ``=`` as a literal string cell."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value
