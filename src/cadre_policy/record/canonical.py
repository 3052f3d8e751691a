"""The canonical form of unit and cadre documents.

The canonical document is the import format as Python values: dates are
``datetime.date``, optional fields that were not given are absent, a current
post has no ``end`` key, every record list is present (possibly empty) and sorted,
and an appraisal without a ``date`` gets 31 December of its ``year``. The store
returns documents in this form, the rule engine consumes it, and the importer
compares it to decide whether a record changed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from cadre_policy.language import record_table


def _optional(kind: str) -> tuple[str, ...]:
    return tuple(f.name for f in record_table.kind(kind).fields.values() if f.scalar and not f.required)


#: The optional scalar fields of a unit and of a cadre, from the record schema table.
UNIT_OPTIONAL = _optional("unit")
CADRE_OPTIONAL = _optional("cadre")
_CADRE_DATES = frozenset(f.name for f in record_table.kind("cadre").fields.values() if f.type == "date")

#: Record lists of a cadre, in document key order, with the key they are sorted by.
RECORD_LISTS: tuple[tuple[str, str], ...] = (
    ("posts", "start"),
    ("appraisals", "year"),
    ("reviews", "date"),
    ("nominations", "date"),
    ("polls", "date"),
    ("opinions", "date"),
    ("assessments", "date"),
    ("educations", "date"),
    ("sanctions", "date"),
)

_STAGE_ORDER = {"three_month": 0, "six_month": 1}


def to_date(value: Any) -> dt.date:
    """Return ``value`` as a date; accepts a date or an ISO ``YYYY-MM-DD`` string."""
    if type(value) is str:                  # the common case first: an import's text
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return dt.date.fromisoformat(value)


def _copy(src: dict, keys: tuple[str, ...], dst: dict) -> None:
    for key in keys:
        if src.get(key) is not None:
            dst[key] = src[key]


def canonical_unit(raw: dict) -> dict:
    """Return the canonical form of a (valid) unit document."""
    doc = {"id": raw["id"], "name": raw["name"], "kind": raw["kind"], "level": raw["level"]}
    _copy(raw, UNIT_OPTIONAL, doc)
    if raw.get("flags"):
        doc["flags"] = list(raw["flags"])
    return doc


def _post(raw: dict) -> dict:
    post = {key: raw[key] for key in ("unit", "title", "rank", "principal", "leadership")}
    _copy(raw, ("middle_level", "grassroots"), post)
    post["start"] = to_date(raw["start"])
    if raw.get("end") is not None:
        post["end"] = to_date(raw["end"])
    if raw.get("probation_end") is not None:
        post["probation_end"] = to_date(raw["probation_end"])
    return post


def _appraisal(raw: dict) -> dict:
    year = raw["year"]
    date = to_date(raw["date"]) if raw.get("date") is not None else dt.date(year, 12, 31)
    return {"year": year, "grade": raw["grade"], "date": date}


def _review(raw: dict) -> dict:
    review = {"date": to_date(raw["date"]), "total": raw["total"], "dissatisfied": raw["dissatisfied"]}
    checks = [{"stage": r["stage"], "date": to_date(r["date"]), "result": r["result"]}
              for r in raw.get("rectification") or ()]
    if checks:
        checks.sort(key=lambda r: (r["date"], _STAGE_ORDER.get(r["stage"], 9)))
        review["rectification"] = checks
    return review


def _dated(keys: tuple[str, ...]):
    def build(raw: dict) -> dict:
        return {key: (to_date(raw[key]) if key == "date" else raw[key]) for key in keys}
    return build


def _from_table(kind: str):
    """The canonical record of a kind whose fields are all in the record schema table: the fields
    on record, in the table's order, dates as dates."""
    fields = [(f.name, f.type == "date") for f in record_table.kind(kind).fields.values()]

    def build(raw: dict) -> dict:
        return {key: (to_date(raw[key]) if is_date else raw[key]) for key, is_date in fields
                if raw.get(key) is not None}
    return build


_BUILDERS = {
    "posts": _post,
    "appraisals": _appraisal,
    "reviews": _review,
    "nominations": lambda raw: dict(_dated(("date", "target_rank", "target_unit"))(raw),
                                    **({"exceptional": True} if raw.get("exceptional") else {})),
    "polls": _dated(("date", "approve", "total")),
    "opinions": _dated(("department", "date", "adverse")),
    "assessments": _dated(("date", "kind", "prominent_problems")),
    "educations": _from_table("education"),
    "sanctions": _from_table("sanction"),
}

#: The ladder of education levels, lowest first (the highest is the cadre's ``education``).
_LEVELS = list(record_table.enums()["education"])


def canonical_cadre(raw: dict) -> dict:
    """Return the canonical form of a (valid) cadre document.

    Args:
        raw: A cadre as read from an import file (dates as strings or dates).

    Returns:
        A new dict in canonical key order with sorted record lists.
    """
    doc = {"id": raw["id"], "name": raw["name"], "gender": raw["gender"],
           "birth_date": to_date(raw["birth_date"]), "party": raw["party"]}
    for key in CADRE_OPTIONAL:
        if raw.get(key) is not None:
            doc[key] = to_date(raw[key]) if key in _CADRE_DATES else raw[key]
    rec = raw.get("recruitment")
    if rec is not None:
        recruitment = {"date": to_date(rec["date"])}
        _copy(rec, ("fresh_graduate", "unit"), recruitment)
        doc["recruitment"] = recruitment
    for key, sort_key in RECORD_LISTS:
        records = [_BUILDERS[key](r) for r in raw.get(key) or ()]
        records.sort(key=lambda r: r[sort_key])  # stable: ties keep the file's order
        doc[key] = records
    if doc["educations"] and "education" not in doc:     # the highest level on record
        doc["education"] = highest_education(doc["educations"])
    return doc


def highest_education(records: list[dict], mode: str | None = None) -> str | None:
    """The highest level among education records (of one ``mode`` when given); None without any."""
    levels = [r["level"] for r in records if r.get("level") in _LEVELS and (mode is None or r.get("mode") == mode)]
    return max(levels, key=_LEVELS.index) if levels else None

