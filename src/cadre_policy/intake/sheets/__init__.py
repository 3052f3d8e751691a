"""Cadre records from spreadsheets: XLSX workbooks and CSV files, one sheet per record kind.

:func:`import_paths` reads workbooks, CSV files and folders of CSV files (and YAML/JSON
files given with them) and imports them through the same validation and transaction
as the YAML import (:func:`cadre_policy.intake.importer.import_documents`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from cadre_policy.parse.issues import Issue
from cadre_policy.intake.importer import import_documents, read_files
from cadre_policy.intake.sheets.layout import SHEETS, sheet_named
from cadre_policy.intake.sheets.reader import SheetBook
from cadre_policy.intake.sheets.sources import csv_sources, folder_files, xlsx_sources
from cadre_policy.store.fact_store import FactStore, UpsertResult

XLSX_SUFFIXES = (".xlsx", ".xlsm")
#: Spreadsheet formats refused with a hint (Excel 97-2003, binary Excel, OpenDocument, WPS).
OTHER_SUFFIXES = (".xls", ".xlsb", ".ods", ".et")
_CELL = re.compile(r"(.+)!(?:([A-Z]+)(\d+)|(\d+):\d+)")


@dataclass
class SheetImport:
    """What a spreadsheet import did.

    Attributes:
        result: Units and cadres added, updated, unchanged.
        year_month_births: Cadres whose 出生年月 gave year and month only (read as the 1st).
        blank_rows: Rows without any value, skipped.
        month_only: Per column header (入党时间 …), the dates given as year and month only (the 1st).
    """

    result: UpsertResult
    year_month_births: int = 0
    blank_rows: int = 0
    month_only: dict = field(default_factory=dict)


def is_sheet_path(path: str) -> bool:
    """Whether ``path`` is read as spreadsheets: an XLSX or CSV file, or a folder."""
    return os.path.isdir(path) or path.lower().endswith(XLSX_SUFFIXES + OTHER_SUFFIXES + (".csv",))


def read_books(paths: list[str], reader: str | None = None) -> tuple[list[SheetBook], list[Issue]]:
    """Read every workbook (with ``reader``, see :data:`.sources.READERS`; None: the default), folder and
    (together, as one book) the loose CSV files."""
    books, issues = [], []
    loose = [p for p in paths if p.lower().endswith(".csv") and not os.path.isdir(p)]
    groups = []
    for path in paths:
        if os.path.isdir(path):
            files = folder_files(path)
            if not files:
                issues.append(Issue(path, 0, 0, "$", "no .csv files in this folder"))
            groups.append((path, files))
        elif path.lower().endswith(XLSX_SUFFIXES):
            groups.append((path, None))
        elif path.lower().endswith(OTHER_SUFFIXES):
            issues.append(Issue(path, 0, 0, "$", "not an .xlsx workbook: save it as Excel 工作簿 (.xlsx)"))
    if loose:
        groups.append((loose[0], loose))
    for name, files in groups:
        book = SheetBook(name)
        if files is None:
            sources, found, close = xlsx_sources(name, reader)
        else:
            (sources, found), close = csv_sources(files), (lambda: None)
        try:
            book.issues.extend(found)
            book.read(sources)
        finally:
            close()
        books.append(book)
        issues.extend(book.issues)
    return books, issues


def _sort_key(order: dict[str, int]):
    sheets = {s.name: n for n, s in enumerate(SHEETS)}

    def key(issue: Issue):
        place = (0, 0, 0)
        m = _CELL.fullmatch(issue.cell) if issue.cell else None
        if m:
            sheet = sheet_named(m.group(1))
            col = 0
            for ch in m.group(2) or "":
                col = col * 26 + ord(ch) - 64
            place = (sheets.get(sheet.name, -1) if sheet else -1, int(m.group(3) or m.group(4)), col)
        return (order.get(issue.file, len(order)),) + place + (issue.line, issue.column, issue.path)
    return key


def import_paths(store: FactStore, paths: list[str], reader: str | None = None) -> SheetImport:
    """Validate workbooks, CSV files/folders and YAML/JSON files together; upsert all or nothing.

    Args:
        store: The fact store.
        paths: Files and folders, as on the command line.
        reader: The XLSX reader (:data:`.sources.READERS`; None: calamine when installed, else openpyxl).

    Raises:
        ImportRejected: With every issue, each with its ``FILE:SHEET!CELL`` (or
            ``file:line:column``) place; the store is left untouched.
    """
    books, issues = read_books(paths, reader)
    others = [p for p in paths if not is_sheet_path(p)]
    docs, found = read_files(others)
    order = {p: n for n, p in enumerate(paths)}
    for book in books:
        for n, file in enumerate(folder_files(book.file) if os.path.isdir(book.file) else ()):
            order.setdefault(file, order[book.file] + (n + 1) / 1000)
    result = import_documents(store, docs + books, found + issues, key=_sort_key(order),
                              keep=lambda x: not any(b.repeats(x) for b in books))
    month_only: dict[str, int] = {}
    for book in books:
        for header, n in book.month_only.items():
            month_only[header] = month_only.get(header, 0) + n
    return SheetImport(result, sum(b.year_month_births for b in books), sum(b.blank_rows for b in books), month_only)
