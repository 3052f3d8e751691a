"""Exceptions of the fact store.

Every exception here stands for a user mistake or an environment problem, so the
CLI prints it in one line (``str(exc)``) and exits with status 2.
"""
from __future__ import annotations

from cadre_policy.errors import UserError
from cadre_policy.i18n import _


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


class ImportCollisionError(FactsError):
    """Two imports wrote the same unit or cadre at once: the later one is rolled back whole."""

    @classmethod
    def of(cls) -> "ImportCollisionError":
        return cls(_("another import was writing the same units or cadres at the same time; nothing was written; "
                     "run this import again"))


class StoreUnavailableError(FactsError):
    """The database URL is malformed, its driver is missing, or it does not answer."""
