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
    """A value written in the policy file (a number, a text, a date, a list)."""
    raw: object
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class ParamRef:
    """A parameter named in a condition, looked up in its own policy first."""
    name: str
    loc: Location = field(default_factory=Location, compare=False)
    scope: str = ""              # the policy it was written in: a bare name is looked up there first
    key: str | None = None       # a table parameter's entry: the record field naming it (a count's within)

    def candidates(self) -> tuple[str, ...]:
        return (f"{self.scope}.{self.name}", self.name) if self.scope else (self.name,)


@dataclass(frozen=True)
class FactRef:
    """Another fact of the same cadre as a comparison's value."""
    path: str
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class RankOf:
    """A rank computed from a rank fact: ``step`` rungs up (+) or down (-) the ladder, or the
    ``level`` rank (deputy | principal) of the same level (乡科级, 县处级, 厅局级)."""
    path: str
    step: int = 0
    level: str = ""
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
    """A fact compared with a value in the words of the policy (``subject op value``)."""
    subject: str                 # a fact path (or a record field inside `where`)
    op: str                      # one of OPERATORS' values
    word: str                    # the word the author wrote (超过, gte, ...)
    value: object                # Literal | ParamRef | FactRef | Period
    loc: Location = field(default_factory=Location, compare=False)
    ratio_of: tuple = ()         # (numerator, denominator) paths for a ratio comparison


@dataclass(frozen=True)
class Within:
    """The evaluation date falls within a period after a date fact."""
    subject: str                 # a date fact: the evaluation date is in [date, date + period)
    period: Period
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Has:
    """A unit's assessment flag is set."""
    subject: str
    flag: str
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Present:
    """A fact is on record (``present``) or missing."""
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
    """Every condition holds (并且)."""
    items: tuple
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Any:
    """At least one condition holds (或者)."""
    items: tuple
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Not:
    """The condition does not hold (three-valued: a missing fact stays unknown)."""
    item: object
    loc: Location = field(default_factory=Location, compare=False)


# ---- declarations -------------------------------------------------------------------
@dataclass(frozen=True)
class InForce:
    """The days a document or a rule is in force: from ``start`` to ``end`` (None: open)."""
    start: date
    end: date | None = None

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Parameter:
    """A named value of a policy, with the value in force from each date."""
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


RECORD_FORMS = ("latest", "first", "current", "duration", "count", "some", "every", "consecutive")
#: Integer arithmetic on two operands (a fact path or an integer).
ARITHMETIC = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "min": min, "max": max}


@dataclass(frozen=True)
class Derived:
    """A quantity computed from the cadre record (latest, count, duration, …), named for the rules."""
    name: str
    title: str
    form: str                    # latest first current duration count some every elapsed ratio age rank steps
    source: object               # records path; date-fact path(s) (elapsed: the first on record); (a, b) paths
    where: object = None         # a condition over record fields (``fact:`` values read the cadre's facts)
    at: str | None = None
    since: str | None = None
    within: Period | None = None
    distinct: tuple = ()         # fields whose combination tells records apart (a position: unit.id + title)
    note: str = ""
    policy: str = ""
    loc: Location = field(default_factory=Location, compare=False)
    satisfies: object = None     # some / every: the condition tested on each record's own date
    rank: RankOf | None = None   # rank: the rank computed
    operands: tuple = ()         # plus minus min max: two operands, each a fact path or an integer
    param: ParamRef | None = None    # lookup: the table parameter
    n: int = 0                   # consecutive: how many consecutive values of ``by``
    by: str = ""                 # consecutive: the integer field that numbers the records (year)

    def references(self) -> set[str]:
        """Every fact path this quantity reads, its records included (for ordering and cycles)."""
        paths = set(self.source) if isinstance(self.source, tuple) else {self.source}
        paths |= {p for p in (self.at, self.since) if p}
        paths |= set(condition_facts(self.where, record=True)) | set(condition_facts(self.satisfies))
        return {p for p in paths if p}

    def conditions(self) -> tuple:
        """The conditions of the quantity (``where``, ``satisfies``), for walkers over parameters."""
        return tuple(c for c in (self.where, self.satisfies) if c is not None)


def condition_facts(cond, record: bool = False):
    """The cadre fact paths a condition reads (inside ``where``, only its ``fact:`` values)."""
    if cond is None:
        return
    if isinstance(cond, (All, Any)):
        for item in cond.items:
            yield from condition_facts(item, record)
    elif isinstance(cond, Not):
        yield from condition_facts(cond.item, record)
    elif isinstance(cond, Asserted):
        return
    else:
        if not record:
            yield from (cond.ratio_of or (cond.subject,)) if isinstance(cond, Compare) else (cond.subject,)
        value = getattr(cond, "value", None)
        if isinstance(value, (FactRef, RankOf)):
            yield value.path


@dataclass(frozen=True)
class Until:
    """Until when a finding lasts: a date fact plus a period."""
    fact: str
    plus: object                 # Period | ParamRef
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Rule:
    """One provision as a rule: a finding, a requirement, a derived fact or an exception."""
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
    strength: str = "required"   # requirement: required (应当) | normally (一般应当, 原则上)
    exception_to: tuple = ()     # exception: the rules whose unmet it waives while `when` holds


@dataclass(frozen=True)
class Source:
    """The document a policy file transcribes: title, issuer, date."""
    document: str
    issuer: str = ""
    date: str | None = None
    file: str = ""
    note: str = ""


@dataclass(frozen=True)
class Jurisdiction:
    """Whom a document binds (language.jurisdiction): regions by name, and optionally 管理权限."""
    regions: tuple
    management: tuple = ()
    note: str = ""
    loc: Location = field(default_factory=Location, compare=False)

    def label(self) -> str:
        """The regions as a reader sees them (宜昌市、夷陵区)."""
        return "、".join(self.regions)


@dataclass(frozen=True)
class Policy:
    """One policy file: its document, parameters, derived quantities and rules."""
    id: str
    title: str
    source: Source
    in_force: InForce
    file: str
    parameters: tuple = ()
    derived: tuple = ()
    rules: tuple = ()
    boundary: str = "民法典"
    jurisdiction: Jurisdiction | None = None      # None: not stated (lint refuses it, E408)
    groups: dict = field(default_factory=dict, compare=False, hash=False)       # raw, read by aggregate.load_structure
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
    """Every policy of a directory, with the outcome catalogue and the provision register."""
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
