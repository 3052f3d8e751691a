"""Tables for spreadsheets: one writer for CSV (UTF-8 with BOM) and XLSX (XlsxWriter).

A renderer describes each table once, as a :class:`Sheet` of :class:`Column` s and rows
(dicts); this module writes it so that Excel on a Chinese Windows opens it right: CSV
starts with a byte-order mark, headers are in the reader's language, and no cell can
run as a formula (OWASP "CSV injection": a text cell starting with ``=``, ``+``, ``-``,
``@``, tab or CR gets a leading apostrophe). In XLSX each table is a sheet with a frozen
header row and columns as wide as their content. Control characters in text cells are
shown as escapes (:func:`cadre_policy.render.terminal.safe`).

XlsxWriter is the project's one XLSX writer (the template and the store's export in
intake/sheets/writer.py use it too, streaming); openpyxl and calamine only read workbooks
(the import, and tests that read the written cells back).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import IO, Iterable, Sequence

from rich.cells import cell_len

from cadre_policy.i18n import _
from cadre_policy.render.terminal import safe

_MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    """One column: the row key it shows and its header (a catalogue message)."""
    key: str
    title: str


@dataclass
class Sheet:
    """A table: its sheet name (a catalogue message), columns and rows (dicts by column key)."""
    name: str
    columns: Sequence[Column]
    rows: Iterable[dict] = field(default_factory=list)

    def headers(self) -> list[str]:
        return [_(c.title) for c in self.columns]


def cell(value):
    """A value as a spreadsheet cell: numbers as numbers, text escaped (never a formula).

    >>> cell("=HYPERLINK(\\"x\\")"), cell("-3"), cell(-3), cell("王\\x1b伟"), cell(None)
    ('\\'=HYPERLINK("x")', "'-3", -3, '王\\\\x1b伟', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float)):
        return value
    return safe(_csv_text()(str(value)))


def _csv_text():
    """``intake.sheets.csvcells.csv_text``, imported when a cell is first written: importing the
    spreadsheet package loads openpyxl, which a command printing no table does not need."""
    global _CSV_TEXT
    if _CSV_TEXT is None:
        from cadre_policy.intake.sheets.csvcells import csv_text
        _CSV_TEXT = csv_text
    return _CSV_TEXT


_CSV_TEXT = None


def write_csv(sheet: Sheet, out: IO[str]) -> None:
    """One table as CSV: a BOM, the headers, the rows (``out`` opened with ``newline=""``)."""
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in sheet.headers()])
    for row in sheet.rows:
        writer.writerow([cell(row.get(c.key)) for c in sheet.columns])


def write_xlsx(sheets: Iterable[Sheet], out: IO[bytes]) -> None:
    """One workbook, a sheet per table: frozen bold header row, columns as wide as their content."""
    import xlsxwriter
    book = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False, "in_memory": True})
    bold = book.add_format({"bold": True})
    for sheet in sheets:
        rows = [[cell(row.get(c.key)) for c in sheet.columns] for row in sheet.rows]
        headers = [cell(h) for h in sheet.headers()]
        ws = book.add_worksheet(_(sheet.name)[:31])
        ws.write_row(0, 0, headers, bold)
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, row)
        ws.freeze_panes(1, 0)
        for i, header in enumerate(headers):
            widest = max([cell_len(str(header))] + [cell_len(str(r[i])) for r in rows])
            ws.set_column(i, i, min(widest + 2, _MAX_WIDTH))
    book.close()
