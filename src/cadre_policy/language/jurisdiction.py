"""Whom a document binds: its regions along the unit parent chain, and the management it governs.

A unit lies in a region when its own ``region``, or that of any unit above it (``parent``),
is the region's name: 宜昌市 covers 夷陵区, which covers its townships. ``全国`` binds every unit.
"""
from __future__ import annotations

from cadre_policy.language import model as m

NATIONAL = "全国"


def regions_of(units: dict, unit_id) -> list[str]:
    """The region of a unit and of every unit above it, nearest first (a parent cycle ends the walk)."""
    regions: list[str] = []
    seen = set()
    while unit_id and unit_id in units and unit_id not in seen:
        seen.add(unit_id)
        unit = units[unit_id]
        if unit.get("region") and unit["region"] not in regions:
            regions.append(unit["region"])
        unit_id = unit.get("parent")
    return regions


def national(jurisdiction) -> bool:
    """Whether a jurisdiction binds every unit (no region to test)."""
    return jurisdiction is None or NATIONAL in jurisdiction.regions


def binds(jurisdiction, regions, management) -> bool | None:
    """Whether a document binds a cadre whose unit lies in ``regions`` (None: no unit known) and
    whose 管理权限 is ``management`` (None: not on record); None when that cannot be told."""
    if jurisdiction is None:
        return True
    inside = True if national(jurisdiction) else (
        None if regions is None else bool(set(regions) & set(jurisdiction.regions)))
    if not jurisdiction.management or inside is False:
        return inside
    if management is None:
        return None
    return inside and management in jurisdiction.management


def binding(policy_set: m.PolicySet, rule: m.Rule):
    """The condition under which ``rule``'s document binds the cadre (language.jurisdiction).

    A requirement or an exception concerns a promotion: the unit is where the promotion would be
    (the open nomination's target unit); so does a finding that reads the nomination. Every other
    rule is judged at the unit of the current post.
    """
    jurisdiction = policy_set.policy_of(rule).jurisdiction
    if jurisdiction is None:
        return m.All(())
    where = "promotion_unit" if rule.kind in ("requirement", "exception") or _reads_nomination(policy_set, rule) \
        else "unit"
    items = []
    if not national(jurisdiction):
        items.append(m.Any(tuple(m.Has(f"place.{where}.regions", region) for region in jurisdiction.regions)))
    if jurisdiction.management:
        items.append(m.Compare("cadre.management", "in", "in", m.Literal(list(jurisdiction.management))))
    return m.All(tuple(items))


def _reads_nomination(policy_set: m.PolicySet, rule: m.Rule) -> bool:
    """Whether a rule's condition reads the nomination or the promotion, itself or through derived quantities."""
    derived = policy_set.derived
    todo, seen = list(m.condition_facts(rule.when)), set()
    while todo:
        head = todo.pop().split(".")[0]
        if head in ("nomination", "promotion"):
            return True
        if head in derived and head not in seen:
            seen.add(head)
            todo += derived[head].references()
    return False
