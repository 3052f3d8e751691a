"""The record schema table (``data/schemas/record.yaml``) read once: every record kind and field.

The table is the one place a field of the cadre record is declared; the JSON Schema, the
ORM column lists, the spreadsheet layout, the labels, the fact types, the columnar field
lists and the editor's descriptions are read or generated from it (tests/test_record_schema.py
holds them to it). This module only reads: it sits low enough that the labels and the fact
types can use it.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
from dataclasses import dataclass, field
from functools import cache

from cadre_policy import data

TYPES = ("id", "text", "date", "int", "bool", "enum", "flags", "record", "list")


@dataclass(frozen=True)
class Field:
    """One field of a record kind (see the header of record.yaml for each attribute)."""

    kind: str                  # the record kind it belongs to
    name: str
    type: str
    label: str
    description: str
    required: bool = False
    max: int | None = None
    min: int | None = None
    null: bool = False
    ref: str | None = None
    of: str | None = None
    values_name: str | None = None
    ordered: bool = False
    sheet: dict | None = field(default_factory=dict)    # None: not in the spreadsheets
    column_name: str | None = None
    column_length: int | None = None

    @property
    def values(self) -> dict[str, str]:
        """Code -> Chinese name of an enumerated field (empty otherwise)."""
        return enums().get(self.values_name, {}) if self.values_name else {}

    @property
    def column(self) -> str:
        """The SQL column that stores the field."""
        return self.column_name or self.name

    @property
    def scalar(self) -> bool:
        """A value of its own (not a nested record, a list or the unit's flags)."""
        return self.type not in ("record", "list", "flags")


@dataclass(frozen=True)
class Kind:
    """A record kind: a unit, a cadre, a post, ...."""

    name: str
    title: str
    fields: dict[str, Field]
    list: str | None = None
    table: str | None = None
    sheet: dict | None = None


def _field(kind: str, name: str, raw: dict) -> Field:
    kind_of = raw["type"]
    if kind_of not in TYPES:
        raise ValueError(f"record.yaml: {kind}.{name}: unknown type {kind_of!r}")
    values = raw.get("values", name) if kind_of in ("enum", "flags") else None
    sheet = raw.get("sheet", {})
    column = raw.get("column") or {}
    return Field(kind, name, kind_of, raw["label"], raw["description"], bool(raw.get("required")),
                 raw.get("max"), raw.get("min"), bool(raw.get("null")), raw.get("ref"), raw.get("of"),
                 values, bool(raw.get("ordered")), None if sheet is False else dict(sheet),
                 column.get("name"), column.get("length"))


#: record.yaml as read, kept as Python keeps bytecode: in __pycache__ beside it, for this Python's marshal
MARSHALLED = data.SCHEMAS / "__pycache__" / f"record.{sys.implementation.cache_tag}.marshal"


@cache
def _raw() -> dict:
    """The table as read, from the marshalled copy when it was made from the same text (0.1 ms against
    5 ms and the import of PyYAML, at every start); else parsed, and the copy made unless Python may not
    write bytecode either (``PYTHONDONTWRITEBYTECODE``) or the folder is read-only."""
    text = (data.SCHEMAS / "record.yaml").read_bytes()
    digest = hashlib.sha256(text).digest()
    try:
        kept = MARSHALLED.read_bytes()
        if kept[:len(digest)] == digest:
            return marshal.loads(kept[len(digest):])
    except (OSError, EOFError, ValueError, TypeError):      # none yet, or unreadable: parse the text
        pass
    import yaml
    # libyaml's safe loader when PyYAML has it: the same values, 25 ms less
    raw = yaml.load(text.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not sys.dont_write_bytecode:
        _keep(digest, raw)
    return raw


def _keep(digest: bytes, raw: dict) -> None:
    import tempfile
    tmp = None
    try:
        blob = digest + marshal.dumps(raw)
        MARSHALLED.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=MARSHALLED.parent)
        os.fchmod(fd, 0o644)                # as readable as the bytecode beside it
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(tmp, MARSHALLED)         # whole or not at all, whoever else writes it at once
    except (OSError, ValueError):           # a read-only installation, a value marshal cannot keep: parse each time
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


@cache
def enums() -> dict[str, dict[str, str]]:
    """Every enumeration: name -> {code: Chinese name}, in the table's order."""
    return {name: dict(values) for name, values in _raw()["enums"].items()}


@cache
def kinds() -> dict[str, Kind]:
    """Every record kind by name, in the table's order."""
    out = {}
    for name, raw in _raw()["kinds"].items():
        fields = {key: _field(name, key, spec) for key, spec in raw["fields"].items()}
        out[name] = Kind(name, raw["title"], fields, raw.get("list"), raw.get("table"), raw.get("sheet"))
    return out


def kind(name: str) -> Kind:
    """One record kind (``cadre``, ``post``, ...)."""
    return kinds()[name]


def by_list() -> dict[str, Kind]:
    """Record kinds by their key in the document (``posts`` -> post)."""
    return {k.list: k for k in kinds().values() if k.list}


def labels() -> dict[str, str]:
    """Field name -> Chinese label over every kind (the first kind's where two kinds label one name
    differently: ``level`` of a unit and of an education record; a field's own ``label`` says which)."""
    out: dict[str, str] = {}
    for k in kinds().values():
        for f in k.fields.values():
            out.setdefault(f.name, f.label)
    return out


def aliases(values_name: str) -> dict[str, str]:
    """Other names an enumeration's values may be written as: name -> code."""
    return dict((_raw().get("aliases") or {}).get(values_name) or {})


def ambiguous(values_name: str) -> dict[str, list[str]]:
    """Names that could mean more than one value of an enumeration: name -> the codes."""
    return dict((_raw().get("ambiguous") or {}).get(values_name) or {})


def description(kind_name: str, key: str) -> str | None:
    """The description of a field (None when the kind or field is not in the table)."""
    k = kinds().get(kind_name)
    f = k.fields.get(key) if k else None
    return f.description if f else None


def document() -> dict:
    """The document's own entry: title, description, and the descriptions of its two lists."""
    return dict(_raw()["document"])
