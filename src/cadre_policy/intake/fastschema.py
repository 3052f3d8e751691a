"""A fast yes/no check of a value against the import schema, with jsonschema kept for the words.

jsonschema took about 370 µs per generated cadre, more than parsing and writing it together.
The import only needs jsonschema's messages for records that are wrong, so each record is
first checked by predicates built here from the same schema (closures over plain Python,
no generated code). The check is *sound*: when it says yes, jsonschema says yes too (every
test below is at least as strict as the keyword it stands for); when it says no, the
importer asks jsonschema, whose verdict and messages are the ones reported. Hence the
import accepts exactly the documents it accepted before (``tests/test_import_files.py``
checks soundness on generated documents).

Only the keywords the facts schema uses are understood; a schema with any other keyword
raises :class:`Unsupported` and the caller keeps jsonschema alone.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from jsonschema import Draft202012Validator

Check = Callable[[Any], bool]

#: Keywords that say nothing about validity.
_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "examples", "default", "$defs"}
_DATE_CACHE_MAX = 100_000


class Unsupported(ValueError):
    """The schema uses a keyword this module does not implement."""


def _is_date(cache: dict = {}) -> Check:  # noqa: B006 - one cache shared by every date check
    conforms = Draft202012Validator.FORMAT_CHECKER.conforms

    def check(value) -> bool:
        if type(value) is not str:
            return not isinstance(value, str)   # jsonschema checks formats of strings only
        known = cache.get(value)
        if known is None:
            if len(cache) > _DATE_CACHE_MAX:
                cache.clear()
            known = cache[value] = conforms(value, "date")
        return known
    return check


_TYPES: dict[str, Check] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,            # not bool, not 16.0 (the importer's integer)
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


def _unique(items: list) -> bool:
    """True only when jsonschema's ``uniqueItems`` surely holds: scalars, pairwise unequal.

    ``1`` and ``1.0`` are equal for jsonschema and for a set; ``True`` and ``1`` are not for
    jsonschema, so booleans are kept apart. Lists and mappings: not decided here (False).
    """
    keys = []
    for item in items:
        if isinstance(item, (dict, list)):
            return False
        keys.append(("bool", item) if type(item) is bool else item)
    try:
        return len(set(keys)) == len(keys)
    except TypeError:
        return False


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.done: dict[int, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#/"):
            raise Unsupported(f"$ref {ref}")
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        key = id(target)
        if key not in self.done:
            slot: list[Check] = []
            self.done[key] = lambda v: slot[0](v)   # a recursive $ref finds the placeholder
            slot.append(self.compile(target))
            self.done[key] = slot[0]
        return self.done[key]

    def compile(self, schema) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        unknown = set(schema) - _ANNOTATIONS - {
            "$ref", "type", "enum", "const", "pattern", "format", "minLength", "maxLength", "minimum",
            "maximum", "required", "properties", "additionalProperties", "items", "uniqueItems"}
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        fused = self.fused(schema)
        if fused is not None:
            return fused
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        kinds = schema.get("type")
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            tests = [_TYPES[k] for k in kinds]
            checks.append(tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests)))
        if "enum" in schema or "const" in schema:
            allowed = schema["enum"] if "enum" in schema else [schema["const"]]
            strings = frozenset(x for x in allowed if type(x) is str)
            others = [x for x in allowed if type(x) is not str]
            # the same type and equal: jsonschema's equality holds (it is laxer: 1 == 1.0)
            checks.append(lambda v: (v in strings) if type(v) is str
                          else any(type(x) is type(v) and x == v for x in others))
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            checks.append(lambda v: not isinstance(v, str) or (type(v) is str and search(v) is not None))
        if schema.get("format") == "date":
            checks.append(_is_date())
        elif "format" in schema:
            raise Unsupported(f"format {schema['format']}")
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None or high is not None:
            low, high = low or 0, high if high is not None else float("inf")
            checks.append(lambda v: not isinstance(v, str) or (type(v) is str and low <= len(v) <= high))
        if "minimum" in schema or "maximum" in schema:
            checks.append(_bounds(schema.get("minimum"), schema.get("maximum")))
        if any(k in schema for k in ("required", "properties", "additionalProperties")):
            checks.append(self.mapping(schema))
        if "items" in schema:
            item = self.compile(schema["items"])
            checks.append(lambda v: not isinstance(v, list) or (type(v) is list and all(map(item, v))))
        if schema.get("uniqueItems"):
            checks.append(lambda v: not isinstance(v, list) or (type(v) is list and _unique(v)))
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        checks_ = tuple(checks)

        def every(v) -> bool:
            for check in checks_:
                if not check(v):
                    return False
            return True
        return every

    def fused(self, schema: dict) -> Check | None:
        """One closure for the shapes the facts schema is made of (each as strict as the
        keywords together, the type test included); None for any other shape."""
        keys = set(schema) - _ANNOTATIONS
        kind = schema.get("type")
        if keys == {"$ref"}:
            return self.ref(schema["$ref"])
        if keys == {"type"} and kind in _TYPES:
            return _TYPES[kind]
        if keys <= {"type", "enum"} and "enum" in keys and kind in (None, "string") \
                and all(type(x) is str for x in schema["enum"]):
            allowed = frozenset(schema["enum"])
            return lambda v: type(v) is str and v in allowed
        if kind == "string" and keys <= {"type", "pattern", "format", "minLength", "maxLength"} \
                and schema.get("format", "date") == "date":
            search = re.compile(schema["pattern"]).search if "pattern" in schema else None
            date = _is_date() if "format" in schema else None
            low, high = schema.get("minLength", 0), schema.get("maxLength")

            def string(v) -> bool:
                if type(v) is not str or len(v) < low or (high is not None and len(v) > high):
                    return False
                return (search is None or search(v) is not None) and (date is None or date(v))
            return string
        if kind == "integer" and keys <= {"type", "minimum", "maximum"}:
            low, high = schema.get("minimum"), schema.get("maximum")
            return lambda v: type(v) is int and (low is None or v >= low) and (high is None or v <= high)
        if kind == "array" and keys <= {"type", "items", "uniqueItems"}:
            item = self.compile(schema["items"]) if "items" in schema else (lambda v: True)
            unique = bool(schema.get("uniqueItems"))
            return lambda v: type(v) is list and all(map(item, v)) and (not unique or _unique(v))
        if kind == "object" and keys <= {"type", "required", "properties", "additionalProperties"}:
            mapping = self.mapping(schema)
            return lambda v: type(v) is dict and mapping(v)
        return None

    def mapping(self, schema: dict) -> Check:
        required = tuple(schema.get("required", ()))
        props = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        closed = extra is False
        other = None if extra is True or closed else self.compile(extra)
        get = props.get

        def check(v) -> bool:
            if type(v) is not dict:
                return not isinstance(v, dict)      # other types: these keywords do not apply
            for key in required:
                if key not in v:
                    return False
            for key, value in v.items():
                sub = get(key) if type(key) is str else None
                if sub is None:
                    if closed or type(key) is not str:
                        return False
                    if other is not None and not other(value):
                        return False
                elif not sub(value):
                    return False
            return True
        return check


def _bounds(low, high) -> Check:
    def check(v) -> bool:
        if type(v) is bool or not isinstance(v, (int, float)):
            return type(v) is bool or not _numeric(v)   # jsonschema bounds numbers only
        if type(v) is not int and type(v) is not float:
            return False
        return (low is None or v >= low) and (high is None or v <= high)
    return check


def _numeric(v) -> bool:
    import numbers
    return isinstance(v, numbers.Number)


def compile_schema(schema: dict, ref: str | None = None) -> Check:
    """Return a sound predicate for ``schema`` (or for ``ref`` inside it, e.g. ``#/$defs/cadre``).

    Raises:
        Unsupported: The schema uses a keyword this module does not implement.
    """
    compiler = _Compiler(schema)
    return compiler.ref(ref) if ref else compiler.compile(schema)
