"""Exceptions of the fact store and the importer.

Every exception here stands for a user mistake or an environment problem, so the
CLI prints it in one line (``str(exc)``) and exits with status 2.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.errors import UserError
from cadre_policy.i18n import _, ngettext


class FactsError(UserError):
    """Base class: a problem the user can fix, reported in one line."""


def database_fault(exc: BaseException) -> str | None:
    """``database error: <first line of the driver's message>`` for a database fault, else None.

    The CLI's error boundary asks this instead of importing SQLAlchemy itself.
    """
    from sqlalchemy.exc import SQLAlchemyError
    if not isinstance(exc, SQLAlchemyError):
        return None
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
    return f"database error: {detail[0]}"


class SchemaVersionError(FactsError):
    """The database was made by another version of the fact-store schema."""


class StoreCorruptError(FactsError):
    """The database lacks tables or holds a row that does not read back as its column's type."""


class StoreChangedError(FactsError):
    """The store was written while a population run read it: its figures would mix two states."""

    @classmethod
    def during_run(cls, url: str) -> "StoreChangedError":
        return cls(_("database {url} was written while this run read it (an import committed): "
                     "its figures would mix two states; run it again").format(url=url))


class StoreUnavailableError(FactsError):
    """The database URL is malformed, its driver is missing, or it does not answer."""


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


class ImportRejected(FactsError):
    """An import was refused; nothing was written.

    Attributes:
        issues: Every problem found, in file order then position (a streamed import keeps
            the first :data:`~cadre_policy.facts.streaming.MAX_REPORTED`).
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
