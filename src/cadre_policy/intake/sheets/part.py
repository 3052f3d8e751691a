"""A part of a spreadsheet import as an import document: the units, or a round of cadres.

The shared validation (:mod:`cadre_policy.intake.importer`) runs on ``part.data`` and
reports through :meth:`SheetPart.issue`, which maps a JSON path back to ``SHEET!CELL``
from the row each record came from. Once a round is validated and written, :meth:`release`
lets its records go and keeps only the cadres' rows, for "first at …" in later messages.
"""
from __future__ import annotations

import re
from array import array
from typing import Iterable

from cadre_policy.parse.issues import Issue
from cadre_policy.intake.sheets.layout import BY_KEY, SHEETS

_REQUIRED = re.compile(r"'([^']+)' is a required property")
_RECORD_KEYS = {s.key for s in SHEETS} - {"units", "cadres", "rectification"}


class SheetPart:
    """Units or cadres of one workbook, in the import format, with the row of every record.

    Attributes:
        file: The workbook (or first CSV file) name.
        data: ``{"units": [...], "cadres": [...]}`` in the import format.
        cadre_rows: The row on 干部 of each cadre of ``data``.
    """

    def __init__(self, file: str, headers: dict, unit_rows: array | None = None):
        self.file = file
        self.data: dict | None = {"units": [], "cadres": []}
        self.cadre_rows = array("l")
        self._headers = headers
        self._unit_rows = unit_rows if unit_rows is not None else array("l")
        # per cadre: record list key (or ("rectification", review index)) → rows
        self._record_rows: list[dict | None] = []

    def add(self, cadre: dict, row: int, records: dict | None) -> None:
        """Add a cadre read from ``row`` of 干部, with the rows of its records."""
        self.data["cadres"].append(cadre)
        self.cadre_rows.append(row)
        self._record_rows.append(records)

    def release(self) -> None:
        """Let the records go; :meth:`where` of a cadre still works."""
        self.data = None
        self._record_rows = []

    def _locate(self, path: list) -> tuple[str, int, str | None, str]:
        """(sheet key, row, field, field prefix) of a JSON path into :attr:`data`."""
        kind, i, rest = path[0], path[1], path[2:]
        if kind == "units":
            return "units", self._unit_rows[i], (str(rest[0]) if rest else None), ""
        if rest and rest[0] == "recruitment":
            return "cadres", self.cadre_rows[i], \
                ("recruitment." + rest[1] if len(rest) > 1 else None), "recruitment."
        if len(rest) >= 2 and rest[0] in _RECORD_KEYS and isinstance(rest[1], int):
            rows = self._record_rows[i] or {}
            key, j, rest = rest[0], rest[1], rest[2:]
            if key == "reviews" and len(rest) >= 2 and rest[0] == "rectification":
                return "rectification", rows[("rectification", j)][rest[1]], \
                    (rest[2] if len(rest) > 2 else None), ""
            return key, rows[key][j], (rest[0] if rest else None), ""
        return "cadres", self.cadre_rows[i], (rest[0] if rest and rest[0] not in _RECORD_KEYS else None), ""

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
