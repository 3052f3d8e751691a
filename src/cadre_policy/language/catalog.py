"""The catalogue of facts a rule can use: built-in facts and declared derived quantities."""
from __future__ import annotations

from cadre_policy.language import types as t
from cadre_policy.language.model import Derived

RESULT_TYPES = {"duration": t.DURATION, "count": t.INTEGER, "elapsed": t.DURATION, "ratio": t.FRACTION,
                "age": t.INTEGER, "every": t.BOOLEAN, "rank": t.RANK, "steps": t.INTEGER, "year": t.INTEGER,
                "plus": t.INTEGER, "minus": t.INTEGER, "min": t.INTEGER, "max": t.INTEGER, "lookup": t.INTEGER}


class Catalogue:
    """Resolves dotted fact paths to types, given the policy set's derived quantities."""

    def __init__(self, derived: dict[str, Derived]):
        self.derived = derived
        self.types: dict[str, t.Type] = dict(t.BUILTIN_FACTS)
        self._resolving: set[str] = set()
        for name in derived:
            self._derived_type(name)

    def _derived_type(self, name: str) -> t.Type | None:
        if name in self.types:
            return self.types[name]
        if name in self._resolving:    # a cycle: the checker reports it (E403)
            return None
        self._resolving.add(name)
        spec = self.derived[name]
        if spec.form in ("latest", "first", "current", "some", "consecutive"):
            source = self.resolve(spec.source)
            result = t.record(source.record, source.fields) if source and source.name == "records" else None
        else:
            result = RESULT_TYPES[spec.form]
        self._resolving.discard(name)
        if result is not None:
            self.types[name] = result
        return result

    def resolve(self, path: str) -> t.Type | None:
        """The type of a dotted path, or None when nothing of that name exists.

        >>> Catalogue({}).resolve("cadre.age").name
        'integer'
        >>> Catalogue({}).resolve("posts").name
        'records'
        """
        if path in t.RECORD_LISTS:
            rec = t.RECORD_LISTS[path]
            return t.records(rec.record, rec.fields)
        head, *rest = path.split(".")
        current = self.types.get(head)
        if current is None and head in self.derived:
            current = self._derived_type(head)
        for part in rest:
            if current is None or current.name not in ("record", "records"):
                return None
            current = current.fields.get(part)
        return current

    def record_fields(self, source: str) -> dict | None:
        """The fields of the records a derived quantity ranges over."""
        kind = self.resolve(source)
        return kind.fields if kind is not None and kind.name == "records" else None

    def paths(self, include_records: bool = False):
        """Every usable path with its type, for `policy facts fields` and suggestions."""
        def walk(prefix, kind, depth):
            yield prefix, kind
            if kind.name == "record" and depth < 3:
                for name, sub in kind.fields.items():
                    yield from walk(f"{prefix}.{name}", sub, depth + 1)
        for name, kind in self.types.items():
            yield from walk(name, kind, 0)
        if include_records:
            for name, rec in t.RECORD_LISTS.items():
                yield name, t.records(rec.record, rec.fields)
