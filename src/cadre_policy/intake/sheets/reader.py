"""Sheet rows to one import document whose issues name the sheet and cell.

A :class:`SheetBook` turns the rows of every sheet into the import format (units
and cadres with their record lists, dates as ISO text) and keeps, per record, only
the row it came from; the column of a field comes from the sheet's header. The
shared validation of :mod:`cadre_policy.intake.importer` then runs on
``book.data`` and reports through :meth:`SheetBook.issue`, which maps a JSON path
back to ``SHEET!CELL``.

Rules of reading (also in docs/spreadsheets.md): row 1 is the header; a header is the
Chinese column name, one of its aliases, or the English field name; an unknown or
repeated header is an error, and so is a missing required column; a row with no
value at all is skipped wherever it is (counted in the report); a value under a
column without header is an error; records name their cadre by 干部编号, which must
be a row of the same import's 干部 sheet (an import replaces a cadre's records).
"""
from __future__ import annotations

import difflib
import re
from array import array
from typing import Iterable

from openpyxl.utils import get_column_letter

from cadre_policy.parse.issues import Issue
from cadre_policy.intake.sheets.cells import CellError, is_empty, read_birth, read_cell
from cadre_policy.intake.sheets.layout import BY_KEY, SHEETS, SheetColumn, Sheet
from cadre_policy.intake.sheets.sources import SheetSource, SheetUnreadable

_REQUIRED = re.compile(r"'([^']+)' is a required property")
_RECORD_KEYS = {s.key for s in SHEETS} - {"units", "cadres", "rectification"}


class _Header:
    """The columns one sheet actually has: field → 0-based index."""

    def __init__(self, sheet: Sheet, file: str):
        self.sheet, self.file = sheet, file
        self.index: dict[str, int] = {}
        self.columns: list[SheetColumn | None] = []
        self.refused: set[int] = set()  # headers given but unknown or repeated (reported once)

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
    """The sheets of one import (a workbook, or CSV files) as one import document.

    Attributes:
        file: The workbook (or first CSV file) name.
        data: ``{"units": [...], "cadres": [...]}`` in the import format.
        issues: Problems found while reading (headers, cells, links).
        year_month_births: Cadres whose 出生年月 gave year and month only.
        blank_rows: Rows without any value, skipped.
    """

    def __init__(self, file: str):
        self.file = file
        self.data: dict = {"units": [], "cadres": []}
        self.issues: list[Issue] = []
        self.year_month_births = 0
        self.month_only: dict[str, int] = {}      # header -> values read from year and month alone
        self.blank_rows = 0
        self._headers: dict[str, _Header] = {}
        self._unit_rows = array("l")
        self._cadre_rows = array("l")
        self._cadre_index: dict[str, int] = {}
        # per cadre index: record list key (or ("rectification", review index)) → rows
        self._record_rows: list[dict | None] = []
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
        self._headers[source.sheet.key] = header
        for number, row in rows:
            if all(is_empty(v) for v in row):
                self.blank_rows += 1
                continue
            self._add(header, number, self._cells(header, number, row))

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
        for column in sheet.columns:
            if column.required and column.field not in header.index:
                self._fail(header, column.field, 1, f"missing required column {column.header}")
        return header

    def _cells(self, header: _Header, number: int, row: tuple) -> dict:
        """Field → value of the cells of one row that could be read."""
        values = {}
        for col, raw in enumerate(row):
            if is_empty(raw):
                continue
            column = header.columns[col] if col < len(header.columns) else None
            if column is None:
                if col not in header.refused:
                    place = f"{header.sheet.name}!{get_column_letter(col + 1)}{number}"
                    self.issues.append(Issue(header.file, 0, 0, "",
                                             "a value in a column without header", cell=place))
                continue
            try:
                if column.kind == "birth":
                    value, month_only = read_birth(raw, column)
                    self.year_month_births += month_only
                elif column.kind == "month":          # read by the rule of 出生年月, counted per column
                    value, month_only = read_birth(raw, column)
                    if month_only:
                        self.month_only[column.header] = self.month_only.get(column.header, 0) + 1
                else:
                    value = read_cell(raw, column)
            except CellError as exc:
                self._fail(header, column.field, number, str(exc))
                continue
            values[column.field] = value
        return values

    def _add(self, header: _Header, number: int, values: dict) -> None:
        key = header.sheet.key
        if key == "units":
            self.data["units"].append(values)
            self._unit_rows.append(number)
            return
        if key == "cadres":
            self._add_cadre(number, values)
            return
        index = self._cadre_of(header, number, values.pop("cadre", None))
        if index is None:
            return
        cadre = self.data["cadres"][index]
        if key == "rectification":
            review = self._review_of(header, number, cadre, values.pop("review_date", None))
            if review is None:
                return
            cadre["reviews"][review].setdefault("rectification", []).append(values)
            slot = ("rectification", review)
        else:
            cadre.setdefault(key, []).append(values)
            slot = key
        rows = self._record_rows[index]
        if rows is None:
            rows = self._record_rows[index] = {}
        rows.setdefault(slot, array("l")).append(number)

    def _add_cadre(self, number: int, values: dict) -> None:
        cadre, recruitment = {}, {}
        for name, value in values.items():
            if name.startswith("recruitment."):
                recruitment[name.split(".", 1)[1]] = value
            else:
                cadre[name] = value
        if recruitment:
            cadre["recruitment"] = recruitment
        ident = cadre.get("id")
        if isinstance(ident, str):
            self._cadre_index.setdefault(ident, len(self.data["cadres"]))
        self.data["cadres"].append(cadre)
        self._cadre_rows.append(number)
        self._record_rows.append(None)

    def _cadre_of(self, header: _Header, number: int, ident) -> int | None:
        if ident is None:
            if "cadre" in header.index:
                self._fail(header, "cadre", number, "干部编号 is empty")
            return None
        index = self._cadre_index.get(ident)
        if index is None:
            self._fail(header, "cadre", number, f"unknown cadre id '{ident}' (no row on sheet 干部)")
        return index

    def _review_of(self, header: _Header, number: int, cadre: dict, date) -> int | None:
        if date is None:
            if "review_date" in header.index:
                self._fail(header, "review_date", number, "评议日期 is empty")
            return None
        matches = [j for j, r in enumerate(cadre.get("reviews") or ()) if r.get("date") == date]
        if len(matches) == 1:
            return matches[0]
        what = "no" if not matches else f"{len(matches)}"
        self._fail(header, "review_date", number,
                   f"{what} 监督评议 rows of cadre '{cadre.get('id')}' on {date}")
        return None

    # --- places for the shared validation -----------------------------------------------------

    def _locate(self, path: list) -> tuple[str, int, str | None, str]:
        """(sheet key, row, field, field prefix) of a JSON path into :attr:`data`."""
        kind, i, rest = path[0], path[1], path[2:]
        if kind == "units":
            return "units", self._unit_rows[i], (str(rest[0]) if rest else None), ""
        if rest and rest[0] == "recruitment":
            return "cadres", self._cadre_rows[i], \
                ("recruitment." + rest[1] if len(rest) > 1 else None), "recruitment."
        if len(rest) >= 2 and rest[0] in _RECORD_KEYS and isinstance(rest[1], int):
            rows = self._record_rows[i] or {}
            key, j, rest = rest[0], rest[1], rest[2:]
            if key == "reviews" and len(rest) >= 2 and rest[0] == "rectification":
                return "rectification", rows[("rectification", j)][rest[1]], \
                    (rest[2] if len(rest) > 2 else None), ""
            return key, rows[key][j], (rest[0] if rest else None), ""
        return "cadres", self._cadre_rows[i], (rest[0] if rest and rest[0] not in _RECORD_KEYS else None), ""

    def issue(self, path: Iterable, message: str, key: str | None = None) -> Issue:
        """An issue at the cell of the value at ``path`` (the importer's document interface)."""
        path = list(path) + ([key] if key is not None else [])
        if len(path) < 2:
            return Issue(self.file, 0, 0, "$", message)
        sheet_key, row, field, prefix = self._locate(path)
        required = _REQUIRED.fullmatch(message)
        if field is None and required:
            field = prefix + required.group(1)
            column = BY_KEY[sheet_key].column(field)
            message = f"{column.header if column else field} is empty"
        header = self._headers[sheet_key]
        if field is not None and field not in header.index and required:
            return Issue(header.file, 0, 0, field, message, cell=header.cell(None, 1))
        return Issue(header.file, 0, 0, field or "$", message, cell=header.cell(field, row))

    def where(self, path: list) -> str:
        """``FILE:SHEET!ROW`` of the record at ``path`` (for "first at …" in messages)."""
        sheet_key, row, _, _ = self._locate(list(path))
        header = self._headers[sheet_key]
        return f"{header.file}:{header.cell(None, row)}"

    def repeats(self, issue: Issue) -> bool:
        """True when ``issue`` is about a cell (or missing column) already reported while reading."""
        return (issue.file, issue.cell) in self._bad_cells

