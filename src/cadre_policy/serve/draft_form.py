"""Drafts by form: "起草修改" on a rule's page writes the draft an author would otherwise type.

A parameter gets a new value (a fraction 1/4, a percentage 25%, a number of years, a date) from
a date, under a title; a rule can be switched off from a date. The draft is YAML text in the
what-if editor, still editable, and checked there as any draft is (a value that does not fit
its parameter is an error at its line).
"""
from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

import yaml

SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/draft.schema.json\n"
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[%％]\s*")


def typed_value(kind: str, text: str):
    """The form's text as the draft writes it: 25% → 1/4 for a ratio, digits as a whole number.

    >>> typed_value("ratio", "25%"), typed_value("ratio", " 1/4 "), typed_value("years", "3")
    ('1/4', '1/4', 3)
    >>> typed_value("ratio", "12.5%"), typed_value("date", "2017-01-01"), typed_value("years", "三年")
    ('1/8', '2017-01-01', '三年')
    """
    text = text.strip()
    percent = _PERCENT.fullmatch(text)
    if kind == "ratio" and percent:
        share = Fraction(percent.group(1)) / 100
        return f"{share.numerator}/{share.denominator}"
    if kind in ("years", "months", "count") and text.isdigit():
        return int(text)
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:40] or "form"


def draft_text(*, title: str, start: date, parameter: tuple[str, str, str] | None = None,
               disable: str | None = None, note: str = "") -> str:
    """The draft's YAML: a parameter (name, kind, the form's value) changed, or a rule switched off, from ``start``."""
    what = parameter[0] if parameter else disable or ""
    doc: dict = {"id": f"draft_{_slug(what)}_{start.strftime('%Y%m%d')}", "title": title}
    if note:
        doc["note"] = note
    doc["in_force"] = {"from": start}
    if parameter:
        name, kind, value = parameter
        doc["parameters"] = {name: typed_value(kind, value)}
    if disable:
        doc["disable"] = [disable]
    return SCHEMA_LINE + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False)


def merged_text(text: str, *, start: date, parameter: tuple[str, str, str] | None = None,
                disable: str | None = None, restore: str | None = None) -> str:
    """A saved draft's YAML with one more change made by the form: a parameter's new value from ``start`` (dated
    when the draft's own changes start on another day), or a rule switched off. Text that is not a draft's
    mapping (a draft saved mid-typing) is left for the editor: the change is appended as comment lines.
    ``restore`` takes a rule out of the draft's ``disable:`` (it applies again as the rules in force have it)."""
    from cadre_policy.parse.positioned import load_yaml
    doc, _positions, problems = load_yaml(text, "草案.yaml")        # bounded: depth, aliases, size
    if problems or not isinstance(doc, dict):
        return text + "\n# " + draft_text(title="", start=start, parameter=parameter,
                                          disable=disable).replace("\n", "\n# ")
    if parameter:
        name, kind, value = parameter
        begins = (doc.get("in_force") or {}).get("from") if isinstance(doc.get("in_force"), dict) else None
        values = doc.setdefault("parameters", {}) if isinstance(doc.get("parameters"), dict) else {}
        doc["parameters"] = values
        if begins == start and not isinstance(values.get(name), dict):
            values[name] = typed_value(kind, value)
        else:
            old = values.get(name)
            dated = old if isinstance(old, dict) else {begins: old} if old is not None and begins else {}
            dated[start] = typed_value(kind, value)
            values[name] = dated
    if disable:
        off = doc.get("disable") if isinstance(doc.get("disable"), list) else []
        doc["disable"] = off + ([disable] if disable not in off else [])
    if restore and isinstance(doc.get("disable"), list):
        doc["disable"] = [rule for rule in doc["disable"] if rule != restore]
        if not doc["disable"]:
            del doc["disable"]
    return SCHEMA_LINE + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False)
