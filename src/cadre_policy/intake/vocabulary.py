"""Enumeration values written as their Chinese names, in every import format.

A spreadsheet cell has always taken ``正科`` or ``section``; a YAML or JSON file takes them too
(``rank: 正科``, ``kind: 严重警告``, ``mode: 全日制``): before the schema check each enumerated
field's Chinese name (or another name the record schema table lists) is replaced by its code.
A name that could mean two values (``警告``: 党内警告 or 政务警告) is refused, naming both.
"""
from __future__ import annotations

from functools import cache

from cadre_policy.language import record_table as rt


@cache
def _names(values_name: str) -> dict[str, str]:
    """Chinese name or alias -> code of one enumeration."""
    out = {name: code for code, name in rt.enums().get(values_name, {}).items()}
    out.update(rt.aliases(values_name))
    return out


def normalise(doc, path: list, kind: str, record) -> list:
    """Replace Chinese names by codes in ``record`` (of record kind ``kind``) in place.

    Args:
        doc: Anything with ``issue(path, message)`` (a document, a streamed record).
        path: Where ``record`` lies in the document.
        kind: Its record kind in the table (``cadre``, ``unit``, ...).
        record: The parsed value; anything not a mapping is left to the schema check.

    Returns:
        The issues: ambiguous names.
    """
    issues: list = []
    if not isinstance(record, dict):
        return issues
    for f in rt.kind(kind).fields.values():
        value = record.get(f.name)
        if value is None:
            continue
        if f.type == "enum" and isinstance(value, str) and value not in f.values:
            code = _names(f.values_name).get(value.strip())
            if code is not None:
                record[f.name] = code
            elif value.strip() in rt.ambiguous(f.values_name):
                choices = rt.ambiguous(f.values_name)[value.strip()]
                named = " or ".join(f"{c} {f.values.get(c, c)}" for c in choices)
                issues.append(doc.issue(path + [f.name], f"'{value}' is ambiguous: did you mean {named}?"))
        elif f.type == "record":
            issues += normalise(doc, path + [f.name], f.of, value)
        elif f.type == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                issues += normalise(doc, path + [f.name, i], f.of, item)
    return issues


def normalise_document(doc, valid: dict | None = None) -> list:
    """Normalise every unit and cadre of a parsed import document (``doc.data``) in place.

    Args:
        doc: The document.
        valid: ``units`` / ``cadres`` -> a check that a record is valid as it stands (its
            enumerated values are codes already): such a record is passed over.
    """
    issues: list = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for key, kind in (("units", "unit"), ("cadres", "cadre")):
        items = data.get(key)
        skip = valid.get(key) if valid else None
        if isinstance(items, list):
            for i, item in enumerate(items):
                if skip is None or not skip(item):
                    issues += normalise(doc, [key, i], kind, item)
    return issues
