"""Member conditions as SQLAlchemy Core expressions over posts, units and cadres.

Only bound parameters reach the database. SQL's three-valued logic is Kleene's: a
comparison with a NULL field is unknown, so "missing data is never silently true or
false" holds in the database as it does in ``engine.kleene``. Ages are compared
through birth dates computed here by the calendar rule, so every backend agrees.
"""
from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, exists, not_, or_, select, true

from cadre_policy.facts.models import Cadre, Post, Unit

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t
from cadre_policy.compile.compiler import EvaluationError
from cadre_policy.aggregate.check import CADRE_FIELDS, POST_FIELDS
from cadre_policy.aggregate.model import CadreTest, Held, PostTest

CADRES = Cadre.__table__
POSTS = Post.__table__
UNITS = Unit.__table__
_COLUMN = {"start": "start_date", "end": "end_date"}


def born_by(as_of: date, years: int) -> date:
    """The latest birth date of someone at least ``years`` old (completed) on ``as_of``.

    >>> born_by(date(2017, 6, 30), 45)
    datetime.date(1972, 6, 30)
    """
    day = as_of - relativedelta(years=years) + timedelta(days=3)
    while periods.completed_years(day, as_of) < years:
        day -= timedelta(days=1)
    return day


def current(posts, as_of: date):
    """The post is held on ``as_of`` (started, and not ended by then)."""
    return and_(posts.c.start_date <= as_of, or_(posts.c.end_date.is_(None), posts.c.end_date > as_of))


class ConditionSQL:
    """Compiles member conditions for one evaluation date and one set of parameter values."""

    def __init__(self, as_of: date, params: dict):
        self.as_of = as_of
        self.params = params

    def value(self, value):
        if isinstance(value, m.ParamRef):
            for name in value.candidates():
                if name in self.params:
                    if self.params[name] is None:
                        raise EvaluationError(f"parameter '{name}' has no value on {self.as_of.isoformat()}")
                    return self.params[name]
            raise EvaluationError(f"unknown parameter '{value.name}'")
        return value.raw

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
            if cond.field.startswith("unit."):
                column = units.c[cond.field[len("unit."):]]
            else:
                column = posts.c[_COLUMN.get(cond.field, cond.field)]
            if cond.op == "within":
                amount = self.value(cond.value.amount)
                months = amount * 12 if cond.value.unit == "years" else amount
                return and_(column >= periods.window_start(self.as_of, months), column <= self.as_of)
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
