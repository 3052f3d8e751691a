"""Three-valued evaluation of model conditions on Python values (True, False, None = unknown).

Used where the engines are not: the ``where`` filters of derived quantities, and the
explanation of a firing (each comparison with its values and whether it held).
"""
from __future__ import annotations

from datetime import date
from fractions import Fraction

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t
from cadre_policy.language.parameters import duration_months, kind_of, months, name_of
from cadre_policy.language.values import parse_fraction


class Ratio(tuple):
    """An integer pair n/d kept as written (16/45, not 16/45 reduced), for display."""

    def __new__(cls, n: int, d: int):
        return super().__new__(cls, (n, d))

    @property
    def fraction(self) -> Fraction:
        return Fraction(self[0], self[1])

    def __str__(self) -> str:
        return f"{self[0]}/{self[1]}"


def lookup(scope: dict, path: str):
    """The value at a dotted path, or None when any step is missing."""
    value = scope
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
        if value is None:
            return None
    return value


def sort_key(value, kind: t.Type | None):
    """A value made comparable by its type: ranks by the ladder, dates as dates."""
    if kind is None:
        return value
    if kind.name == "rank" and isinstance(value, str):
        return t.RANKS.index(value) if value in t.RANKS else None
    if kind.name == "enum" and kind.ordered and isinstance(value, str):
        return kind.values.index(value) if value in kind.values else None
    if kind.name == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind.name == "fraction":
        if isinstance(value, Ratio):
            return value.fraction
        return parse_fraction(value) if not isinstance(value, Fraction) else value
    return value


def compare(op: str, left, right) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "in":
        return left in right
    if op == "not_in":
        return left not in right
    raise ValueError(op)


class Evaluator:
    """Evaluates model conditions against a scope of Python values."""

    def __init__(self, resolve_type, params: dict, as_of: date, asserted=frozenset(), param_specs=None,
                 fact_type=None):
        self.resolve_type = resolve_type      # path -> Type
        self.fact_type = fact_type or resolve_type   # path -> Type of the cadre's facts (inside `where`)
        self.params = params
        self.param_specs = param_specs or {}
        self.as_of = as_of
        self.asserted = asserted

    def param(self, ref: m.ParamRef):
        name = name_of(ref, self.params)
        return self.params[name] if name else None

    def param_kind(self, ref: m.ParamRef) -> str:
        return kind_of(ref, self.param_specs)

    def months(self, period: m.Period) -> int:
        return months(period, self.params)

    def value_of(self, cond: m.Compare, scope: dict, kind: t.Type, outer: dict | None = None):
        """The right-hand side of a comparison, comparable with the subject.

        ``outer`` is the cadre's scope when ``scope`` is one record (inside ``where``): ``fact:``
        and computed-rank values read the cadre's facts there.
        """
        value = cond.value
        facts = scope if outer is None else outer
        if isinstance(value, m.FactRef):
            kind_of = self.fact_type if outer is not None else self.resolve_type
            return sort_key(lookup(facts, value.path), kind_of(value.path))
        if isinstance(value, m.RankOf):
            return sort_key(rank_of(value, facts), t.RANK)
        if isinstance(value, m.Period):
            return periods.threshold(self.months(value))
        if isinstance(value, m.ParamRef):
            raw = self.param(value)
            if kind.name == "duration":
                return periods.threshold(duration_months(value, self.params, self.param_specs))
        else:
            raw = value.raw
        if isinstance(raw, (list, tuple)):
            return [sort_key(x, kind) for x in raw]
        return sort_key(raw, kind)

    def subject(self, cond, scope):
        """(value, type) of a condition's subject; a ratio comparison gives a Ratio."""
        if getattr(cond, "ratio_of", ()):
            n, d = (lookup(scope, p) for p in cond.ratio_of)
            return (Ratio(n, d) if n is not None and d else None), t.FRACTION
        kind = self.resolve_type(cond.subject)
        return lookup(scope, cond.subject), kind

    def holds(self, cond, scope: dict):
        """True, False, or None (unknown) for a condition on ``scope``."""
        if isinstance(cond, m.All):
            results = [self.holds(c, scope) for c in cond.items]
            return False if False in results else (None if None in results else True)
        if isinstance(cond, m.Any):
            results = [self.holds(c, scope) for c in cond.items]
            return True if True in results else (None if None in results else False)
        if isinstance(cond, m.Not):
            result = self.holds(cond.item, scope)
            return None if result is None else not result
        if isinstance(cond, m.Asserted):
            return f"{cond.kind}:{cond.name}" in self.asserted
        value, kind = self.subject(cond, scope)
        if isinstance(cond, m.Present):
            return (value is not None) == cond.present
        if value is None:
            return None
        if isinstance(cond, m.Has):
            return cond.flag in (value or ())
        if isinstance(cond, m.Within):
            start = periods.window_start(self.as_of, self.months(cond.period))
            return start <= value <= self.as_of
        left = sort_key(value, kind)
        right = self.value_of(cond, scope, kind)
        if left is None or right is None:
            return None
        return compare(cond.op, left, right)


def rank_of(ref: m.RankOf, scope: dict) -> str | None:
    """The rank a computed-rank value names on ``scope`` (None when its fact is missing)."""
    rank = lookup(scope, ref.path)
    return t.rank_at_level(rank, ref.level) if ref.level else t.rank_step(rank, ref.step)


def compile_predicate(cond, evaluator: Evaluator):
    """A fast three-valued test ``f(record, cadre_scope)``, equivalent to ``evaluator.holds(cond, record)``.

    Derived quantities filter every record of every cadre, so their ``where`` conditions
    are turned into closures once, with constants resolved and typed in advance. A value
    ``{fact: …}`` or ``{rank: …}`` reads the cadre's scope (the second argument).
    """
    if isinstance(cond, (m.All, m.Any)):
        parts = [compile_predicate(c, evaluator) for c in cond.items]
        stop = False if isinstance(cond, m.All) else True

        def combined(record, outer=None):
            unknown = False
            for part in parts:
                result = part(record, outer)
                if result is stop:
                    return stop
                unknown = unknown or result is None
            return None if unknown else not stop
        return combined
    if isinstance(cond, m.Not):
        inner = compile_predicate(cond.item, evaluator)
        return lambda record, outer=None: (lambda r: None if r is None else not r)(inner(record, outer))
    if isinstance(cond, m.Present):
        path, present = cond.subject, cond.present
        return lambda record, outer=None: (lookup(record, path) is not None) == present
    if isinstance(cond, m.Compare) and isinstance(cond.value, (m.FactRef, m.RankOf)):
        kind = evaluator.resolve_type(cond.subject)
        field, op = cond.subject, cond.op

        def compare_with_fact(record, outer=None):
            left = sort_key(lookup(record, field), kind)
            right = evaluator.value_of(cond, record, kind, outer or {})
            return None if left is None or right is None else compare(op, left, right)
        return compare_with_fact
    if isinstance(cond, m.Compare) and not cond.ratio_of and not isinstance(cond.value, m.FactRef):
        kind = evaluator.resolve_type(cond.subject)
        right = evaluator.value_of(cond, {}, kind)
        field, op = cond.subject, cond.op
        plain = kind is None or kind.name in ("boolean", "integer", "text", "date") or \
            (kind.name == "enum" and not kind.ordered)

        nested = "." in field

        def compare_field(record, outer=None):
            value = lookup(record, field) if nested else record.get(field)
            if value is None:
                return None
            left = value if plain else sort_key(value, kind)
            return None if left is None else compare(op, left, right)
        return compare_field
    return lambda record, outer=None: evaluator.holds(cond, record)
