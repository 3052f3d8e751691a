"""Sheet rows to import documents whose issues name the sheet and cell.

A :class:`SheetBook` reads every sheet once, each cell by its column's converter
(:func:`.cells.converter`, chosen from the header once), into the import format (dates as
ISO text). Units are kept; cadre rows and record rows go to a :class:`.spool.Spool` under
their cadre, with the row they came from. :meth:`SheetBook.parts` then joins them cadre by
cadre into documents of a round of cadres each (:class:`.part.SheetPart`), which the shared
validation of :mod:`cadre_policy.intake.importer` checks before the round is written.

Rules of reading (also in docs/spreadsheets.md): row 1 is the header; a header is the
Chinese column name, one of its aliases, or the English field name; an unknown or
repeated header is an error, and so is a missing required column; a row with no
value at all is skipped wherever it is (counted in the report); a value under a
column without header is an error; records name their cadre by 干部编号, which must
be a row of the same import's 干部 sheet (an import replaces a cadre's records).
"""
from __future__ import annotations

import difflib
from array import array
from typing import Iterable, Iterator

from openpyxl.utils import get_column_letter

from cadre_policy.parse.issues import Issue
from cadre_policy.intake.sheets.cells import CellError, converter, is_empty, read_birth
from cadre_policy.intake.sheets.layout import SHEETS, SheetColumn, Sheet
from cadre_policy.intake.sheets.part import SheetPart
from cadre_policy.intake.sheets.sources import SheetSource, SheetUnreadable
from cadre_policy.intake.sheets.spool import Spool


class _Header:
    """The columns one sheet actually has: field → 0-based index."""

    def __init__(self, sheet: Sheet, file: str):
        self.sheet, self.file = sheet, file
        self.index: dict[str, int] = {}
        self.columns: list[SheetColumn | None] = []
        self.refused: set[int] = set()  # headers given but unknown or repeated (reported once)
        #: per column: None, or (field, converter, the column if it is a birth or month column)
        self.readers: list[tuple | None] = []

    def cell(self, field: str | None, row: int) -> str:
        col = self.index.get(field) if field else None
        if col is None:
            return f"{self.sheet.name}!{row}:{row}"
        return f"{self.sheet.name}!{get_column_letter(col + 1)}{row}"


def _header_match(sheet: Sheet) -> dict[str, SheetColumn]:
    names = {}
    for column in sheet.columns:
        for name in (column.header, column.field) + column.aliases:
            names[name] = column
    return names


class SheetBook:
    """The sheets of one import (a workbook, or CSV files), read once, joined cadre by cadre.

    Attributes:
        file: The workbook (or first CSV file) name.
        units: The units, in the import format.
        issues: Problems found while reading (headers, cells, links) and joining.
        year_month_births: Cadres whose 出生年月 gave year and month only.
        blank_rows: Rows without any value, skipped.
        headers: Sheet key → the columns that sheet has.
    """

    def __init__(self, file: str):
        self.file = file
        self.units: list[dict] = []
        self.issues: list[Issue] = []
        self.year_month_births = 0
        self.month_only: dict[str, int] = {}      # header -> values read from year and month alone
        self.blank_rows = 0
        self.headers: dict[str, _Header] = {}
        self._unit_rows = array("l")
        self._cadre_index: dict[str, int] = {}   # id -> index of its first row on 干部
        self._cadres = 0
        self._spool = Spool()
        self._bad_cells: set[tuple[str, str]] = set()

    # --- reading ------------------------------------------------------------------------------

    def read(self, sources: Iterable[SheetSource]) -> None:
        """Read every source, in layout order (units, cadres, then the records)."""
        order = {s.key: n for n, s in enumerate(SHEETS)}
        for source in sorted(sources, key=lambda s: order[s.sheet.key]):
            self.issues.extend(source.issues)
            self._bad_cells.update((x.file, x.cell) for x in source.issues)
            try:
                self._read_rows(source)
            except SheetUnreadable as exc:
                self.issues.append(Issue(source.file, 0, 0, "", str(exc), cell=f"{source.sheet.name}!A1"))

    def _read_rows(self, source: SheetSource) -> None:
        rows = enumerate(source.read(), start=1)
        first = next(rows, None)
        if first is None:
            return  # an empty sheet
        if all(is_empty(v) for v in first[1]):
            if any(not all(is_empty(v) for v in row) for _, row in rows):
                self.issues.append(Issue(source.file, 0, 0, "", "row 1 is empty: the header must be in row 1",
                                         cell=f"{source.sheet.name}!A1"))
            return
        header = self._read_header(source, first)
        self.headers[source.sheet.key] = header
        for number, row in rows:
            values = self._cells(header, number, row)
            if values is None:
                self.blank_rows += 1
            else:
                self._add(header, number, values)

    def _fail(self, header: _Header, field: str, row: int, message: str) -> None:
        cell = header.cell(field, row)
        self._bad_cells.add((header.file, cell))
        self.issues.append(Issue(header.file, 0, 0, field, message, cell=cell))

    def _read_header(self, source: SheetSource, first: tuple[int, tuple]) -> _Header:
        sheet, header = source.sheet, _Header(source.sheet, source.file)
        names = _header_match(sheet)
        for col, raw in enumerate(first[1]):
            column = None
            if not is_empty(raw):
                text = str(raw).strip()
                column = names.get(text)
                place = f"{sheet.name}!{get_column_letter(col + 1)}1"
                if column is None:
                    close = difflib.get_close_matches(text, [c.header for c in sheet.columns], n=1, cutoff=0.4)
                    hint = f" (did you mean '{close[0]}'?)" if close else \
                        f" (columns: {'、'.join(c.header for c in sheet.columns)})"
                    self.issues.append(Issue(source.file, 0, 0, "", f"unknown column '{text}'{hint}",
                                             cell=place))
                    header.refused.add(col)
                elif column.field in header.index:
                    first_at = get_column_letter(header.index[column.field] + 1)
                    self.issues.append(Issue(source.file, 0, 0, column.field,
                                             f"column {column.header} appears twice (also {first_at}1)",
                                             cell=place))
                    header.refused.add(col)
                    column = None
                else:
                    header.index[column.field] = col
            header.columns.append(column)
            header.readers.append(None if column is None else (
                column.field, converter(column), column if column.kind in ("birth", "month") else None))
        for column in sheet.columns:
            if column.required and column.field not in header.index:
                self._fail(header, column.field, 1, f"missing required column {column.header}")
        return header

    def _cells(self, header: _Header, number: int, row) -> dict | None:
        """Field → value of the cells of one row that could be read; None for a row without any value."""
        values, blank, stray = {}, True, False
        for reader, raw in zip(header.readers, row):
            if raw is None:
                continue
            kind = type(raw)
            if kind is str:
                if not raw.strip():
                    continue
            elif kind is float and raw.is_integer():
                raw = int(raw)      # calamine gives every number as a float, openpyxl a whole one as an int
            blank = False
            if reader is None:
                stray = True
                continue
            field, read, dated = reader
            try:
                values[field] = read(raw) if dated is None else self._dated(dated, raw)
            except CellError as exc:
                self._fail(header, field, number, str(exc))
        width = len(header.readers)
        if len(row) > width and not all(is_empty(v) for v in row[width:]):
            blank, stray = False, True
        if stray:
            self._headerless(header, number, row)
        return None if blank else values

    def _dated(self, column: SheetColumn, raw):
        """A cell of a birth or month column (year and month alone: the 1st), counted."""
        value, month_only = read_birth(raw, column)
        if column.kind == "birth":
            self.year_month_births += month_only
        elif month_only:                          # read by the rule of 出生年月, counted per column
            self.month_only[column.header] = self.month_only.get(column.header, 0) + 1
        return value

    def _headerless(self, header: _Header, number: int, row) -> None:
        """Report the values of ``row`` in columns without (an accepted) header."""
        for col, raw in enumerate(row):
            if not is_empty(raw) and (col >= len(header.readers) or header.readers[col] is None) \
                    and col not in header.refused:
                place = f"{header.sheet.name}!{get_column_letter(col + 1)}{number}"
                self.issues.append(Issue(header.file, 0, 0, "", "a value in a column without header", cell=place))

    def _add(self, header: _Header, number: int, values: dict) -> None:
        key = header.sheet.key
        if key == "units":
            self.units.append(values)
            self._unit_rows.append(number)
            return
        if key == "cadres":
            ident = values.get("id")
            if isinstance(ident, str):
                self._cadre_index.setdefault(ident, self._cadres)
            self._spool.add(self._cadres, (key, number, values))
            self._cadres += 1
            return
        index = self._cadre_of(header, number, values.pop("cadre", None))
        if index is None:
            return
        if key == "rectification" and values.get("review_date") is None:
            if "review_date" in header.index:
                self._fail(header, "review_date", number, "评议日期 is empty")
            return
        self._spool.add(index, (key, number, values))

    def _cadre_of(self, header: _Header, number: int, ident) -> int | None:
        if ident is None:
            if "cadre" in header.index:
                self._fail(header, "cadre", number, "干部编号 is empty")
            return None
        index = self._cadre_index.get(ident)
        if index is None:
            self._fail(header, "cadre", number, f"unknown cadre id '{ident}' (no row on sheet 干部)")
        return index

    # --- joining ------------------------------------------------------------------------------

    def units_part(self) -> SheetPart:
        """The units, as a document of their own."""
        part = SheetPart(self.file, self.headers, self._unit_rows)
        part.data["units"] = self.units
        return part

    def parts(self, size: int) -> Iterator[SheetPart]:
        """The cadres with their records, ``size`` cadres a document, in the order of sheet 干部."""
        part = SheetPart(self.file, self.headers)
        for _index, rows in self._spool.grouped():
            _key, number, values = rows[0]      # its own row on 干部 was spooled before its records
            cadre = _nested(values)
            part.add(cadre, number, self._records(cadre, rows))
            if len(part.cadre_rows) >= size:
                yield part
                part = SheetPart(self.file, self.headers)
        if part.cadre_rows:
            yield part

    def _records(self, cadre: dict, rows: list) -> dict | None:
        """Put the record rows into ``cadre``'s lists, in sheet then row order; list → their rows."""
        slots = None
        for key, number, values in rows[1:]:
            if key == "rectification":
                review = self._review_of(number, cadre, values.pop("review_date"))
                if review is None:
                    continue
                cadre["reviews"][review].setdefault("rectification", []).append(values)
                slot = ("rectification", review)
            else:
                cadre.setdefault(key, []).append(values)
                slot = key
            if slots is None:
                slots = {}
            slots.setdefault(slot, array("l")).append(number)
        return slots

    def _review_of(self, number: int, cadre: dict, date) -> int | None:
        matches = [j for j, r in enumerate(cadre.get("reviews") or ()) if r.get("date") == date]
        if len(matches) == 1:
            return matches[0]
        what = "no" if not matches else f"{len(matches)}"
        self._fail(self.headers["rectification"], "review_date", number,
                   f"{what} 监督评议 rows of cadre '{cadre.get('id')}' on {date}")
        return None

    def repeats(self, issue: Issue) -> bool:
        """True when ``issue`` is about a cell (or missing column) already reported while reading."""
        return (issue.file, issue.cell) in self._bad_cells


def _nested(values: dict) -> dict:
    """A 干部 row's values with ``recruitment.*`` gathered into its nested record."""
    cadre, recruitment = {}, {}
    for name, value in values.items():
        if name.startswith("recruitment."):
            recruitment[name.split(".", 1)[1]] = value
        else:
            cadre[name] = value
    if recruitment:
        cadre["recruitment"] = recruitment
    return cadre
