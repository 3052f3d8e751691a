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
MET, UNMET, UNKNOWN = "met", "unmet", "unknown"
ELIGIBILITY_VALUES = ("eligible", "pending", "ineligible")


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


def eligibility(results: Iterable[str]) -> str:
    """A determination's eligibility from its requirements' results.

    Any unmet → ineligible; else any unknown → pending; else eligible.
    """
    results = set(results)
    if UNMET in results:
        return "ineligible"
    if UNKNOWN in results:
        return "pending"
    return "eligible"


@dataclass(frozen=True)
class Outcome:
    """One cadre's decided outcome (rule ids, no reasons)."""
    findings: tuple        # (rule id, code, superseded by rule id or None) of each fired finding, in rule order
    requirements: tuple    # (determination, rule id, code, result) of each applicable requirement, in rule order
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
    requirements: tuple    # (rule id, code, determination) of requirement rules, in rule order

    @classmethod
    def of(cls, compiled: ir.CompiledSet, outcomes: m.Outcomes) -> "Decider":
        rules = sorted(compiled.rules.values(), key=lambda r: r.order)
        return cls(tuple((r.id, r.code) for r in rules if r.kind == "finding"),
                   tuple((r.id, r.supersedes) for r in rules if r.supersedes),
                   tuple((r.id, r.code, determination_of(outcomes, r.code))
                         for r in rules if r.kind == "requirement"))

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
        requirements = []
        results: dict = {}
        for rule_id, code, determination in self.requirements:
            result = requirement_result(fired, rule_id)
            if result is not None:
                requirements.append((determination, rule_id, code, result))
                results.setdefault(determination, []).append(result)
        return Outcome(findings, tuple(requirements),
                       tuple(sorted((d, eligibility(rs)) for d, rs in results.items())))


def determination_of(outcomes: m.Outcomes, code: str) -> str:
    """The determination a requirement code belongs to (promotion unless the register says otherwise)."""
    return outcomes.requirements.get(code, {}).get("determination", "promotion")
