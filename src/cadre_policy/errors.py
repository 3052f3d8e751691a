"""The root of every error a user can act on.

Each stage raises a subclass of :class:`UserError` for a mistake in what it was given
(a file, an option, a database that does not answer); the CLI turns any of them into a
one-line message and exit status 2, in one place (``cadre_policy.cli.common``).
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix, reported in one line (``str(exc)``).

    Subclasses that carry several findings (diagnostics, import issues) list them in
    :meth:`details`; they are printed before the one-line summary.
    """

    def details(self) -> list[str]:
        """Lines to print before the summary (none by default)."""
        return []


class EvaluationError(UserError):
    """A problem with what the user asked for (not with a policy file), e.g. a parameter
    with no value on the evaluation date."""
