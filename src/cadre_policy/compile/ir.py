"""The intermediate form: checked rules with parameters resolved for one evaluation date.

Conditions are positive formulas over the *encoded* cadre fact (dates as day numbers,
durations as months * 32 + days, ranks as ordinals, fractions as integer pairs):
negation has been pushed down to the atoms by Kleene's three-valued logic, so that a
missing fact makes both a test and its complement false, and a requirement whose
facts are missing is neither met nor unmet. Both engines run this form.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.language.walk import walk

NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
CLOSURE = "_k"          # the cadre-fact field holding what earlier strata asserted


@dataclass(frozen=True)
class Test:
    """``path op const`` on the encoded cadre fact; false when the path is missing."""
    path: str
    op: str
    const: object


@dataclass(frozen=True)
class TestField:
    """``path op other`` between two fields of the cadre fact."""
    path: str
    op: str
    other: str


@dataclass(frozen=True)
class Linear:
    """``a * q op b * p``: exact fraction comparison by cross-multiplication."""
    a: str
    q: int
    b: str
    p: int
    op: str


@dataclass(frozen=True)
class Exists:
    """Whether ``path`` is present on the encoded cadre fact."""
    path: str
    present: bool = True


@dataclass(frozen=True)
class Fact:
    """An asserted finding or derived fact (``kind:name``), matched by a join in the same stratum."""
    key: str


@dataclass(frozen=True)
class And:
    """Every formula holds."""
    items: tuple


@dataclass(frozen=True)
class Or:
    """At least one formula holds."""
    items: tuple


@dataclass(frozen=True)
class Const:
    """Always true or always false."""
    value: bool


TRUE = Const(True)
FALSE = Const(False)


def conj(items) -> object:
    flat = []
    for item in items:
        if item == FALSE:
            return FALSE
        if item == TRUE:
            continue
        flat.extend(item.items if isinstance(item, And) else (item,))
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disj(items) -> object:
    flat = []
    for item in items:
        if item == TRUE:
            return TRUE
        if item == FALSE:
            continue
        flat.extend(item.items if isinstance(item, Or) else (item,))
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def reads_asserted(formula) -> bool:
    """Whether a formula has an asserted-fact atom (a join with another rule's conclusion)."""
    return any(isinstance(node, Fact) for node in walk(formula))


def closure_path(key: str) -> str:
    """Where the cadre fact of a later stratum says whether ``key`` was asserted."""
    return f"{CLOSURE}.{key.replace(':', '__')}"


@dataclass(frozen=True)
class RuleTest:
    """One test the engines run for a rule: ``fire`` for findings and derived facts;
    ``applies``, ``not_applies``, ``met``, ``unmet`` for requirements."""
    rule: str
    test: str
    formula: object
    asserts: str | None = None      # the fact key asserted when it fires ("finding:code" / "derived:name")

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule, self.test)


@dataclass(frozen=True)
class Stratum:
    """Tests run together; a later stratum reads what earlier ones asserted."""
    tests: tuple
    closure: tuple = ()             # fact keys of earlier strata this stratum reads


@dataclass
class CompiledSet:
    """A policy set compiled for one evaluation date."""
    name: str
    as_of: object
    strata: list
    fields: dict                     # encoded path -> type (what the encoder emits)
    derived: list                    # the derived-quantity specs, in dependency order
    rules: dict                      # rule id -> model.Rule (in force)
    parameters: dict                 # qualified name -> value in force
    policy_set: object = None
