"""The shipped JSON Schemas as one registry, so a ``$ref`` to ``policy.schema.json#/…`` or
``facts.schema.json#/…`` resolves locally, in the loader as in a plain validator."""
from __future__ import annotations

from functools import cache

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cadre_policy import data

NAMES = ("policy", "draft", "facts", "tests", "outcomes", "provisions")


@cache
def registry() -> Registry:
    """Every shipped schema, under its file name (the base its relative ``$ref``s resolve against)."""
    return Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(data.schema(name), default_specification=DRAFT202012))
        for name in NAMES)


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of the shipped schema ``name`` that checks calendar dates."""
    return jsonschema.Draft202012Validator(data.schema(name), registry=registry(),
                                           format_checker=jsonschema.FormatChecker(["date"]))
