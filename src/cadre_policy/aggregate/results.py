"""Results of aggregate rules: figures, targets, statuses, and a stable comparable form.

A figure is exact: a count, or a fraction kept as written (3/5, not 0.6). Members
whose condition is unknown (a field not on record) widen the figure to a range;
a target is met only when it is met however the unknowns turn out, not met only
when it is missed however they turn out, and unknown otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from cadre_policy.aggregate.model import AggregateRule
from cadre_policy.i18n import N_, _

MET, NOT_MET, NOT_APPLICABLE, UNKNOWN = "met", "not_met", "not_applicable", "unknown"
STATUS_TITLES = {MET: N_("met"), NOT_MET: N_("not met"), NOT_APPLICABLE: N_("not applicable"),
                 UNKNOWN: N_("pending (records incomplete)")}


def status_title(status: str) -> str:
    """A target's status in the reader's language: 达到, 未达到, 不适用, 待定（资料不全）."""
    return _(STATUS_TITLES[status]) if status in STATUS_TITLES else status
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _holds(op: str, value: Fraction, target) -> bool:
    if op == "band":
        return target[0] <= value <= target[1]
    return {">=": value >= target, ">": value > target, "<=": value <= target, "<": value < target}[op]


def judge(op: str, low: Fraction, high: Fraction, target) -> str:
    """Met / not met / unknown for a figure known to lie in ``[low, high]``.

    Every comparison here is monotone or a band, so the two ends decide.

    >>> judge(">=", Fraction(3, 5), Fraction(3, 5), Fraction(3, 5))
    'met'
    >>> judge(">=", Fraction(2, 5), Fraction(3, 5), Fraction(3, 5))
    'unknown'
    """
    at_low, at_high = _holds(op, low, target), _holds(op, high, target)
    if op == "band":
        if at_low and at_high:
            return MET
        if high < target[0] or low > target[1]:
            return NOT_MET
        return UNKNOWN
    if at_low and at_high:
        return MET
    if not at_low and not at_high:
        return NOT_MET
    return UNKNOWN


def fraction_text(value: Fraction) -> str:
    """A ratio target as an officer reads it: 60% when exact, else n/d.

    >>> fraction_text(Fraction(3, 5)), fraction_text(Fraction(1, 3))
    ('60%', '1/3')
    """
    percent = value * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{value.numerator}/{value.denominator}"


def target_text(op: str | None, target, share: bool) -> str:
    """The target in one short phrase: ``≥ 60%``, ``8–12``, ``≥ 1``."""
    if op is None:
        return "≥ 1"
    show = fraction_text if share else str
    if op == "band":
        return f"{show(target[0])}–{show(target[1])}"
    return f"{_SYMBOL[op]} {show(target)}"


@dataclass(frozen=True)
class Member:
    """A member counted (or not) by a rule: enough for an officer to check the figure."""
    id: str
    name: str
    counted: str                 # yes | no | unknown
    unit: str = ""               # for teams: the unit id; for cadres: empty


@dataclass(frozen=True)
class InstanceResult:
    """One aggregate rule on one group instance (a unit, a region, a city, or everyone)."""
    rule: AggregateRule
    key: str                     # the instance: unit id, region name, city name, or "*"
    label: str                   # what an officer reads: unit name, region name, 全市
    region: str                  # for grouping the report
    unit: str | None             # the unit id for a per-unit instance
    members: int                 # cadres (or teams, for share_of_teams) in the instance
    matched: int                 # of which the condition certainly holds
    unknown: int                 # of which it is unknown
    figure: str
    target: str
    status: str
    listed: tuple = ()           # Members
    listed_all: bool = True

    @property
    def finding(self) -> str | None:
        """The finding code when the target is missed, else None."""
        return self.rule.finding if self.status == NOT_MET else None


@dataclass
class StructureReport:
    """Every aggregate rule in force on ``as_of`` on every group instance in scope."""
    as_of: date
    policy_digest: str
    region: str | None = None
    results: list = field(default_factory=list)    # InstanceResult, in rule order then region, key

    def comparable(self) -> dict:
        """``{(rule id, instance key): (figure, target, status)}``: what a what-if compares."""
        return {(r.rule.id, r.key): (r.figure, r.target, r.status) for r in self.results}

    def findings(self) -> list[InstanceResult]:
        """The instances that miss their target."""
        return [r for r in self.results if r.status == NOT_MET]

    def changes(self, other: "StructureReport") -> list[tuple]:
        """``(rule id, key, this (figure, target, status), other's)`` where the two differ.

        An instance present on one side only is compared with None.
        """
        mine, theirs = self.comparable(), other.comparable()
        return [(rule, key, mine.get((rule, key)), theirs.get((rule, key)))
                for rule, key in sorted(set(mine) | set(theirs))
                if mine.get((rule, key)) != theirs.get((rule, key))]

    def status_changes(self, other: "StructureReport") -> list[tuple]:
        """``(rule id, key, this status, other's status)`` for the instances whose status differs."""
        return [(rule, key, mine[2] if mine else None, theirs[2] if theirs else None)
                for rule, key, mine, theirs in self.changes(other)
                if (mine[2] if mine else None) != (theirs[2] if theirs else None)]

    def counts(self) -> dict:
        """How many instances have each status."""
        out: dict = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out
