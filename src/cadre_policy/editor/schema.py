"""``policy schema``: the shipped schemas made ready for an editor, from a policy set.

Two things are generated, never written by hand per property:

* a Chinese description on every property, from ``schemas/descriptions.yaml`` (looked up
  by ``FILE:DEF.key``, ``DEF.key``, then ``key``; the import format's from the record schema
  table, ``schemas/record.yaml``), followed by the Chinese labels of its enumerated values
  (``language.labels``);
* the enums of the names a policy set defines, in the ``$defs`` of
  :data:`~cadre_policy.parse.schemas.NAME_DEFS`: the fact catalogue, the finding and
  requirement codes of the outcome catalogue, the provision ids of the register, the
  parameter names (short and qualified).

The shipped schemas are this output for the shipped policy set (a test keeps them so).
"""
from __future__ import annotations

import copy
import json
from functools import cache

import yaml

from cadre_policy import data
from cadre_policy.language import labels, record_table
from cadre_policy.language.catalog import Catalogue
from cadre_policy.language.model import PolicySet
from cadre_policy.parse.schemas import NAMES, NAME_DEFS

@cache
def descriptions() -> dict:
    """The description table: ``{"keys": {...}, "contexts": {...}}``."""
    return yaml.safe_load((data.SCHEMAS / "descriptions.yaml").read_text(encoding="utf-8"))


def name_enums(policy_set: PolicySet) -> dict[str, list[str]]:
    """The names of ``policy_set`` each $def of :data:`NAME_DEFS` enumerates, sorted."""
    catalogue = Catalogue(policy_set.derived)
    params = list(policy_set.parameters)
    return {
        "fact_name": sorted({path for path, _ in catalogue.paths()}),
        "finding_code": sorted(policy_set.outcomes.findings),
        "requirement_code": sorted(policy_set.outcomes.requirements),
        "provision_id": sorted(policy_set.provisions),
        "parameter_name": sorted(set(params) | {p.rpartition(".")[2] for p in params}),
    }


def outcome_values() -> dict[str, list[str]]:
    """What a test case may expect of a requirement and of an eligibility: the values the
    outcome decision gives (``run.outcome``), and "not applicable" / "not assessed"."""
    from cadre_policy.run import outcome
    from cadre_policy.testing.cases import NOT_ASSESSED, RESULT_SPELLINGS
    return {"result": [outcome.MET, outcome.UNMET, outcome.UNKNOWN, outcome.WAIVED, *RESULT_SPELLINGS.values(),
                       *RESULT_SPELLINGS],
            "eligibility": [*outcome.ELIGIBILITY_VALUES, NOT_ASSESSED]}


def editor_schemas(policy_set: PolicySet) -> dict[str, dict]:
    """Every shipped schema by name, with Chinese descriptions, the set's name enums and the
    outcome values of test cases."""
    enums = name_enums(policy_set)
    out = {}
    for name in NAMES:
        schema = copy.deepcopy(data.schema(name))
        if name == "tests":       # a test case's cadre takes every field the record schema table gives a cadre
            schema["$defs"]["partial_cadre"]["properties"] = {
                key: {"$ref": f"facts.schema.json#/$defs/cadre/properties/{key}"} for key in record_table.kind("cadre").fields}
        _describe(schema, name, "(top)", schema)
        for key in NAME_DEFS:
            if key in schema.get("$defs", {}) and enums[key]:
                schema["$defs"][key]["enum"] = enums[key]
        if name == "tests":
            for key, values in outcome_values().items():
                schema["$defs"][key]["enum"] = values
        out[name] = schema
    return out


def dump(schema: dict) -> str:
    """A schema as the shipped files are written (2-space indent, Chinese unescaped)."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def missing_descriptions(schema: dict) -> list[str]:
    """The JSON pointers of properties with no Chinese description (none when complete)."""
    found = []

    def walk(node, pointer):
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                text = sub.get("description", "") if isinstance(sub, dict) else ""
                if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
                    found.append(f"{pointer}/properties/{key}")
            for key, sub in node.items():
                walk(sub, f"{pointer}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{pointer}/{i}")
    walk(schema, "#")
    return found


def _describe(node, file: str, context: str, root: dict) -> None:
    if isinstance(node, list):
        for sub in node:
            _describe(sub, file, context, root)
        return
    if not isinstance(node, dict):
        return
    for key, sub in (node.get("properties") or {}).items():
        text = _lookup(file, context, key)
        if text and isinstance(sub, dict):
            sub["description"] = text + _value_labels(file, context, key, sub, root)
    for key, sub in node.items():
        if key == "$defs":
            for name, definition in sub.items():
                _describe(definition, file, name, root)
        else:
            _describe(sub, file, context, root)


def _lookup(file: str, context: str, key: str) -> str | None:
    if file == "facts" or context == "partial_cadre":     # the import format: the record schema table says it
        kind = "cadre" if context == "partial_cadre" else context
        text = record_table.description(kind, key) if kind != "(top)" else record_table.document()["lists"].get(key)
        if text:
            return text
    table = descriptions()
    return (table["contexts"].get(f"{file}:{context}.{key}") or table["contexts"].get(f"{context}.{key}")
            or table["keys"].get(key))


def _value_labels(file: str, context: str, key: str, sub: dict, root: dict) -> str:
    """``（male 男、female 女）`` for a property whose values are enumerated and labelled."""
    values = sub.get("enum")
    ref = sub.get("$ref", "")
    if values is None and ref.startswith("#/$defs/"):
        values = root.get("$defs", {}).get(ref[len("#/$defs/"):], {}).get("enum")
    field = record_table.kinds()[context].fields.get(key) if file == "facts" and context in record_table.kinds() else None
    table = labels.VALUES.get(field.values_name if field else key, {}) if not field or field.values_name else {}
    if not values or not table:
        return ""
    return "（" + "、".join(f"{v} {table.get(v, v)}" for v in values) + "）"
