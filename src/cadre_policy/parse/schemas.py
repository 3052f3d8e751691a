"""The shipped JSON Schemas as one registry, so a ``$ref`` to ``policy.schema.json#/…`` or
``facts.schema.json#/…`` resolves locally, in the loader as in a plain validator.

The shipped schemas carry, for editors, enums of the names a policy set defines (fact
names, finding and requirement codes, provision ids, parameter names; written by
``policy schema``). The loader reads them without those enums: a name is checked
against the set being loaded, with a did-you-mean (E2xx), not against the shipped set.
"""
from __future__ import annotations

import copy
from functools import cache

import jsonschema
from jsonschema import validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cadre_policy import data

NAMES = ("policy", "draft", "facts", "tests", "outcomes", "provisions")
#: The $defs of policy.schema.json whose enum ``policy schema`` generates from a policy set.
NAME_DEFS = ("fact_name", "finding_code", "requirement_code", "provision_id", "parameter_name")
#: Dates are calendar dates (2019-02-30 is not one): the one format the schemas check.
DATES = jsonschema.FormatChecker(["date"])


def _is_integer(_checker, instance) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


#: The one validator configuration of every shipped schema: Draft 2020-12 whose "integer" is an
#: integer (JSON Schema's also matches 45.0, which no count or year is), calendar dates checked.
Validator = validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer))


@cache
def structural(name: str) -> dict:
    """The shipped schema ``name`` without the generated enums of names."""
    schema = copy.deepcopy(data.schema(name))
    for key in NAME_DEFS:
        schema.get("$defs", {}).get(key, {}).pop("enum", None)
    return schema


@cache
def registry() -> Registry:
    """Every shipped schema, under its file name (the base its relative ``$ref``s resolve against)."""
    return Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(structural(name), default_specification=DRAFT202012))
        for name in NAMES)


def unknown_keys(error) -> tuple[list, set] | None:
    """For an ``additionalProperties`` error on a mapping: (the keys not allowed, the keys allowed); else None.

    Policy lint and fact import both report each such key at its own place.
    """
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return None
    allowed = set(error.schema.get("properties", {}))
    return [key for key in error.instance if key not in allowed], allowed


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of the shipped schema ``name`` (see :data:`Validator`)."""
    return Validator(structural(name), registry=registry(), format_checker=DATES)


@cache
def record_validator(kind: str) -> jsonschema.Draft202012Validator:
    """The validator of one item of ``units`` or ``cadres`` of the import format."""
    schema = structural("facts")
    return Validator({"$defs": schema["$defs"], **schema["properties"][kind]["items"]}, format_checker=DATES)
