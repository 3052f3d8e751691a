"""The outcome decision, made once: from the firings of one cadre, which findings are
active or superseded, each requirement's result, and each determination's eligibility.

``check`` (``PolicyRunner.assemble``) and the what-if worker both call ``Decider.decide``;
the what-if compares the cheap ``Outcome.summary`` for every cadre and assembles full
results (with reasons) only where the summaries differ.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from cadre_policy.compile import ir
from cadre_policy.language import model as m

# the requirement results, and the eligibility values in the order summaries list them
MET, UNMET, UNKNOWN, WAIVED = "met", "unmet", "unknown", "waived"
ELIGIBILITY_VALUES = ("eligible", "pending", "exception_required", "ineligible")
NORMALLY = "normally"      # a requirement's strength: 一般应当 / 原则上 (else "required")


def requirement_result(fired: frozenset, rule_id: str) -> str | None:
    """met | unmet | unknown from a requirement's fired tests; None when it does not apply.

    A requirement applies unless only ``not_applies`` fired; it is met or unmet only when
    ``applies`` fired too (a missing fact fires neither side of a test), else unknown.
    """
    applies = (rule_id, "applies") in fired
    if not applies and (rule_id, "not_applies") in fired:
        return None
    if applies and (rule_id, "unmet") in fired:
        return UNMET
    if applies and (rule_id, "met") in fired:
        return MET
    return UNKNOWN


def eligibility(results: Iterable[tuple[str, str]], exception_finding: bool = False) -> str:
    """A determination's eligibility from its requirements' (result, strength) pairs.

    Any hard requirement unmet → ineligible; else any unknown → pending; else a normally
    required one unmet (一般应当), a waived one (破格), or an active finding of kind
    ``exception`` (越级) → exception_required; else eligible.

    >>> eligibility([("unmet", "normally"), ("met", "required")])
    'exception_required'
    >>> eligibility([("waived", "required"), ("unknown", "required")])
    'pending'
    """
    results = set(results)
    if (UNMET, "required") in results:
        return "ineligible"
    if any(result == UNKNOWN for result, _ in results):
        return "pending"
    if exception_finding or any(result in (UNMET, WAIVED) for result, _ in results):
        return "exception_required"
    return "eligible"


def exceptions_in_effect(exceptions: tuple, holding: set) -> set:
    """The exception rules in effect, as in Catala's default logic: one is in effect when its
    condition holds and no exception to it is in effect (the checker rejects cycles, E407).

    Args:
        exceptions: (rule id, ids of the rules it is an exception to) of each exception rule.
        holding: the exception rules whose condition holds.
    """
    against: dict = {}
    for rule_id, targets in exceptions:
        for target in targets:
            against.setdefault(target, []).append(rule_id)
    effect: dict = {}

    def in_effect(rule_id, trail=()):
        if rule_id not in effect:
            effect[rule_id] = rule_id in holding and rule_id not in trail and not any(
                in_effect(other, trail + (rule_id,)) for other in against.get(rule_id, ()))
        return effect[rule_id]
    return {rule_id for rule_id, _ in exceptions if in_effect(rule_id)}


@dataclass(frozen=True)
class Outcome:
    """One cadre's decided outcome (rule ids, no reasons)."""
    findings: tuple        # (rule id, code, superseded by rule id or None) of each fired finding, in rule order
    requirements: tuple    # (determination, rule id, code, result, waived by) of each applicable requirement
    eligibility: tuple     # (determination, eligibility), sorted

    @property
    def summary(self) -> tuple[frozenset, tuple]:
        """What a what-if compares: the active finding codes and the eligibilities."""
        return frozenset(code for _, code, by in self.findings if by is None), self.eligibility


@dataclass(frozen=True)
class Decider:
    """The rules of one compiled set as the outcome decision reads them."""
    findings: tuple        # (rule id, code) of finding rules, in rule order
    supersedes: tuple      # (rule id, targets) of rules that supersede others, in rule order
    requirements: tuple    # (rule id, code, determination, strength) of requirement rules, in rule order
    exceptions: tuple = ()         # (rule id, targets) of exception rules (破格), in rule order
    exception_findings: tuple = ()  # (finding code, determination) of findings of kind `exception` (越级)

    @classmethod
    def of(cls, compiled: ir.CompiledSet, outcomes: m.Outcomes) -> "Decider":
        rules = sorted(compiled.rules.values(), key=lambda r: r.order)
        return cls(tuple((r.id, r.code) for r in rules if r.kind == "finding"),
                   tuple((r.id, r.supersedes) for r in rules if r.supersedes),
                   tuple((r.id, r.code, determination_of(outcomes, r.code), r.strength)
                         for r in rules if r.kind == "requirement"),
                   tuple((r.id, r.exception_to) for r in rules if r.kind == "exception"),
                   tuple((code, entry.get("determination", "promotion")) for code, entry in outcomes.findings.items()
                         if entry.get("kind") == "exception"))

    def decide(self, fired: frozenset) -> Outcome:
        """The outcome of one cadre from its fired ``(rule id, test)`` pairs."""
        fired_rules = {rule_id for rule_id, test in fired if test == "fire"}
        superseded_by: dict = {}
        for rule_id, targets in self.supersedes:
            if rule_id in fired_rules:
                for target in targets:
                    superseded_by.setdefault(target, rule_id)
        findings = tuple((rule_id, code, superseded_by.get(rule_id))
                         for rule_id, code in self.findings if rule_id in fired_rules)
        waivers: dict = {}
        if self.exceptions:
            holding = {rule_id for rule_id, test in fired if test == "holds"}
            effective = exceptions_in_effect(self.exceptions, holding)
            for rule_id, targets in self.exceptions:
                for target in targets if rule_id in effective else ():
                    waivers.setdefault(target, rule_id)
        requirements = []
        results: dict = {}
        for rule_id, code, determination, strength in self.requirements:
            result = requirement_result(fired, rule_id)
            if result is not None:
                waived_by = waivers.get(rule_id) if result == UNMET else None
                result = WAIVED if waived_by else result
                requirements.append((determination, rule_id, code, result, waived_by))
                results.setdefault(determination, []).append((result, strength))
        active = {code for _, code, by in findings if by is None}
        needs_exception = {d for code, d in self.exception_findings if code in active}
        return Outcome(findings, tuple(requirements),
                       tuple(sorted((d, eligibility(rs, d in needs_exception)) for d, rs in results.items())))


def determination_of(outcomes: m.Outcomes, code: str) -> str:
    """The determination a requirement code belongs to (promotion unless the register says otherwise)."""
    return outcomes.requirements.get(code, {}).get("determination", "promotion")
