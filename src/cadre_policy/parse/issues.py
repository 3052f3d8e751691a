"""A problem in an input file with its place, and the refusal of an import that found some.

Every reader (positioned YAML, streamed YAML/JSON, spreadsheets) reports :class:`Issue`;
the CLI prints :class:`ImportRejected` with every issue and exits with status 2.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.errors import UserError
from cadre_policy.i18n import ngettext


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in an import file, with its place.

    Attributes:
        file: The file name as given on the command line.
        line: 1-based line, or 0 when unknown.
        column: 1-based column, or 0 when unknown.
        path: JSON path of the offending value, e.g. ``$.cadres[3].posts[0].end``; in a
            spreadsheet, the field name of the column (empty for a sheet's structure).
        message: What is wrong.
        cell: In a spreadsheet, ``SHEET!CELL`` (``任职!D12``) or ``SHEET!ROW``; else empty.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    cell: str = ""

    def __str__(self) -> str:
        if self.cell:
            place = f"{self.file}:{self.cell}"
            return f"{place}: {self.path}: {self.message}" if self.path else f"{place}: {self.message}"
        place = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{place}: {self.path}: {self.message}"


class ImportRejected(UserError):
    """An import was refused; nothing was written.

    Attributes:
        issues: Every problem found, in file order then position (a streamed import keeps
            the first :data:`~cadre_policy.intake.streaming.MAX_REPORTED`).
        total: How many there were in all.
    """

    def __init__(self, issues: list[Issue], total: int | None = None):
        self.issues = list(issues)
        #: How many problems were found; beyond a cap only the first are kept in ``issues``.
        self.total = len(self.issues) if total is None else total
        n = self.total
        super().__init__(ngettext("import rejected: {n} error, nothing written",
                                  "import rejected: {n} errors, nothing written", n).format(n=n))

    def details(self) -> list[str]:
        return [str(issue) for issue in self.issues]
