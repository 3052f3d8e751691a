"""Aggregate rules computed in the database: one grouped query per group.

What to count is decided here (the rules in force, the groups and instances in scope);
the store counts in SQL (``aggregate/sql.py``) and
only counts and the few listed members come back, to be judged against the targets.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction
from functools import partial

from cadre_policy.language import model as m
from cadre_policy.language.jurisdiction import national, regions_of
from cadre_policy.language.parameters import parameters_on, value_on
from cadre_policy.aggregate.model import AggregateRule, Band, Group
from cadre_policy.aggregate.candidates import candidate_keys, possible
from cadre_policy.aggregate.partition import ALL_KEY, Scope, UnitPlace, instance_key, places
from cadre_policy.aggregate.results import (MET, NOT_APPLICABLE, NOT_MET, UNKNOWN, InstanceResult, Member, StructureReport, judge,
                      target_text)
from cadre_policy.errors import UserError
from cadre_policy.i18n import _


class StructureError(UserError):
    """A problem with what the user asked for (an unknown region or unit)."""


def _target(resolve, rule: AggregateRule):
    if rule.target is None:
        return None
    as_number = (lambda v: Fraction(v)) if rule.measure in ("share", "share_of_teams") else int
    if isinstance(rule.target, Band):
        return (as_number(resolve(rule.target.low)), as_number(resolve(rule.target.high)))
    return as_number(resolve(rule.target))


def _status(rule: AggregateRule, target, members: int, matched: int, unknown: int) -> tuple[str, str]:
    """(figure, status) of one instance; an empty instance is not applicable, never 0/0."""
    if members == 0:
        return "—", NOT_APPLICABLE
    if rule.measure == "count":
        figure = str(matched) + (f"（+{unknown} 待定）" if unknown else "")
        return figure, judge(rule.op, Fraction(matched), Fraction(matched + unknown), target)
    if rule.measure == "exists":
        status = MET if matched else (UNKNOWN if unknown else NOT_MET)
        return f"{matched}/{members}", status
    figure = f"{matched}/{members}" + (f"（+{unknown} 待定）" if unknown else "")
    return figure, judge(rule.op, Fraction(matched, members), Fraction(matched + unknown, members), target)


def run(policy_set: m.PolicySet, groups: list[Group], rules: list[AggregateRule], store, as_of: date,
        scope: Scope, overrides: dict | None = None, members_limit: int | None = 50) -> StructureReport:
    """Compute every rule in force over every group instance in scope (see ``evaluate_structure``)."""
    from cadre_policy.aggregate.sql import GroupPlan, count_groups
    report = StructureReport(as_of, policy_set.digest, scope.region)
    units = store.units()
    unit_places = places(units)
    _check_scope(scope, unit_places)
    inside = _Inside(policy_set, units, unit_places)
    rules = [r for r in rules if policy_set.in_force(r, as_of)]
    if not rules:
        return report
    resolve = partial(value_on, params=parameters_on(policy_set, as_of, overrides), as_of=as_of)
    by_group: dict[str, list[AggregateRule]] = defaultdict(list)
    for rule in rules:
        by_group[rule.group].append(rule)
    group_of = {g.name: g for g in groups}
    asked = []
    for name, group_rules in by_group.items():
        group = group_of[name]
        if scope.unit is not None and possible(group.members, unit_places[scope.unit], resolve) is False:
            continue    # the unit cannot hold a member of this group
        keys = _narrow(scope.keys(unit_places, group.per), inside.union(group_rules, group.per))
        query_keys = _with_team_units(keys, group_rules, scope, unit_places, inside)
        if query_keys is not None and not query_keys:
            continue
        asked.append((group, group_rules, GroupPlan(group.members, group.per, tuple(r.condition for r in group_rules),
                                                    None if query_keys is None else frozenset(query_keys))))
    counted = count_groups(store.engine, as_of, resolve, unit_places, [plan for _rule, _key, plan in asked], members_limit)
    for (group, group_rules, _plan), counts in zip(asked, counted):
        for i, rule in enumerate(group_rules):
            report.results += _rule_results(rule, i, group, counts, scope, unit_places, _target(resolve, rule),
                                            resolve, inside)
    report.results.sort(key=lambda r: (r.rule.order, r.region, r.key))
    return report


class _Inside:
    """The group instances inside each aggregate rule's jurisdiction (None: every instance).

    A document counts its targets only where it binds (language.jurisdiction): an instance is
    inside when a unit it covers lies, along its parent chain, in one of the document's regions.
    """

    def __init__(self, policy_set: m.PolicySet, units: dict, unit_places: dict):
        self.policy_set = policy_set
        self.unit_places = unit_places
        self.regions = {uid: set(regions_of(units, uid)) for uid in units}
        self._memo: dict = {}

    def keys(self, rule: AggregateRule, per: str) -> set | None:
        jurisdiction = self.policy_set.policy_of(rule).jurisdiction
        if national(jurisdiction):
            return None
        memo = (jurisdiction.regions, per)
        if memo not in self._memo:
            wanted = set(jurisdiction.regions)
            self._memo[memo] = {instance_key(p, per) for uid, p in self.unit_places.items()
                                if self.regions.get(uid, set()) & wanted}
        return self._memo[memo]

    def union(self, rules, per: str) -> set | None:
        found: set = set()
        for rule in rules:
            keys = self.keys(rule, per)
            if keys is None:
                return None
            found |= keys
        return found


def _narrow(keys: set | None, inside: set | None) -> set | None:
    if inside is None:
        return keys
    return set(inside) if keys is None else keys & inside


def _with_team_units(keys, rules, scope: Scope, unit_places, inside: _Inside) -> set | None:
    """The unit keys to query: a share of teams rolled up per city needs every team of a kept city."""
    if keys is None:
        return None
    needed = set(keys)
    for rule in rules:
        if rule.measure == "share_of_teams":
            kept = _narrow(scope.keys(unit_places, rule.per), inside.keys(rule, rule.per))
            needed |= {p.id for p in unit_places.values() if kept is None or instance_key(p, rule.per) in kept}
    return needed


def _check_scope(scope: Scope, unit_places: dict[str, UnitPlace]) -> None:
    if scope.unit is not None and scope.unit not in unit_places:
        raise StructureError(_("unknown unit id: {id}").format(id=scope.unit))
    if scope.region is not None:
        known = {p.region for p in unit_places.values()} | {p.city for p in unit_places.values()}
        if scope.region not in known:
            raise StructureError(_("unknown region: {region} (known: {known})").format(
                region=scope.region, known=", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")))


def _instance_keys(group: Group, keys, unit_places, totals, resolve) -> list[str]:
    """Every instance in scope, empty ones included (they are reported as not applicable)."""
    found = candidate_keys(group.members, group.per, unit_places, resolve) | set(totals)
    return sorted(k for k in found if keys is None or k in keys)


def _where(per: str, key: str, unit_places) -> tuple[str, str, str | None]:
    """(label, region for grouping, unit id) of an instance."""
    if per == "unit":
        place = unit_places[key]
        return place.name, place.region, key
    if per == "all":
        return "全部", "全部", None
    return key, key, None


def _rule_results(rule, i, group, counts, scope, unit_places, target, resolve, inside) -> list[InstanceResult]:
    share = rule.measure in ("share", "share_of_teams")
    goal = target_text(rule.op, target, share)
    if rule.measure == "share_of_teams":
        kept = _narrow(scope.keys(unit_places, rule.per), inside.keys(rule, rule.per))
        empty = candidate_keys(group.members, rule.per, unit_places, resolve)
        return _team_results(rule, i, counts, unit_places, target, goal,
                             lambda key: kept is None or key in kept, empty)
    out = []
    keys = _narrow(scope.keys(unit_places, group.per), inside.keys(rule, group.per))
    for key in _instance_keys(group, keys, unit_places, counts.totals, resolve):
        n, matched, unknown = counts.totals.get(key, (0, (0,) * (i + 1), (0,) * (i + 1)))
        t, u = matched[i], unknown[i]
        figure, status = _status(rule, target, n, t, u)
        members = tuple(Member(r.cadre, r.name, r.counted[i]) for r in counts.listed.get(key, ()))
        label, region, unit = _where(group.per, key, unit_places)
        out.append(InstanceResult(rule, key, label, region, unit, n, t, u, figure, goal, status, members,
                                  len(members) >= n))
    return out


def _team_results(rule, i, counts, unit_places, target, goal, keep, candidates) -> list[InstanceResult]:
    """share_of_teams: each unit's team counts when some member matches; teams roll up by ``rule.per``."""
    rolled: dict[str, list] = defaultdict(list)
    for unit_id, (_members, matched, unknown) in counts.totals.items():
        place = unit_places[unit_id]
        value = "yes" if matched[i] else ("unknown" if unknown[i] else "no")
        rolled[{"region": place.region, "city": place.city, "all": ALL_KEY}[rule.per]].append((place, value))
    out = []
    for key in sorted(set(rolled) | set(candidates)):   # a city with no team on record: not applicable
        if not keep(key):
            continue
        teams = sorted(rolled.get(key, ()), key=lambda pv: pv[0].id)
        n = len(teams)
        t = sum(1 for _key, v in teams if v == "yes")
        u = sum(1 for _key, v in teams if v == "unknown")
        figure, status = _status(rule, target, n, t, u)
        members = tuple(Member(p.id, p.name + _matching_names(counts.listed.get(p.id, ()), i), v, p.id)
                        for p, v in teams)
        label, region, _city = _where(rule.per, key, unit_places)
        out.append(InstanceResult(rule, key, label, region, None, n, t, u, figure, goal, status, members, True))
    return out


def _matching_names(listed, i) -> str:
    names = [f"{r.cadre} {r.name}" for r in listed if r.counted[i] == "yes"]
    return f"（{'、'.join(names)}）" if names else ""
