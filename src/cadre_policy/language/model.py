"""A small immutable model of a policy set, each node carrying its source location."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cadre_policy.diagnostics import Location

# Comparison words and the operator each means (民法典 第一千二百五十九条 for the Chinese ones).
OPERATORS = {
    "以上": ">=", "不低于": ">=", "达到": ">=", "届满": ">=", "gte": ">=",
    "以下": "<=", "以内": "<=", "不超过": "<=", "lte": "<=",
    "超过": ">", "gt": ">",
    "不满": "<", "低于": "<", "未达到": "<", "lt": "<",
    "eq": "==", "ne": "!=", "in": "in", "not_in": "not_in",
    "on_or_after": ">=", "on_or_before": "<=", "after": ">", "before": "<",
}


# ---- values -------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    raw: object
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class ParamRef:
    name: str
    loc: Location = field(default_factory=Location, compare=False)
    scope: str = ""              # the policy it was written in: a bare name is looked up there first

    def candidates(self) -> tuple[str, ...]:
        return (f"{self.scope}.{self.name}", self.name) if self.scope else (self.name,)


@dataclass(frozen=True)
class FactRef:
    path: str
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Period:
    """``{years: N}`` or ``{months: N}``; ``amount`` is a Literal int or a ParamRef."""
    unit: str
    amount: object
    loc: Location = field(default_factory=Location, compare=False)


# ---- conditions ----------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    subject: str                 # a fact path (or a record field inside `where`)
    op: str                      # one of OPERATORS' values
    word: str                    # the word the author wrote (超过, gte, ...)
    value: object                # Literal | ParamRef | FactRef | Period
    loc: Location = field(default_factory=Location, compare=False)
    ratio_of: tuple = ()         # (numerator, denominator) paths for a ratio comparison


@dataclass(frozen=True)
class Within:
    subject: str                 # a date fact: the evaluation date is in [date, date + period)
    period: Period
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Has:
    subject: str
    flag: str
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Present:
    subject: str
    present: bool
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Asserted:
    """A finding or derived fact asserted by a rule (forward chaining)."""
    kind: str                    # "finding" | "derived"
    name: str
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class All:
    items: tuple
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Any:
    items: tuple
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Not:
    item: object
    loc: Location = field(default_factory=Location, compare=False)


# ---- declarations -------------------------------------------------------------------
@dataclass(frozen=True)
class InForce:
    start: date
    end: date | None = None

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Parameter:
    name: str                    # qualified: policy_id.name
    kind: str
    title: str
    values: tuple                # ((date, raw value), ...) sorted by date
    note: str = ""
    open: bool = False
    loc: Location = field(default_factory=Location, compare=False)

    def raw_on(self, day: date):
        """The raw value in force on ``day``, or None before the first date."""
        current = None
        for start, value in self.values:
            if start <= day:
                current = value
        return current


@dataclass(frozen=True)
class Derived:
    name: str
    title: str
    form: str                    # latest current duration count elapsed ratio age
    source: object               # records path, date-fact path, or (num, den) paths
    where: object = None         # a condition over record fields
    at: str | None = None
    since: str | None = None
    within: Period | None = None
    distinct: str | None = None
    note: str = ""
    policy: str = ""
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Until:
    fact: str
    plus: object                 # Period | ParamRef
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    provision: str
    quote: str
    kind: str                    # finding | requirement | derive
    code: str                    # the finding / requirement code or the derived name
    policy: str
    section: str = ""
    note: str = ""
    when: object = None
    applies: object = None
    met: object = None
    unmet: object = None
    until: Until | None = None
    supersedes: tuple = ()
    in_force: InForce | None = None
    order: int = 0               # position in the policy set, for stable reports
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Source:
    document: str
    issuer: str = ""
    date: str | None = None
    file: str = ""
    note: str = ""


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    source: Source
    in_force: InForce
    file: str
    parameters: tuple = ()
    derived: tuple = ()
    rules: tuple = ()
    boundary: str = "民法典"
    groups: dict = field(default_factory=dict, compare=False, hash=False)       # raw, read by engine.structure
    structure: tuple = ()                                                      # raw aggregate rules
    positions: object = field(default=None, compare=False, hash=False, repr=False)  # yamlpos.Positions


@dataclass(frozen=True)
class Outcomes:
    """The outcome catalogue: finding codes, requirement codes, determinations."""
    findings: dict
    requirements: dict
    determinations: dict


@dataclass(frozen=True)
class PolicySet:
    path: str
    digest: str
    policies: tuple
    outcomes: Outcomes
    provisions: dict             # the register: id -> entry

    @property
    def rules(self) -> list[Rule]:
        return [rule for policy in self.policies for rule in policy.rules]

    @property
    def parameters(self) -> dict[str, Parameter]:
        return {p.name: p for policy in self.policies for p in policy.parameters}

    @property
    def derived(self) -> dict[str, Derived]:
        return {d.name: d for policy in self.policies for d in policy.derived}

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def policy_of(self, rule: Rule) -> Policy:
        return next(p for p in self.policies if p.id == rule.policy)

    def in_force(self, rule, day: date) -> bool:
        """Whether a rule (or an aggregate rule) is in force on ``day`` (see ``rule_in_force``)."""
        return rule_in_force(self.policy_of(rule), rule, day)


def rule_in_force(policy: Policy, rule, day: date) -> bool:
    """Whether a rule of ``policy`` is in force on ``day``: the policy's period, narrowed by the rule's own."""
    return policy.in_force.holds(day) and (rule.in_force is None or rule.in_force.holds(day))
