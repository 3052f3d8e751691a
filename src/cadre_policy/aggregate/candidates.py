"""Which units, regions and cities a group could have members in, from the unit tree alone.

A group instance with no member on the evaluation date (a county whose team posts
are all vacant) is reported as not applicable; to know it exists, the group's member
condition is read on the unit fields only: tests of ``unit.*`` are decided, every
other test is unknown, and a unit is a candidate unless the condition is false.
"""
from __future__ import annotations

from cadre_policy.language import model as m
from cadre_policy.aggregate.model import CadreTest, Held, PostTest
from cadre_policy.aggregate.partition import ALL_KEY, UnitPlace, instance_key


def _unit_test(test: PostTest, place: UnitPlace, value):
    field = test.field[len("unit."):]
    actual = {"id": place.id, "kind": place.kind, "level": place.level, "region": place.region}.get(field)
    if actual is None or test.op not in ("==", "!=", "in", "not_in"):
        return None
    if test.op in ("in", "not_in"):
        inside = actual in (value if isinstance(value, (list, tuple)) else [value])
        return inside if test.op == "in" else not inside
    return (actual == value) if test.op == "==" else (actual != value)


def possible(cond, place: UnitPlace, resolve) -> bool | None:
    """Kleene value of a member condition for some post in ``place`` (None: not decided by the unit)."""
    if isinstance(cond, m.All):
        values = [possible(c, place, resolve) for c in cond.items]
        return False if False in values else (True if all(v is True for v in values) else None)
    if isinstance(cond, m.Any):
        values = [possible(c, place, resolve) for c in cond.items]
        return True if True in values else (False if values and all(v is False for v in values) else None)
    if isinstance(cond, m.Not):
        value = possible(cond.item, place, resolve)
        return None if value is None else not value
    if isinstance(cond, PostTest) and cond.field.startswith("unit."):
        return _unit_test(cond, place, resolve(cond.value))
    if isinstance(cond, (CadreTest, PostTest, Held)):
        return None
    return None


def candidate_keys(members, per: str, unit_places: dict[str, UnitPlace], resolve) -> set[str]:
    """The instance keys of ``per`` that some unit could contribute a member to."""
    if per == "all":
        return {ALL_KEY}
    return {instance_key(place, per) for place in unit_places.values()
            if possible(members, place, resolve) is not False}
