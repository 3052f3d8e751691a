"""The import JSON Schema (``facts.schema.json``) generated from the record schema table.

``python -m cadre_policy.record.schema`` prints the schema; the shipped file is that output
(tests/test_record_schema.py), so a field is declared once, in ``data/schemas/record.yaml``.
"""
from __future__ import annotations

import json

from cadre_policy.language import record_table as rt
from cadre_policy.language.record_table import Field

_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_BASE_DEFS = {
    "date": {"type": "string", "format": "date", "pattern": _DATE_PATTERN, "description": "ISO date YYYY-MM-DD."},
    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$", "maxLength": 64,
           "description": "Identifier: ASCII letters, digits, '_', '.', '-'; at most 64 characters."},
}
#: Enumerations with a $defs entry of their own (the rank ladder, lowest first).
_SHARED_ENUMS = {"rank": "职务层次, lowest first."}


def value_labels(f: Field) -> str:
    """``（male 男、female 女）``: the codes and Chinese names an enumerated field's description ends with."""
    if f.type != "enum" or not f.values:
        return ""
    return "（" + "、".join(f"{code} {name}" for code, name in f.values.items()) + "）"


def field_schema(f: Field) -> dict:
    """The JSON Schema of one field."""
    text = f.description + value_labels(f)
    if f.type == "id":
        return {"$ref": "#/$defs/id", "description": text}
    if f.type == "text":
        return {"type": "string", "description": text, "minLength": 1, "maxLength": f.max}
    if f.type == "date" and f.null:
        return {"type": ["string", "null"], "format": "date", "pattern": _DATE_PATTERN, "description": text}
    if f.type == "date":
        return {"$ref": "#/$defs/date", "description": text}
    if f.type == "int":
        bounds = {key: value for key, value in (("minimum", f.min), ("maximum", f.max)) if value is not None}
        return {"type": "integer", **bounds, "description": text}
    if f.type == "bool":
        return {"type": "boolean", "description": text}
    if f.type == "enum" and f.values_name in _SHARED_ENUMS:
        return {"$ref": f"#/$defs/{f.values_name}", "description": text}
    if f.type == "enum":
        return {"description": text, "enum": list(f.values)}
    if f.type == "flags":
        return {"type": "array", "description": text, "uniqueItems": True,
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}}
    if f.type == "record":
        return {"$ref": f"#/$defs/{f.of}", "description": text}
    return {"type": "array", "description": text, "items": {"$ref": f"#/$defs/{f.of}"}}


def json_schema() -> dict:
    """The import document's JSON Schema (Draft 2020-12)."""
    doc = rt.document()
    defs = dict(_BASE_DEFS)
    for name, text in _SHARED_ENUMS.items():
        defs[name] = {"description": text, "enum": list(rt.enums()[name])}
    for kind in rt.kinds().values():
        required = [f.name for f in kind.fields.values() if f.required]
        defs[kind.name] = {"type": "object", "description": kind.title,
                           "properties": {f.name: field_schema(f) for f in kind.fields.values()},
                           **({"required": required} if required else {}), "additionalProperties": False}
    top = {key: {"type": "array", "description": text, "items": {"$ref": f"#/$defs/{rt.by_list()[key].name}"}}
           for key, text in doc["lists"].items()}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": doc["title"],
            "description": doc["description"], "type": "object", "properties": top,
            "additionalProperties": False, "$defs": defs}


def dump() -> str:
    """The schema as the shipped file is written (2-space indent, Chinese unescaped)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(dump(), end="")
