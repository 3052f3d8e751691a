"""msgspec types made from the import JSON Schema at start: a record decoded and checked in C.

A cadre decoded by the standard library and checked by :mod:`.fastschema` cost ≈ 70 µs of
CPU; :func:`record_decoder` makes a decoder of one record straight into typed structs
(``msgspec.defstruct``) whose every field carries the schema's constraints (enums as
``Literal``, patterns, lengths, bounds, calendar dates as ``datetime.date``), ≈ 9 µs. It is
*sound* like the fast check, for text that :func:`fast_text` clears: what it accepts,
jsonschema accepts. An optional field left out is None; since msgspec would take a JSON
``null`` there too, and would keep the last of a key written twice, ``fast_text`` refuses any
``null`` and the caller counts the keys (see :mod:`.fastcadre`). What is refused goes the
old way, for the words.

Only the keywords the facts schema uses for cadres are understood; any other raises
:class:`~cadre_policy.intake.fastschema.Unsupported` and the import keeps the old way alone.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec

from cadre_policy.intake.fastschema import _ANNOTATIONS, Unsupported
from cadre_policy.language.values import DATE_MAX, DATE_MIN

_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _Types:
    def __init__(self, root: dict, unmatched: str | None):
        self.root, self.unmatched = root, unmatched
        self.made: dict[str, Any] = {}

    def ref(self, ref: str):
        if not ref.startswith("#/$defs/"):
            raise Unsupported(f"$ref {ref}")
        name = ref[len("#/$defs/"):]
        if name not in self.made:
            schema = self.root["$defs"][name]
            if name == self.unmatched:
                schema = {key: value for key, value in schema.items() if key != "pattern"}
            self.made[name] = self.of(schema, name)
        return self.made[name]

    def of(self, schema: dict, name: str = ""):
        keys = set(schema) - _ANNOTATIONS
        if keys == {"$ref"}:
            return self.ref(schema["$ref"])
        kind = schema.get("type")
        if isinstance(kind, list) and sorted(kind) == ["null", "string"]:
            return self.of({**schema, "type": "string"}) | None
        if keys == {"enum"} and all(type(x) is str for x in schema["enum"]):
            return Literal[tuple(schema["enum"])]
        if kind == "string" and schema.get("format") == "date":
            if keys != {"type", "format", "pattern"} or schema["pattern"] != _DATE_PATTERN:
                raise Unsupported(f"date {schema}")
            return dt.date          # msgspec takes exactly YYYY-MM-DD, a day of the calendar
        if kind == "string" and keys <= {"type", "pattern", "minLength", "maxLength"}:
            meta = {k: v for k, v in (("pattern", schema.get("pattern")), ("min_length", schema.get("minLength")),
                                       ("max_length", schema.get("maxLength"))) if v is not None}
            return Annotated[str, msgspec.Meta(**meta)] if meta else str
        if kind == "integer" and keys <= {"type", "minimum", "maximum"}:
            meta = {k: v for k, v in (("ge", schema.get("minimum")), ("le", schema.get("maximum"))) if v is not None}
            return Annotated[int, msgspec.Meta(**meta)] if meta else int
        if kind == "boolean" and keys == {"type"}:
            return bool
        if kind == "array" and keys == {"type", "items"}:
            return list[self.of(schema["items"])]
        if kind == "object" and keys <= {"type", "properties", "required", "additionalProperties"} \
                and schema.get("additionalProperties") is False:
            required = set(schema.get("required", ()))
            if not required <= set(schema.get("properties", {})):
                raise Unsupported(f"required without a property in {name}")
            fields = [(key, self.of(sub)) if key in required else (key, self.of(sub) | None, None)
                      for key, sub in schema.get("properties", {}).items()]
            return msgspec.defstruct(name.capitalize() or "Record", fields, kw_only=True, forbid_unknown_fields=True, gc=False)
        raise Unsupported(f"{name or 'schema'}: {sorted(keys)}")


def record_decoder(schema: dict, ref: str, unmatched: str | None = None) -> msgspec.json.Decoder:
    """A JSON decoder of one record of ``schema`` at ``ref`` (``#/$defs/cadre``) into typed structs.

    Args:
        unmatched: The name of a definition (``id``) whose ``pattern`` the caller matches
            itself: msgspec calls Python's ``re`` for each value, a third of a cadre's decoding.

    Raises:
        Unsupported: The schema uses a keyword or shape this module does not implement.
    """
    return msgspec.json.Decoder(_Types(schema, unmatched).ref(ref))


def _digits(low: int, high: int, width: int) -> str:
    """A regular expression of the ``width``-digit numbers ``low``..``high`` (few alternatives:
    a lookahead at every quote of a record must not try a thousand years one by one)."""
    if width == 0:
        return ""
    unit = 10 ** (width - 1)
    full, parts = [], []
    for digit in range(low // unit, high // unit + 1):
        lo = low - digit * unit if digit == low // unit else 0
        hi = high - digit * unit if digit == high // unit else unit - 1
        if lo == 0 and hi == unit - 1:
            full.append(digit)
        else:
            parts.append(f"{digit}(?:{_digits(lo, hi, width - 1)})")
    if full:
        parts.append(f"[{full[0]}-{full[-1]}][0-9]{{{width - 1}}}")   # whole digits come in one run
    return "|".join(parts)


_ALIGNED = (DATE_MIN.month, DATE_MIN.day, DATE_MAX.month, DATE_MAX.day) == (1, 1, 12, 31)
#: U+0080..U+009F in UTF-8 (U+007F and the backslash are looked for apart).
_C1 = re.compile(b"\xc2[\x80-\x9f]")
#: A text that starts like a date of a year outside DATE_MIN..DATE_MAX.
_FAR_YEAR = re.compile(('"(?:%s)-' % "|".join(
    _digits(low, high, 4) for low, high in ((0, DATE_MIN.year - 1), (DATE_MAX.year + 1, 9999)) if low <= high)).encode())


def fast_text(source: bytes) -> bool:
    """True when the UTF-8 JSON text ``source`` holds no escape (a backslash: maybe a control
    character), no raw U+007F..U+009F, no date outside DATE_MIN..DATE_MAX and no null (so the
    text checks would find nothing, and the typed decoder's None means a key left out).
    Substring searches first: one regular expression for all of it cost three times more."""
    return _ALIGNED and b"\\" not in source and b"null" not in source and b"\x7f" not in source \
        and (b"\xc2" not in source or _C1.search(source) is None) and _FAR_YEAR.search(source) is None
