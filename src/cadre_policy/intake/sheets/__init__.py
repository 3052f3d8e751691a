"""Cadre records from spreadsheets: XLSX workbooks and CSV files, one sheet per record kind.

:func:`import_paths` reads workbooks, CSV files and folders of CSV files (and YAML/JSON
files given with them) and imports them through the same validation as the YAML import
(:mod:`cadre_policy.intake.importer`), in one transaction. A workbook's cadres are joined
to their records, validated and written a round of :data:`ROUND` cadres at a time
(:meth:`.reader.SheetBook.parts`), so memory holds one round, not the workbook; the first
problem stops the writing, every problem is still reported, and the transaction is rolled back.
"""
from __future__ import annotations

import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from cadre_policy.parse.issues import ImportRejected, Issue
from cadre_policy.intake.importer import _Checker, document_issues, read_files
from cadre_policy.record.canonical import canonical_cadre, canonical_unit
from cadre_policy.intake.sheets.layout import SHEETS, sheet_named
from cadre_policy.intake.sheets.reader import SheetBook
from cadre_policy.intake.sheets.sources import csv_sources, folder_files, xlsx_sources
from cadre_policy.store.fact_store import FactStore, UpsertResult

XLSX_SUFFIXES = (".xlsx", ".xlsm")
#: Spreadsheet formats refused with a hint (Excel 97-2003, binary Excel, OpenDocument, WPS).
OTHER_SUFFIXES = (".xls", ".xlsb", ".ods", ".et")
_CELL = re.compile(r"(.+)!(?:([A-Z]+)(\d+)|(\d+):\d+)")
#: Cadres joined, validated and written per round (as the streamed YAML/JSON import's batches).
ROUND = 2000


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
    (together, as one book) the loose CSV files. The issues are those of the paths; each book has its own."""
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
    with _old_objects_unscanned():
        books, issues = read_books(paths, reader)
        others = [p for p in paths if not is_sheet_path(p)]
        docs, found = read_files(others)
        order = {p: n for n, p in enumerate(paths)}
        for book in books:
            for n, file in enumerate(folder_files(book.file) if os.path.isdir(book.file) else ()):
                order.setdefault(file, order[book.file] + (n + 1) / 1000)
        result = store.upsert_batches(_rounds(store, docs, books, found + issues, _sort_key(order)))
    month_only: dict[str, int] = {}
    for book in books:
        for header, n in book.month_only.items():
            month_only[header] = month_only.get(header, 0) + n
    return SheetImport(result, sum(b.year_month_births for b in books), sum(b.blank_rows for b in books), month_only)


@contextmanager
def _old_objects_unscanned():
    """Keep what was alive before the import (the modules, the store) out of the full garbage
    collections its rounds set off: scanning it again and again cost ≈ 10 % of the CPU."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _rounds(store: FactStore, docs: list, books: list[SheetBook], issues: list[Issue], key):
    """Validate and yield ``(units, cadres)`` to write: the units and the YAML/JSON documents'
    cadres, then each book's cadres a round at a time; nothing more once a problem is found.
    At the end, raise :class:`ImportRejected` with every problem (in ``key`` order), if any.

    The checks and their order are :func:`cadre_policy.intake.importer.validate`'s: every unit
    id is known before any cadre is checked, and ids are registered in file order.
    """
    checker, found = _Checker(store.units().keys()), []
    wholes = docs + [book.units_part() for book in books]
    for doc in wholes:
        found += document_issues(doc)
        checker.collect_ids(doc)
    for doc in wholes:
        checker.check_units(doc)
        checker.check_cadres(doc)

    def clean() -> bool:
        return not (issues or found or checker.issues or any(book.issues for book in books))
    if clean():
        yield ([canonical_unit(u) for doc in wholes for u in doc.data.get("units") or ()],
               [canonical_cadre(c) for doc in docs for c in doc.data.get("cadres") or ()])
    for book in books:
        for part in book.parts(ROUND):
            found += document_issues(part)
            checker.collect_ids(part)
            checker.check_cadres(part)
            if clean():
                yield [], [canonical_cadre(c) for c in part.data["cadres"]]
            part.release()
    # a reader's problem is not repeated by the validation at the same place
    problems = issues + [x for book in books for x in book.issues] + \
        [x for x in found + checker.issues if not any(book.repeats(x) for book in books)]
    if problems:
        raise ImportRejected(sorted(problems, key=key))
