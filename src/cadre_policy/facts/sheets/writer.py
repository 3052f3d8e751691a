"""The spreadsheet layout written out: the template, and the store as XLSX or CSV.

The template is an export with no rows. Each sheet has its Chinese headers (bold,
frozen), a drop-down (data validation) on every enumeration and 是/否 column, and
date-formatted date columns; the sheet 说明 explains every column. Rows are
streamed (openpyxl write-only mode; one CSV writer per sheet), so the export of a
large store holds one chunk of cadres at a time.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from contextlib import ExitStack
from typing import IO, Iterable, Iterator

from cadre_policy.facts.sheets.layout import NOTES_SHEET, SHEETS, Column, Sheet, describe, values_text
from cadre_policy.render.spreadsheet import csv_text, xlsx_value

_LAST_ROW = 1048576
_DATE_FORMAT = "yyyy-mm-dd"


def _shown(column: Column, value):
    """The cell value of a field value (labels for codes, 是/否, dates as dates)."""
    if value is None:
        return None
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "enum":
        return column.labels.get(value, value)
    if column.kind == "flags":
        return "、".join(column.labels.get(v, v) for v in value) or None
    return value


def _row(sheet: Sheet, record: dict, cadre: dict | None = None, review: dict | None = None) -> tuple:
    out = []
    for column in sheet.columns:
        if column.field == "cadre":
            value = cadre["id"]
        elif column.field == "review_date":
            value = review["date"]
        elif column.field.startswith("recruitment."):
            value = (record.get("recruitment") or {}).get(column.leaf)
        else:
            value = record.get(column.field)
        out.append(_shown(column, value))
    return tuple(out)


def rows(units: Iterable[dict], chunks: Iterable[list[dict]]) -> Iterator[tuple[str, tuple]]:
    """(sheet key, row values) for every unit, cadre and record, in store order."""
    for unit in units:
        yield "units", _row(SHEETS[0], unit)
    by_key = {s.key: s for s in SHEETS}
    for chunk in chunks:
        for cadre in chunk:
            yield "cadres", _row(by_key["cadres"], cadre)
            for sheet in SHEETS[2:]:
                if sheet.key == "rectification":
                    for review in cadre["reviews"]:
                        for check in review.get("rectification", ()):
                            yield "rectification", _row(sheet, check, cadre, review)
                else:
                    for record in cadre[sheet.key]:
                        yield sheet.key, _row(sheet, record, cadre)


def _validation(column: Column):
    from openpyxl.worksheet.datavalidation import DataValidation
    choices = ["是", "否"] if column.kind == "bool" else list(column.labels.values())
    return DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                          showErrorMessage=True, errorStyle="warning", errorTitle=column.header,
                          error="请从下拉列表中选择：" + values_text(column),
                          promptTitle=column.header, prompt=column.note[:255] or None,
                          showInputMessage=bool(column.note))


def _sheet(book, sheet: Sheet):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    ws = book.create_sheet(sheet.name)
    for n, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(n)
        dim = ws.column_dimensions[letter]
        dim.width = max(12, 2 * len(column.header) + 4)
        if column.kind == "date":  # not 出生年月: 1975.04 typed into a date cell becomes 1905-05-28
            dim.number_format = _DATE_FORMAT
        if column.kind in ("enum", "bool"):
            dv = _validation(column)
            dv.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.data_validations.append(dv)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in sheet.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    return ws


def _notes(book) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    ws = book.create_sheet(NOTES_SHEET)
    for letter, width in zip("ABCDEFG", (10, 14, 28, 30, 6, 60, 40)):
        ws.column_dimensions[letter].width = width
    bold = Font(bold=True)
    title = []
    for text in ("工作表", "列名", "字段", "类型", "必填", "可选值", "说明"):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        title.append(cell)
    ws.append(title)
    for row in describe():
        ws.append(list(row))


def write_xlsx(out: IO[bytes], data: Iterable[tuple[str, tuple]]) -> int:
    """Write the layout with ``data`` rows (see :func:`rows`; none for the template) as XLSX.

    Returns:
        The number of data rows written.
    """
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheets = {s.key: _sheet(book, s) for s in SHEETS}
    n = 0
    for key, values in data:
        ws = sheets[key]
        ws.append([xlsx_value(ws, v) for v in values])
        n += 1
    _notes(book)
    book.save(out)
    return n


def _csv_value(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_text(value)
    return value


def write_csv_folder(folder: str, data: Iterable[tuple[str, tuple]], open_file) -> int:
    """Write one UTF-8 (BOM) CSV file per sheet, ``SHEET.csv``, into ``folder``.

    Args:
        folder: The target folder (made if missing).
        data: Rows as from :func:`rows`.
        open_file: Opens one target file for text writing (``cli.output.open_output``-like).

    Returns:
        The number of data rows written.
    """
    os.makedirs(folder, exist_ok=True)
    with ExitStack() as stack:
        writers = {}
        for sheet in SHEETS:
            stream = stack.enter_context(open_file(os.path.join(folder, f"{sheet.name}.csv")))
            stream.write("\ufeff")
            writers[sheet.key] = csv.writer(stream)
            writers[sheet.key].writerow([c.header for c in sheet.columns])
        n = 0
        for key, values in data:
            writers[key].writerow([_csv_value(v) for v in values])
            n += 1
    return n
