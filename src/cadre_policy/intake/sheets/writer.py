"""The spreadsheet layout written out: the template, and the store as XLSX or CSV.

The template is an export with no rows. Each sheet has its Chinese headers (bold,
frozen), a drop-down (data validation) on every enumeration and 是/否 column, and
date-formatted date columns; the sheet 说明 explains every column. Rows are
streamed (XlsxWriter's constant-memory mode; one CSV writer per sheet), so the
export of a large store holds one chunk of cadres at a time. XlsxWriter rather than
openpyxl's write-only mode: it writes the same workbook about twice as fast.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from contextlib import ExitStack
from typing import IO, Iterable, Iterator

from cadre_policy.intake.sheets.layout import NOTES_SHEET, SHEETS, SheetColumn, Sheet, describe
from cadre_policy.intake.sheets.csvcells import csv_text

_LAST_ROW = 1048576
_DATE_FORMAT = "yyyy-mm-dd"


def _shown(column: SheetColumn, value):
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


def _validation(column: SheetColumn) -> dict:
    choices = ["是", "否"] if column.kind == "bool" else list(column.labels.values())
    options = {"validate": "list", "source": choices, "ignore_blank": True, "error_type": "warning",
               "error_title": column.header, "error_message": "请从下拉列表中选择（也可填写代码，见说明表）",
               "input_title": column.header}
    if column.note:
        options["input_message"] = column.note[:255]  # Excel's limit
    return options


def _sheet(book, sheet: Sheet, bold, date):
    ws = book.add_worksheet(sheet.name)
    for n, column in enumerate(sheet.columns):
        # not 出生年月: 1975.04 typed into a date-formatted cell becomes 1905-05-28
        ws.set_column(n, n, max(12, 2 * len(column.header) + 4), date if column.kind == "date" else None)
        if column.kind in ("enum", "bool"):
            ws.data_validation(1, n, _LAST_ROW - 1, n, _validation(column))
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [c.header for c in sheet.columns], bold)
    return ws


def _notes(book, bold) -> None:
    ws = book.add_worksheet(NOTES_SHEET)
    for n, width in enumerate((10, 14, 28, 30, 6, 60, 40)):
        ws.set_column(n, n, width)
    ws.write_row(0, 0, ("工作表", "列名", "字段", "类型", "必填", "可选值", "说明"), bold)
    for r, row in enumerate(describe(), start=1):
        ws.write_row(r, 0, row)


def write_xlsx(out: IO[bytes], data: Iterable[tuple[str, tuple]]) -> int:
    """Write the layout with ``data`` rows (see :func:`rows`; none for the template) as XLSX.

    XlsxWriter in constant-memory mode: rows go to one temporary file per sheet. Text is
    always a string cell (never a formula or a link), dates are date cells.

    Returns:
        The number of data rows written.
    """
    import xlsxwriter
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False,
                                     "default_date_format": _DATE_FORMAT, "use_zip64": True})
    bold, date = book.add_format({"bold": True}), book.add_format({"num_format": _DATE_FORMAT})
    sheets = {s.key: [_sheet(book, s, bold, date), 1] for s in SHEETS}
    n = 0
    for key, values in data:
        target = sheets[key]
        target[0].write_row(target[1], 0, values)
        target[1] += 1
        n += 1
    _notes(book, bold)
    book.close()
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
