"""Team and population structure targets (issue 6): groups of cadres and aggregate rules.

A policy file may declare ``groups:`` (which cadres, partitioned how) and
``structure:`` (a count, share or existence test over each group instance compared
with a target). Policies without them are ignored here. The public face:

* :func:`load_structure`: the groups and rules of a policy set, with diagnostics;
* :func:`structure_diagnostics`: what ``policy lint`` adds for them;
* :func:`evaluate_structure`: every target on every group instance, computed in the
  database, as a :class:`StructureReport` with a stable comparable form.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cadre_policy.language import model as m
from cadre_policy.diagnostics import Diagnostic, PolicyRejected
from cadre_policy.aggregate.check import StructureChecker
from cadre_policy.aggregate.compute import StructureError, run
from cadre_policy.aggregate.model import AggregateRule, Group
from cadre_policy.aggregate.parse import parse_policy
from cadre_policy.aggregate.partition import Scope
from cadre_policy.aggregate.results import InstanceResult, StructureReport

__all__ = ["StructureSet", "StructureReport", "InstanceResult", "StructureError", "load_structure",
           "structure_diagnostics", "evaluate_structure", "unit_structure", "with_structure_findings"]


@dataclass(frozen=True)
class StructureSet:
    """The groups and aggregate rules of a policy set, and the parameters they use."""
    groups: tuple
    rules: tuple
    diagnostics: tuple
    used_parameters: frozenset


def load_structure(policy_set: m.PolicySet) -> StructureSet:
    """Parse and check the ``groups:`` and ``structure:`` of every policy of the set."""
    groups: list[Group] = []
    rules: list[AggregateRule] = []
    diagnostics: list[Diagnostic] = []
    order = 0
    for policy in policy_set.policies:
        if not policy.groups and not policy.structure:
            continue
        g, r, d = parse_policy(policy, order)
        groups += g
        rules += r
        diagnostics += d
        order += len(policy.structure)
    checker = StructureChecker(policy_set, groups, rules)
    diagnostics += checker.check()
    return StructureSet(tuple(groups), tuple(rules), tuple(diagnostics), frozenset(checker.used_parameters))


def structure_diagnostics(policy_set: m.PolicySet, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` with the structure checks added, and without the 'unused parameter'
    warnings (W501) for parameters that only aggregate rules use."""
    structure = load_structure(policy_set)
    if not structure.rules and not structure.groups:
        return list(diagnostics)
    kept = [d for d in diagnostics
            if not (d.code == "W501" and any(f"'{p}'" in d.message for p in structure.used_parameters))]
    return kept + list(structure.diagnostics)


def evaluate_structure(policy_set: m.PolicySet, store, as_of: date, region: str | None = None, *,
                       unit: str | None = None, overrides: dict | None = None,
                       members_limit: int | None = 50) -> StructureReport:
    """Every aggregate rule in force on ``as_of`` over every group instance, from the fact store.

    Args:
        policy_set: A loaded, checked policy set (policies without ``structure:`` add nothing).
        store: A ``store.fact_store.FactStore``; aggregates are grouped queries in its database.
        as_of: The evaluation date: members are the cadres holding a matching post that day.
        region: Only the instances in this region (county) or city.
        unit: Only the instances this unit falls in (its team, its region, its city).
        overrides: Parameter values replacing those of the files (a what-if draft).
        members_limit: Members listed per instance (None: all); counts are never limited.

    Returns:
        A :class:`StructureReport`; ``report.comparable()`` maps (rule id, instance key)
        to (figure, target, status) for comparing two policy sets or drafts.

    Raises:
        PolicyRejected: the structure part of the policy set has errors.
        StructureError: an unknown region or unit.
        EvaluationError: a parameter has no value on ``as_of``.
    """
    structure = load_structure(policy_set)
    errors = [d for d in structure.diagnostics if d.severity == "error"]
    if errors:
        raise PolicyRejected(errors)
    scope = Scope(region=region, unit=unit)
    return run(policy_set, list(structure.groups), list(structure.rules), store, as_of, scope, overrides,
               members_limit)


def unit_structure(policy_set: m.PolicySet, store, as_of: date, unit: str) -> list[InstanceResult]:
    """The targets missed by the instances a unit falls in (for ``policy check --unit``)."""
    report = evaluate_structure(policy_set, store, as_of, unit=unit, members_limit=0)
    return report.findings()


def with_structure_findings(units: dict, report: StructureReport, policy_set: m.PolicySet) -> dict:
    """Units carrying the structure findings of every group instance they fall in.

    Group results are facts for individual rules: a rule can read
    ``{fact: current_post.unit.structure, has: rotation_share_below_target}``. A unit's
    list holds the codes its own team misses, and those its region and its city miss.
    """
    from cadre_policy.aggregate.partition import instance_key, places
    per = {g.name: g.per for g in load_structure(policy_set).groups}
    missed: dict[tuple, set] = {}
    for result in report.findings():
        missed.setdefault((per[result.rule.group], result.key), set()).add(result.rule.finding)
    out = {}
    where = places(units)
    for uid, unit in units.items():
        codes = set()
        for partition in ("unit", "region", "city", "all"):
            codes |= missed.get((partition, instance_key(where[uid], partition)), set())
        out[uid] = dict(unit, structure=sorted(codes))
    return out
