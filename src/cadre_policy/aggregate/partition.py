"""Where each unit belongs: its region (county) and its city, and which instances a filter keeps.

Units are few (thousands, even for a million cadres), so the unit tree is read into
memory once; the city of a unit is found by walking up ``parent``.
"""
from __future__ import annotations

from dataclasses import dataclass

ALL_KEY = "*"


@dataclass(frozen=True)
class UnitPlace:
    """A unit's name and the keys of the instances it falls in."""
    id: str
    name: str
    region: str
    city: str
    kind: str = ""
    level: str = ""


def places(units: dict) -> dict[str, UnitPlace]:
    """Each unit's region and city.

    The city is the region of the nearest unit at or above it whose level is ``city``;
    failing that, the region of the top of its chain (a county with no city above it
    is its own "city").

    >>> u = {"C": {"id": "C", "name": "市委", "level": "city", "region": "江陵市"},
    ...      "K": {"id": "K", "name": "县委", "level": "county", "region": "清江县", "parent": "C"}}
    >>> places(u)["K"].city
    '江陵市'
    """
    out = {}
    for uid, unit in units.items():
        region = unit.get("region") or uid
        city, node, seen = None, unit, set()
        while node is not None and node["id"] not in seen:
            seen.add(node["id"])
            if node.get("level") == "city":
                city = node.get("region") or node["id"]
                break
            top = node
            node = units.get(node.get("parent")) if node.get("parent") else None
        if city is None:
            city = top.get("region") or top["id"]
        out[uid] = UnitPlace(uid, unit.get("name", uid), region, city, unit.get("kind", ""), unit.get("level", ""))
    return out


def instance_key(place: UnitPlace, per: str) -> str:
    """The key of the group instance a member post in this unit falls in."""
    return {"unit": place.id, "region": place.region, "city": place.city, "all": ALL_KEY}[per]


@dataclass(frozen=True)
class Scope:
    """Which group instances a report covers: everything, one region (or city), or one unit's
    (the unit's own team and its county, for ``policy check --unit``)."""
    region: str | None = None
    unit: str | None = None

    def keeps(self, place: UnitPlace, per: str) -> bool:
        """Whether the instance of ``per`` that ``place`` falls in is covered."""
        if self.unit is not None:
            return True       # the SQL keys already narrow to the unit's own instances
        if self.region is None:
            return True
        if per == "all":
            return False
        if per == "city":
            return place.city == self.region
        return self.region in (place.region, place.city)

    def keys(self, unit_places: dict[str, UnitPlace], per: str) -> set[str] | None:
        """The instance keys kept, or None for every key."""
        if self.unit is not None:
            # a unit's own targets: its team and its county's; city-wide targets are not the unit's
            return {instance_key(unit_places[self.unit], per)} if per in ("unit", "region") else set()
        if self.region is None:
            return None
        return {instance_key(p, per) for p in unit_places.values() if self.keeps(p, per)}
