"""Whom a document binds: its regions along the unit parent chain, and the management it governs.

A unit lies in a region when its own ``region``, or that of any unit above it (``parent``),
is the region's name: 宜昌市 covers 夷陵区, which covers its townships. ``全国`` binds every unit.
"""
from __future__ import annotations

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
