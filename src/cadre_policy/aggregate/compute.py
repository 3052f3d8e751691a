"""Aggregate rules computed in the database: one grouped query per group.

For each group the query first reduces the member posts to one row per (instance,
cadre), folding each rule's condition with Kleene "or" over the cadre's posts in
that instance (0 false < 1 unknown < 2 true, so MAX is "or"); a cadre holding two
posts in one team is one member. The outer query counts members, certain matches
and unknowns per instance. Nothing per cadre comes back to Python except the few
members listed for the report.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction
from uuid import uuid4

from sqlalchemy import Column, Integer, MetaData, String, Table, case, func, insert, literal, select

from cadre_policy.facts.models import _id_type

from cadre_policy.language import model as m
from cadre_policy.compile.compiler import parameters_on
from cadre_policy.aggregate.model import AggregateRule, Band, Group
from cadre_policy.aggregate.candidates import candidate_keys, possible
from cadre_policy.aggregate.partition import ALL_KEY, Scope, UnitPlace, instance_key, places
from cadre_policy.aggregate.results import (MET, NOT_APPLICABLE, NOT_MET, UNKNOWN, InstanceResult, Member, StructureReport, judge,
                      target_text)
from cadre_policy.errors import UserError
from cadre_policy.aggregate.sql import CADRES, POSTS, UNITS, ConditionSQL, current

TRUE, MAYBE, FALSE = 2, 1, 0
COUNTED = {TRUE: "yes", MAYBE: "unknown", FALSE: "no"}


class StructureError(UserError):
    """A problem with what the user asked for (an unknown region or unit)."""


def _places_table(conn, unit_places: dict[str, UnitPlace]) -> Table:
    """A temporary table of each unit's region and city, for grouping in SQL."""
    table = Table(f"tmp_structure_{uuid4().hex[:10]}", MetaData(),
                  Column("unit_id", _id_type(), primary_key=True), Column("unit", _id_type()),
                  Column("region", String(200)), Column("city", String(200)),
                  prefixes=["TEMPORARY"], mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
    table.create(conn)
    rows = [{"unit_id": p.id, "unit": p.id, "region": p.region, "city": p.city} for p in unit_places.values()]
    for i in range(0, len(rows), 1000):
        conn.execute(insert(table), rows[i:i + 1000])
    return table


class _GroupQuery:
    """The SQL of one group and the rules over it."""

    def __init__(self, group: Group, rules: list[AggregateRule], conditions: ConditionSQL, place_table: Table):
        self.group = group
        self.rules = rules
        post, unit, cadre = POSTS.alias("member_post"), UNITS.alias("member_unit"), CADRES.alias("member")
        # the per-unit key is a copy of the unit id: grouping by posts.unit_id itself lets
        # SQLite walk the posts by that index, a random read per post (10x slower)
        key = {"unit": place_table.c.unit, "region": place_table.c.region, "city": place_table.c.city,
               "all": literal(ALL_KEY)}[group.per]
        self.key = key
        folded = []
        for i, rule in enumerate(rules):
            if rule.condition is None:
                folded.append(literal(TRUE).label(f"v{i}"))
                continue
            cond = conditions.condition(rule.condition, cadre, post, unit)
            folded.append(func.max(case((cond, TRUE), (~cond, FALSE), else_=MAYBE)).label(f"v{i}"))
        self.source = (post.join(unit, post.c.unit_id == unit.c.id)
                       .join(cadre, cadre.c.id == post.c.cadre_id)
                       .join(place_table, place_table.c.unit_id == post.c.unit_id))
        self.where = [current(post, conditions.as_of), conditions.condition(group.members, cadre, post, unit)]
        self.columns = [key.label("k"), cadre.c.id.label("cid"), *folded]
        self.group_by = [key, cadre.c.id]

    def members(self, keys):
        """One row per (instance, member): each rule's condition folded over the member's posts."""
        where = list(self.where)
        if keys is not None:
            where.append(self.key.in_(sorted(keys)))
        return select(*self.columns).select_from(self.source).where(*where).group_by(*self.group_by)

    def materialise(self, conn, keys) -> Table:
        """The members query into a temporary table, so totals and listing read it, not the posts."""
        columns = [Column("k", String(200)), Column("cid", _id_type())]
        columns += [Column(f"v{i}", Integer) for i in range(len(self.rules))]
        table = Table(f"tmp_members_{uuid4().hex[:10]}", MetaData(), *columns, prefixes=["TEMPORARY"],
                      mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
        table.create(conn)
        conn.execute(insert(table).from_select([c.name for c in columns], self.members(keys)))
        return table

    def totals(self, members: Table):
        cols = [members.c.k, func.count().label("n")]
        for i in range(len(self.rules)):
            v = members.c[f"v{i}"]
            cols += [func.sum(case((v == TRUE, 1), else_=0)).label(f"t{i}"),
                     func.sum(case((v == MAYBE, 1), else_=0)).label(f"u{i}")]
        return select(*cols).group_by(members.c.k)

    @staticmethod
    def listing(members: Table, limit: int | None):
        rank = func.row_number().over(partition_by=members.c.k, order_by=members.c.cid).label("rn")
        ranked = select(members, rank).subquery("r")
        query = (select(ranked, CADRES.c.name.label("cname"))
                 .join_from(ranked, CADRES, CADRES.c.id == ranked.c.cid).order_by(ranked.c.k, ranked.c.cid))
        return query.where(ranked.c.rn <= limit) if limit is not None else query


def _target(conditions: ConditionSQL, rule: AggregateRule):
    if rule.target is None:
        return None
    as_number = (lambda v: Fraction(v)) if rule.measure in ("share", "share_of_teams") else int
    if isinstance(rule.target, Band):
        return (as_number(conditions.value(rule.target.low)), as_number(conditions.value(rule.target.high)))
    return as_number(conditions.value(rule.target))


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


def in_force_rules(rules: list[AggregateRule], policy_set: m.PolicySet, as_of: date) -> list[AggregateRule]:
    """The aggregate rules in force on ``as_of`` (their policy's period, narrowed by their own)."""
    policies = {p.id: p for p in policy_set.policies}
    return [r for r in rules if policies[r.policy].in_force.holds(as_of) and (r.in_force is None or r.in_force.holds(as_of))]


def run(policy_set: m.PolicySet, groups: list[Group], rules: list[AggregateRule], store, as_of: date,
        scope: Scope, overrides: dict | None = None, members_limit: int | None = 50) -> StructureReport:
    """Compute every rule in force over every group instance in scope (see ``evaluate_structure``)."""
    report = StructureReport(as_of, policy_set.digest, scope.region)
    unit_places = places(store.units())
    _check_scope(scope, unit_places)
    rules = in_force_rules(rules, policy_set, as_of)
    if not rules:
        return report
    conditions = ConditionSQL(as_of, parameters_on(policy_set, as_of, overrides))
    by_group: dict[str, list[AggregateRule]] = defaultdict(list)
    for rule in rules:
        by_group[rule.group].append(rule)
    group_of = {g.name: g for g in groups}
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA temp_store = MEMORY")   # the temporary tables below
        place_table = _places_table(conn, unit_places)
        try:
            for name, group_rules in by_group.items():
                group = group_of[name]
                if scope.unit is not None and possible(group.members, unit_places[scope.unit],
                                                       conditions.value) is False:
                    continue    # the unit cannot hold a member of this group
                keys = scope.keys(unit_places, group.per)
                query_keys = _with_team_units(keys, group_rules, scope, unit_places)
                if query_keys is not None and not query_keys:
                    continue
                query = _GroupQuery(group, group_rules, conditions, place_table)
                members = query.materialise(conn, query_keys)
                totals = {row.k: row for row in conn.execute(query.totals(members))}
                listed = defaultdict(list)
                if members_limit != 0:
                    for row in conn.execute(query.listing(members, members_limit)):
                        listed[row.k].append(row)
                members.drop(conn)
                for i, rule in enumerate(group_rules):
                    report.results += _rule_results(rule, i, group, totals, listed, scope, unit_places,
                                                    _target(conditions, rule), conditions.value)
        finally:
            place_table.drop(conn)
            conn.commit()
    report.results.sort(key=lambda r: (r.rule.order, r.region, r.key))
    return report


def _with_team_units(keys, rules, scope: Scope, unit_places) -> set | None:
    """The unit keys to query: a share of teams rolled up per city needs every team of a kept city."""
    if keys is None:
        return None
    needed = set(keys)
    for rule in rules:
        if rule.measure == "share_of_teams":
            kept = scope.keys(unit_places, rule.per)
            needed |= {p.id for p in unit_places.values() if kept is None or instance_key(p, rule.per) in kept}
    return needed


def _check_scope(scope: Scope, unit_places: dict[str, UnitPlace]) -> None:
    if scope.unit is not None and scope.unit not in unit_places:
        raise StructureError(f"unknown unit id: {scope.unit}")
    if scope.region is not None:
        known = {p.region for p in unit_places.values()} | {p.city for p in unit_places.values()}
        if scope.region not in known:
            raise StructureError(f"unknown region: {scope.region} (known: {', '.join(sorted(known)[:12])}"
                                 f"{', ...' if len(known) > 12 else ''})")


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


def _rule_results(rule, i, group, totals, listed, scope, unit_places, target, resolve) -> list[InstanceResult]:
    share = rule.measure in ("share", "share_of_teams")
    goal = target_text(rule.op, target, share)
    if rule.measure == "share_of_teams":
        kept = scope.keys(unit_places, rule.per)
        empty = candidate_keys(group.members, rule.per, unit_places, resolve)
        return _team_results(rule, i, totals, listed, unit_places, target, goal,
                             lambda key: kept is None or key in kept, empty)
    out = []
    keys = scope.keys(unit_places, group.per)
    for key in _instance_keys(group, keys, unit_places, totals, resolve):
        row = totals.get(key)
        n, t, u = (row.n, int(row._mapping[f"t{i}"] or 0), int(row._mapping[f"u{i}"] or 0)) if row is not None else (0, 0, 0)
        figure, status = _status(rule, target, n, t, u)
        members = tuple(Member(r.cid, r.cname, COUNTED[r._mapping[f"v{i}"]]) for r in listed.get(key, ()))
        label, region, unit = _where(group.per, key, unit_places)
        out.append(InstanceResult(rule, key, label, region, unit, n, t, u, figure, goal, status, members,
                                  len(members) >= n))
    return out


def _team_results(rule, i, totals, listed, unit_places, target, goal, keep, candidates) -> list[InstanceResult]:
    """share_of_teams: each unit's team counts when some member matches; teams roll up by ``rule.per``."""
    rolled: dict[str, list] = defaultdict(list)
    for unit_id, row in totals.items():
        place = unit_places[unit_id]
        t, u = int(row._mapping[f"t{i}"] or 0), int(row._mapping[f"u{i}"] or 0)
        value = TRUE if t else (MAYBE if u else FALSE)
        rolled[{"region": place.region, "city": place.city, "all": ALL_KEY}[rule.per]].append((place, value))
    out = []
    for key in sorted(set(rolled) | set(candidates)):   # a city with no team on record: not applicable
        if not keep(key):
            continue
        teams = sorted(rolled.get(key, ()), key=lambda pv: pv[0].id)
        n = len(teams)
        t = sum(1 for _, v in teams if v == TRUE)
        u = sum(1 for _, v in teams if v == MAYBE)
        figure, status = _status(rule, target, n, t, u)
        members = tuple(Member(p.id, p.name + _matching_names(listed.get(p.id, ()), i), COUNTED[v], p.id)
                        for p, v in teams)
        label, region, _ = _where(rule.per, key, unit_places)
        out.append(InstanceResult(rule, key, label, region, None, n, t, u, figure, goal, status, members, True))
    return out


def _matching_names(rows, i) -> str:
    names = [f"{r.cid} {r.cname}" for r in rows if r._mapping[f"v{i}"] == TRUE]
    return f"（{'、'.join(names)}）" if names else ""
