"""Where sheet rows come from: an XLSX workbook (calamine, or openpyxl read-only) or CSV files.

Each source yields rows of raw cell values, row 1 being the header. openpyxl and
the CSV reader stream rows; calamine loads one sheet at a time, when its rows are asked for,
and lets it go once they are read.

What is refused before any row is read, each with its place: sheets and CSV files
whose name is no sheet of the layout (the sheet 说明 is skipped), merged cells, and
formula cells without a cached value (a file written by a program that does not
compute formulas). A CSV file is UTF-8 (with or without BOM) or, failing that,
GB18030 (what Excel on a Chinese system saves); a text cell written as ``'=…`` (the
formula-injection escape of our CSV export) is read without the quote.
"""
from __future__ import annotations

import codecs
import csv
import difflib
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from xml.etree.ElementTree import iterparse

from cadre_policy.parse.issues import Issue
from cadre_policy.intake.sheets.layout import BY_NAME, NOTES_SHEET, SHEETS, Sheet, sheet_named

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SUSPECT = re.compile(rb"<(?:\w+:)?(?:f|mergeCell)[\s>/]")
_CHUNK = 1 << 20
#: What a damaged file raises while its rows are read (XML ParseError is a SyntaxError).
_DAMAGED = (OSError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, SyntaxError, EOFError, csv.Error)


class SheetUnreadable(Exception):
    """A sheet's rows cannot be read to the end (a damaged file); the message says why."""


@dataclass
class SheetSource:
    """The rows of one sheet (or CSV file).

    Attributes:
        sheet: Its layout entry.
        file: The file name shown in error places.
        rows: Opens a fresh iterator over the rows (sequences of raw values).
        issues: Problems found before reading rows (merged cells, formulas).
    """

    sheet: Sheet
    file: str
    rows: Callable[[], Iterator[tuple]]
    issues: list[Issue] = field(default_factory=list)

    def read(self) -> Iterator[tuple]:
        """The rows; a damaged file raises :class:`SheetUnreadable` instead of its own error."""
        try:
            yield from self.rows()
        except _DAMAGED as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise SheetUnreadable(f"cannot read sheet {self.sheet.name}: {reason}") from None


def _issue(file: str, cell: str, message: str, path: str = "") -> Issue:
    return Issue(file, 0, 0, path, message, cell=cell)


def _unknown_sheet(file: str, name: str, cell: str) -> Issue:
    close = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=0.3)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (sheets: {'、'.join(BY_NAME)})"
    return _issue(file, cell, f"unknown sheet '{name}'{hint}")


# --- XLSX -------------------------------------------------------------------------------------

#: Uncompressed sizes a workbook's parts may have. A sheet of a million rows unpacks to a few hundred
#: MB of XML at ratios near 10:1; a zip bomb (1 MB holding 1 GiB of blanks) is refused before a byte
#: is inflated. The shared strings are read whole by both readers, so they get the smaller bound.
MAX_PART = 1_000_000_000
MAX_SHARED_STRINGS = 200_000_000
MAX_RATIO = 100                        # uncompressed : compressed, for parts over RATIO_FROM bytes
RATIO_FROM = 20_000_000


def _oversized(archive: zipfile.ZipFile) -> str | None:
    """Why the archive is refused unread (a part too big, or packed beyond any real sheet), or None.

    The sizes are the archive's own declarations; zipfile stops inflating a part at its declared size.
    """
    for info in archive.infolist():
        limit = MAX_SHARED_STRINGS if info.filename.endswith("sharedStrings.xml") else MAX_PART
        if info.file_size > limit:
            return f"part {info.filename} unpacks to {info.file_size:,} bytes (at most {limit:,})"
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            return (f"part {info.filename} unpacks {info.compress_size:,} bytes to {info.file_size:,} "
                    f"(more than {MAX_RATIO}:1: not a real sheet)")
    return None


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML part inside the archive."""
    rels = {}
    with archive.open("xl/_rels/workbook.xml.rels") as src:
        for _, el in iterparse(src):
            if el.tag == f"{_NS_PKG_REL}Relationship":
                target = el.get("Target", "")
                rels[el.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    parts = {}
    with archive.open("xl/workbook.xml") as src:
        for _, el in iterparse(src):
            if el.tag == f"{_NS_MAIN}sheet":
                parts[el.get("name")] = rels.get(el.get(f"{_NS_REL}id"), "")
    return parts


def _suspect(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether the part has a formula or a merged cell at all (a fast byte scan)."""
    tail = b""
    with archive.open(part) as src:
        while chunk := src.read(_CHUNK):
            if _SUSPECT.search(tail + chunk):
                return True
            tail = chunk[-32:]
    return False


def _structure_issues(archive: zipfile.ZipFile, part: str, file: str, name: str) -> list[Issue]:
    """Merged ranges and formula cells without a cached value in one sheet part."""
    if not _suspect(archive, part):
        return []
    found = []
    with archive.open(part) as src:
        for _, el in iterparse(src):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "c":
                if el.find(f"{_NS_MAIN}f") is not None and not el.findtext(f"{_NS_MAIN}v"):
                    found.append(_issue(file, f"{name}!{el.get('r')}",
                                        "formula without a cached value (open and save the file in "
                                        "Excel, or paste the values)"))
                el.clear()
            elif tag == "row":
                el.clear()
            elif tag == "mergeCell":
                ref = el.get("ref", "")
                found.append(_issue(file, f"{name}!{ref.split(':')[0]}",
                                    f"merged cells {ref}: unmerge them and fill every cell"))
    return found


#: The XLSX readers: python-calamine (Rust, the default) reads about 30 times faster than
#: openpyxl and holds the one sheet being read; openpyxl (read-only mode) streams row by row
#: and is the fallback when calamine is not installed. Both give the same values
#: (tests/test_sheets.py runs every case on both).
READERS = ("calamine", "openpyxl")


def default_reader() -> str:
    """calamine when it is installed, else openpyxl."""
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


def _openpyxl_book(path: str):
    from openpyxl import load_workbook
    book = load_workbook(path, read_only=True, data_only=True)

    def rows(name: str) -> Iterator[tuple]:
        ws = book[name]
        ws.reset_dimensions()  # recorded dimensions may be wrong; read what is there
        return ws.iter_rows(values_only=True)
    return book.sheetnames, rows, book.close


def _calamine_book(path: str):
    try:
        from python_calamine import CalamineError, CalamineWorkbook
    except ImportError:
        raise ValueError("the calamine reader is not installed (pip install python-calamine)") from None
    try:
        book = CalamineWorkbook.from_path(path)
    except CalamineError as exc:
        raise ValueError(str(exc)) from None

    def rows(name: str) -> Iterator[tuple]:
        try:
            sheet = book.get_sheet_by_name(name)
            # rows are counted from row 1, columns from the first used one; every number is a
            # float (the reader takes a whole one as an int, as openpyxl gives it)
            pad = [None] * (sheet.start[1] if sheet.start else 0)
            for row in sheet.iter_rows():
                yield pad + row if pad else row
        except CalamineError as exc:
            raise ValueError(str(exc)) from None
    return book.sheet_names, rows, book.close


def xlsx_sources(path: str, reader: str | None = None) -> tuple[list[SheetSource], list[Issue], Callable[[], None]]:
    """The sheets of one workbook.

    Args:
        path: The workbook.
        reader: One of :data:`READERS` (None: :func:`default_reader`).

    Returns:
        ``(sources, issues, close)``: ``close`` releases the workbook when reading is done.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bomb = _oversized(archive)
            if bomb:
                return [], [Issue(path, 0, 0, "$", f"cannot read workbook: {bomb}")], lambda: None
            parts = _sheet_parts(archive)
            structure = {name: _structure_issues(archive, part, path, name)
                         for name, part in parts.items() if sheet_named(name) and part in archive.namelist()}
        names, rows, close = (_calamine_book if (reader or default_reader()) == "calamine" else _openpyxl_book)(path)
    except _DAMAGED as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return [], [Issue(path, 0, 0, "$", f"cannot read workbook: {reason}")], lambda: None
    sources, issues, seen = [], [], {}
    for name in names:
        sheet = sheet_named(name)
        if name.strip() == NOTES_SHEET:
            continue
        if sheet is None:
            issues.append(_unknown_sheet(path, name, f"{name}!A1"))
            continue
        if sheet.key in seen:
            issues.append(_issue(path, f"{name}!A1", f"a second sheet for {sheet.name} (first: {seen[sheet.key]})"))
            continue
        seen[sheet.key] = name
        sources.append(SheetSource(sheet, path, lambda name=name: rows(name), structure.get(name, [])))
    return sources, issues, close


# --- CSV --------------------------------------------------------------------------------------

def _encoding(path: str) -> str:
    """``utf-8-sig`` if the whole file decodes as UTF-8, else ``gb18030``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _unescape(value: str):
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value if value.strip() else None


def _csv_rows(path: str) -> Iterator[tuple]:
    with open(path, encoding=_encoding(path), newline="") as src:
        for row in csv.reader(src):
            yield tuple(_unescape(v) for v in row)


def csv_sources(paths: list[str]) -> tuple[list[SheetSource], list[Issue]]:
    """One source per CSV file, the sheet named by the file name (``任职.csv`` or ``posts.csv``)."""
    sources, issues, seen = [], [], {}
    for path in paths:
        name = Path(path).stem
        sheet = sheet_named(name)
        if sheet is None:
            if name != NOTES_SHEET:
                issues.append(_unknown_sheet(path, name, f"{name}!A1"))
            continue
        if sheet.key in seen:
            issues.append(_issue(path, f"{name}!A1", f"a second file for sheet {sheet.name} "
                                                     f"(first: {seen[sheet.key]})"))
            continue
        seen[sheet.key] = path
        if not os.access(path, os.R_OK):
            issues.append(Issue(path, 0, 0, "$", "cannot read file"))
            continue
        sources.append(SheetSource(sheet, path, lambda p=path: _csv_rows(p)))
    return sources, issues


def folder_files(folder: str) -> list[str]:
    """The CSV files of a folder, in layout order (then by name)."""
    order = {s.name: n for n, s in enumerate(SHEETS)} | {s.key: n for n, s in enumerate(SHEETS)}
    names = sorted((p for p in os.listdir(folder) if p.lower().endswith(".csv")),
                   key=lambda p: (order.get(Path(p).stem, len(order)), p))
    return [os.path.join(folder, p) for p in names]
