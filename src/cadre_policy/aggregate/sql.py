"""Structure targets in SQL: member conditions over posts, units and cadres, and the
grouped counts of each group instance, all in the database.

Only bound parameters reach the database. SQL's three-valued logic is Kleene's: a
comparison with a NULL field is unknown, so "missing data is never silently true or
false" holds in the database as it does in ``language.kleene``. Ages are compared
through birth dates computed here by the calendar rule, so every backend agrees.

For each group the query first reduces the member posts to one row per (instance,
cadre), folding each rule's condition with Kleene "or" over the cadre's posts in that
instance (0 false < 1 unknown < 2 true, so MAX is "or"); a cadre holding two posts in
one team is one member. The outer query counts members, certain matches and unknowns
per instance. Nothing per cadre comes back but the few members listed for the report.
``aggregate.compute`` asks for these counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable
from uuid import uuid4

from dateutil.relativedelta import relativedelta
from sqlalchemy import (Column, Integer, MetaData, String, Table, and_, case, exists, func, insert, literal, not_,
                        or_, select, true)

from cadre_policy.aggregate.check import CADRE_FIELDS, POST_FIELDS
from cadre_policy.aggregate.model import CadreTest, Held, PostTest
from cadre_policy.aggregate.partition import ALL_KEY
from cadre_policy.store import models
from cadre_policy.store.models import _id_type
from cadre_policy.store.queries import post_covers
from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t

CADRES = models.cadres
POSTS = models.posts
UNITS = models.units
_COLUMN = {"start": "start_date", "end": "end_date"}
TRUE, MAYBE, FALSE = 2, 1, 0
COUNTED = {TRUE: "yes", MAYBE: "unknown", FALSE: "no"}


def born_by(as_of: date, years: int) -> date:
    """The latest birth date of someone at least ``years`` old (completed) on ``as_of``.

    >>> born_by(date(2017, 6, 30), 45)
    datetime.date(1972, 6, 30)
    """
    day = as_of - relativedelta(years=years) + timedelta(days=3)
    while periods.completed_years(day, as_of) < years:
        day -= timedelta(days=1)
    return day


class ConditionSQL:
    """Compiles member conditions for one evaluation date and one way of reading values."""

    def __init__(self, as_of: date, resolve: Callable):
        self.as_of = as_of
        self.value = resolve        # a Literal or ParamRef -> its value (language.parameters)

    def condition(self, cond, cadres, posts, units):
        """The SQL expression of a member condition for the member's post ``posts``/``units``."""
        if isinstance(cond, m.All):
            return and_(true(), *(self.condition(c, cadres, posts, units) for c in cond.items))
        if isinstance(cond, m.Any):
            return or_(*(self.condition(c, cadres, posts, units) for c in cond.items)) if cond.items else ~true()
        if isinstance(cond, m.Not):
            return not_(self.condition(cond.item, cadres, posts, units))
        if isinstance(cond, Held):
            held, held_unit = POSTS.alias("held_post"), UNITS.alias("held_unit")
            return exists(select(held.c.cadre_id)
                          .select_from(held.join(held_unit, held.c.unit_id == held_unit.c.id))
                          .where(held.c.cadre_id == cadres.c.id, held.c.start_date <= self.as_of,
                                 self.condition(cond.condition, cadres, held, held_unit)))
        if isinstance(cond, CadreTest):
            if cond.field == "age":
                return self._age(cadres.c.birth_date, cond)
            return self._compare(cadres.c[cond.field], cond, CADRE_FIELDS[cond.field])
        if isinstance(cond, PostTest):
            if cond.field == "tenure":
                return self._tenure(posts.c.start_date, cond)
            if cond.field.startswith("unit."):
                column = units.c[cond.field[len("unit."):]]
            else:
                column = posts.c[_COLUMN.get(cond.field, cond.field)]
            if cond.op == "within":
                return and_(column >= periods.window_start(self.as_of, self._months(cond.value)),
                            column <= self.as_of)
            return self._compare(column, cond, POST_FIELDS[cond.field])
        raise TypeError(f"not a member condition: {cond!r}")

    def _compare(self, column, cond, kind: t.Type):
        if cond.op == "band":
            low, high = self.value(cond.value.low), self.value(cond.value.high)
            return and_(self._ordered(column, ">=", low, kind), self._ordered(column, "<=", high, kind))
        value = self.value(cond.value)
        if cond.op in ("in", "not_in"):
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            test = column.in_(items) if items else ~true()
            return test if cond.op == "in" else not_(test)
        if cond.op in ("==", "!="):
            return column == value if cond.op == "==" else column != value
        return self._ordered(column, cond.op, value, kind)

    @staticmethod
    def _ordered(column, op: str, value, kind: t.Type):
        if kind.values:   # ranks and education: an ordered vocabulary becomes a membership test
            index = kind.values.index(value)
            keep = {">=": kind.values[index:], ">": kind.values[index + 1:],
                    "<=": kind.values[:index + 1], "<": kind.values[:index]}[op]
            return column.in_(keep) if keep else ~true()
        return {">=": column >= value, ">": column > value, "<=": column <= value, "<": column < value}[op]

    def _months(self, period) -> int:
        amount = self.value(period.amount)
        return amount * 12 if period.unit == "years" else amount

    def _tenure(self, start, cond):
        """Time in the post compared with a period: complete (>= N) iff start <= the last such start."""
        months = self._months(cond.value)
        if cond.op in (">=", "<"):     # complete on the evaluation date, or not
            latest = periods.latest_start(self.as_of, months)
            return start <= latest if cond.op == ">=" else start > latest
        first = periods.window_start(self.as_of, months)      # tenure <= N: the closed window
        return start >= first if cond.op == "<=" else start < first

    def _age(self, birth, cond):
        def at_least(years):         # age >= years  <=>  born on or before born_by(years)
            return birth <= born_by(self.as_of, years)

        def at_most(years):          # age <= years  <=>  not (age >= years + 1)
            return birth > born_by(self.as_of, years + 1)

        if cond.op == "band":
            return and_(at_least(self.value(cond.value.low)), at_most(self.value(cond.value.high)))
        value = self.value(cond.value)
        if cond.op in ("in", "not_in"):
            test = or_(*(and_(at_least(v), at_most(v)) for v in value)) if value else ~true()
            return test if cond.op == "in" else not_(test)
        return {">=": lambda: at_least(value), ">": lambda: at_least(value + 1),
                "<=": lambda: at_most(value), "<": lambda: at_most(value - 1),
                "==": lambda: and_(at_least(value), at_most(value)),
                "!=": lambda: not_(and_(at_least(value), at_most(value)))}[cond.op]()


# ---- grouped counts ----------------------------------------------------------------------
@dataclass(frozen=True)
class GroupPlan:
    """One group to count: who its members are, how they are partitioned, each rule's condition."""
    members: object              # the group's member condition
    per: str                     # unit | region | city | all
    conditions: tuple            # each rule's condition over the members (None: every member counts)
    keys: frozenset | None       # only these instances (None: every instance)


@dataclass(frozen=True)
class Listed:
    """A member listed for the report, with whether each rule's condition holds for it."""
    cadre: str
    name: str
    counted: tuple               # "yes" | "unknown" | "no" per rule


@dataclass(frozen=True)
class GroupCounts:
    """Per instance key: members, and per rule the certain matches and the unknowns; the listed members."""
    totals: dict                 # key -> (members, (matched per rule), (unknown per rule))
    listed: dict                 # key -> [Listed], in id order


def _places_table(conn, unit_places: dict) -> Table:
    """A temporary table of each unit's region and city, for grouping in SQL."""
    table = Table(f"tmp_structure_{uuid4().hex[:10]}", MetaData(),
                  Column("unit_id", _id_type(), primary_key=True), Column("unit", _id_type()),
                  Column("region", String(200)), Column("city", String(200)),
                  prefixes=["TEMPORARY"], mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
    table.create(conn)
    rows = [{"unit_id": p.id, "unit": p.id, "region": p.region, "city": p.city} for p in unit_places.values()]
    for i in range(0, len(rows), 1000):
        conn.execute(insert(table), rows[i:i + 1000])
    _analyze(conn, table)
    return table


def _analyze(conn, table: Table) -> None:
    """Statistics for a temporary table PostgreSQL's autovacuum never sees.

    Without them the planner takes the 1,646 places of 200,000 cadres for 112 rows and
    joins the members to the cadres by 48,016 index probes instead of one hash (0.9 s for
    one group, see docs/performance.md, PostgreSQL at 200,000 cadres).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')


class _GroupQuery:
    """The SQL of one group and the rules over it."""

    def __init__(self, plan: GroupPlan, conditions: ConditionSQL, place_table: Table):
        self.plan = plan
        post, unit, cadre = POSTS.alias("member_post"), UNITS.alias("member_unit"), CADRES.alias("member")
        # the per-unit key is a copy of the unit id: grouping by posts.unit_id itself lets
        # SQLite walk the posts by that index, a random read per post (10x slower)
        key = {"unit": place_table.c.unit, "region": place_table.c.region, "city": place_table.c.city,
               "all": literal(ALL_KEY)}[plan.per]
        self.key = key
        folded = []
        for i, condition in enumerate(plan.conditions):
            if condition is None:
                folded.append(literal(TRUE).label(f"v{i}"))
                continue
            cond = conditions.condition(condition, cadre, post, unit)
            folded.append(func.max(case((cond, TRUE), (~cond, FALSE), else_=MAYBE)).label(f"v{i}"))
        self.source = (post.join(unit, post.c.unit_id == unit.c.id)
                       .join(cadre, cadre.c.id == post.c.cadre_id)
                       .join(place_table, place_table.c.unit_id == post.c.unit_id))
        self.where = [post_covers(post, conditions.as_of), conditions.condition(plan.members, cadre, post, unit)]
        self.columns = [key.label("k"), cadre.c.id.label("cid"), *folded]
        self.group_by = [key, cadre.c.id]

    def members(self):
        """One row per (instance, member): each rule's condition folded over the member's posts."""
        where = list(self.where)
        if self.plan.keys is not None:
            where.append(self.key.in_(sorted(self.plan.keys)))
        return select(*self.columns).select_from(self.source).where(*where).group_by(*self.group_by)

    def materialise(self, conn) -> Table:
        """The members query into a temporary table, so totals and listing read it, not the posts."""
        columns = [Column("k", String(200)), Column("cid", _id_type())]
        columns += [Column(f"v{i}", Integer) for i in range(len(self.plan.conditions))]
        table = Table(f"tmp_members_{uuid4().hex[:10]}", MetaData(), *columns, prefixes=["TEMPORARY"],
                      mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
        table.create(conn)
        conn.execute(insert(table).from_select([c.name for c in columns], self.members()))
        _analyze(conn, table)
        return table

    def totals(self, members: Table):
        cols = [members.c.k, func.count().label("n")]
        for i in range(len(self.plan.conditions)):
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


def count_groups(engine, as_of: date, resolve: Callable, unit_places: dict, plans: list[GroupPlan],
                 members_limit: int | None) -> list[GroupCounts]:
    """The counts of each plan's instances ."""
    if not plans:
        return []
    conditions = ConditionSQL(as_of, resolve)
    out = []
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA temp_store = MEMORY")   # the temporary tables below
        place_table = _places_table(conn, unit_places)
        try:
            for plan in plans:
                query = _GroupQuery(plan, conditions, place_table)
                members = query.materialise(conn)
                rules = range(len(plan.conditions))
                totals = {row.k: (row.n, tuple(int(row._mapping[f"t{i}"] or 0) for i in rules),
                                  tuple(int(row._mapping[f"u{i}"] or 0) for i in rules))
                          for row in conn.execute(query.totals(members))}
                listed: dict = {}
                if members_limit != 0:
                    for row in conn.execute(query.listing(members, members_limit)):
                        listed.setdefault(row.k, []).append(
                            Listed(row.cid, row.cname, tuple(COUNTED[row._mapping[f"v{i}"]] for i in rules)))
                members.drop(conn)
                out.append(GroupCounts(totals, listed))
        finally:
            place_table.drop(conn)
            conn.commit()
    return out
