"""One diagnostic type and one line format for every authoring error.

Codes are grouped by phase:

* ``E0xx`` reading: YAML syntax, duplicate keys, unreadable files;
* ``E1xx`` schema: the file does not match ``engine/policy.schema.json``;
* ``E2xx`` references: unknown facts, parameters, outcome codes, rule ids, duplicates;
* ``E3xx`` types: comparing a grade with a number, a bad enum value, a bad fraction;
* ``E4xx`` semantics: a rule superseding itself, a cycle through negation,
  durable_rules limits;
* ``W5xx`` warnings: nothing stops, but the author should look.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cadre_policy.errors import UserError


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file (1-based line and column)."""

    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a policy file."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    suggestion: str | None = None

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W") else "error"

    def sort_key(self):
        return (self.location.file, self.location.line, self.location.column, self.code, self.message)

    def __str__(self) -> str:
        hint = f" (did you mean '{self.suggestion}'?)" if self.suggestion else ""
        return f"{self.location}: {self.code} {self.message}{hint}"


class PolicyRejected(UserError):
    """A policy set or draft cannot be loaded or compiled; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic], summary: str = "the policy set has errors; run `policy lint`"):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.summary = summary
        super().__init__(summary)

    def details(self) -> list[str]:
        return [str(d) for d in self.diagnostics]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def suggest(name: str, candidates) -> str | None:
    """The closest known name to a misspelt one, or None.

    >>> suggest("review.disatisfied", ["review.dissatisfied", "review.total"])
    'review.dissatisfied'
    """
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None
