"""One diagnostic type and one line format for every authoring error.

Codes are grouped by phase (:data:`CODES` lists them all; docs/language.md too):

* ``E0xx`` reading: YAML syntax, duplicate keys, unreadable files;
* ``E1xx`` schema: the file does not match its schema (``schemas/*.schema.json``);
* ``E2xx`` references: unknown facts, parameters, outcome codes, rule ids, duplicates;
* ``E3xx`` types: comparing a grade with a number, a bad enum value, a bad fraction;
* ``E4xx`` semantics: a rule superseding itself, a cycle through negation,
  durable_rules limits, a period that ends before it starts;
* ``W5xx`` warnings: nothing stops, but the author should look.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cadre_policy.errors import UserError
from cadre_policy.i18n import _


CODES = {
    "E001": "YAML syntax error",
    "E002": "duplicate key",
    "E003": "unreadable or missing file",
    "E004": "no policy file in the directory",
    "E101": "does not match the schema (a required key, a wrong kind of value)",
    "E102": "unknown key",
    "E103": "malformed condition",
    "E104": "not a calendar date",
    "E201": "unknown fact or field",
    "E202": "unknown parameter",
    "E203": "unknown finding or requirement code",
    "E204": "unknown rule id",
    "E205": "duplicate id",
    "E206": "nothing derives this conclusion",
    "E207": "unknown provision",
    "E208": "unknown group",
    "E209": "unknown policy",
    "E210": "unknown unit",
    "E211": "unknown parameter named in a title or note",
    "E301": "wrong type",
    "E302": "not one of the allowed values",
    "E303": "bad parameter value",
    "E304": "an order word on an unordered value",
    "E401": "a rule supersedes itself",
    "E402": "a cycle through negation",
    "E403": "derived quantities in a cycle",
    "E404": "beyond what durable_rules can run",
    "E407": "exception rules in a cycle (an exception to itself, directly or through others)",
    "E405": "a period that ends before it starts",
    "E406": "a condition with more alternatives than durable_rules runs (4,096)",
    "E408": "a policy without a jurisdiction (whom it binds)",
    "W501": "unused parameter",
    "W503": "no schema line for the editor",
    "W504": "duplicate test case name",
    "W505": "a policy set mixing regions without a note saying why",
}


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

    def as_dict(self) -> dict:
        """The diagnostic as JSON-ready data (``policy lint --format json``)."""
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "file": self.location.file, "line": self.location.line, "column": self.location.column,
                "suggestion": self.suggestion}

    def sort_key(self):
        return (self.location.file, self.location.line, self.location.column, self.code, self.message)

    def __str__(self) -> str:
        hint = _(" (did you mean '{hint}'?)").format(hint=self.suggestion) if self.suggestion else ""
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


def suggest_qualified(name: str, qualified) -> str | None:
    """The qualified name (``policy.name``) closest to a short or misspelt one, or None.

    >>> suggest_qualified("admonish_ratio", ["supervision.admonish_ratio", "appraisal.window"])
    'supervision.admonish_ratio'
    >>> suggest_qualified("supervison.admonish_ratio", ["supervision.admonish_ratio"])
    'supervision.admonish_ratio'
    """
    qualified = list(qualified)
    by_short: dict[str, list[str]] = {}
    for full in qualified:
        by_short.setdefault(full.rpartition(".")[2], []).append(full)
    if len(by_short.get(name, ())) == 1:
        return by_short[name][0]
    hint = suggest(name, qualified)
    if hint:
        return hint
    hint = suggest(name.rpartition(".")[2], [s for s, fulls in by_short.items() if len(fulls) == 1])
    return by_short[hint][0] if hint else None
