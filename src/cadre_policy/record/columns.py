"""A population of cadre records laid out in columns: what the columnar derivation reads.

One ``Records`` table per record list of the import format (posts, appraisals, ...), rows
in canonical order (by cadre, then the record's place in its list), and one row per cadre
for the cadre's own fields. Values keep the meaning of the canonical documents: dates are
day numbers (``periods.day_number``), booleans 0/1, integers int64, text and unit ids
Python strings; a ``mask`` says where a value is on record.

The fact store fills it in bulk (``store.columns``); ``from_documents`` lays out canonical
documents (tests, and populations already in memory) the same way.
"""
from __future__ import annotations

import sys

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from cadre_policy.language import periods, record_table

def _kind_of(f: record_table.Field) -> str:
    """The column kind of a field: ``unit`` for a unit id (read through the units), numbers as they are."""
    if f.ref == "unit":
        return "unit"
    return f.type if f.type in ("int", "bool", "date") else "str"


def _record_fields() -> dict[str, dict[str, str]]:
    return {kind.list: {f.name: _kind_of(f) for f in kind.fields.values() if f.scalar}
            for kind in record_table.kinds().values() if kind.list not in (None, "units", "cadres")}


def _cadre_fields() -> dict[str, str]:
    out = {}
    for f in record_table.kind("cadre").fields.values():
        if f.scalar:
            out[f.name] = _kind_of(f)
        elif f.type == "record":              # a nested record is columns of the cadre's row
            out.update({sub.column: _kind_of(sub) for sub in record_table.kind(f.of).fields.values()})
    return out


#: The fields of each record list, with their kinds, from the record schema table.
RECORD_FIELDS = _record_fields()
#: The cadre's own fields (a nested record's by their column, ``recruitment_date``).
CADRE_FIELDS = _cadre_fields()
NUMERIC = ("int", "bool", "date")


@dataclass
class Vec:
    """One column: values (int64 for numbers, booleans and dates; object otherwise) and a mask.

    Text columns also carry ``codes``: an int64 per row, equal exactly where the strings are
    equal (-1: none on record), so grouping by text never compares strings in Python.
    """
    values: np.ndarray
    mask: np.ndarray
    kind: str
    codes: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int, kind: str) -> "Vec":
        values = np.zeros(n, dtype=np.int64) if kind in NUMERIC else np.full(n, None, dtype=object)
        return cls(values, np.zeros(n, dtype=bool), kind)

    def take(self, rows: np.ndarray) -> "Vec":
        """The values at ``rows`` (-1: no row, so no value)."""
        safe = np.where(rows >= 0, rows, 0)
        if len(self.values) == 0:
            return Vec.empty(len(rows), self.kind)
        mask = self.mask[safe] & (rows >= 0)
        codes = None if self.codes is None else np.where(mask, self.codes[safe], -1)
        return Vec(self.values[safe], mask, self.kind, codes)

    def where(self, keep: np.ndarray) -> "Vec":
        """The rows where ``keep`` holds."""
        return Vec(self.values[keep], self.mask[keep], self.kind, None if self.codes is None else self.codes[keep])

    def pythons(self, rows: np.ndarray) -> list:
        """The canonical-document values of ``rows`` (None where not on record), converted at once."""
        mask = self.mask[rows].tolist()
        values = self.values[rows]
        if self.kind == "date":
            values = (values.astype("datetime64[D]")).tolist()        # datetime.date objects
        elif self.kind == "bool":
            values = values.astype(bool).tolist()
        else:
            values = values.tolist()
        return [v if ok else None for v, ok in zip(values, mask)]


@dataclass
class Records:
    """The rows of one record list for a whole population, grouped by cadre in canonical order."""
    name: str
    cadre: np.ndarray                    # int64: the row's cadre (index into Population.ids)
    fields: dict = field(default_factory=dict)     # name -> Vec
    parent: np.ndarray | None = None     # rectification: the row of its review in ``reviews``

    @property
    def n(self) -> int:
        return len(self.cadre)

    def subset(self, keep: np.ndarray) -> "Records":
        """The rows where ``keep`` holds; ``parent`` rows are renumbered by the caller."""
        return Records(self.name, self.cadre[keep],
                       {k: v.where(keep) for k, v in self.fields.items()},
                       None if self.parent is None else self.parent[keep])


@dataclass
class Population:
    """Cadres (in id order) and every record list, in columns."""
    ids: np.ndarray                      # object: cadre ids
    cadre: dict                          # name -> Vec, one row per cadre
    lists: dict                          # record list name -> Records

    @property
    def n(self) -> int:
        return len(self.ids)


class _Builder:
    """Appends values column by column; ``done`` makes the arrays."""

    def __init__(self, kinds: dict):
        self.kinds = kinds
        self.values = {k: [] for k in kinds}

    def add(self, get) -> None:
        for key in self.kinds:
            self.values[key].append(get(key))

    def done(self) -> dict:
        return {key: vec(self.values[key], kind) for key, kind in self.kinds.items()}


def vec(values: list, kind: str) -> Vec:
    """A column from Python values of one kind (None: not on record)."""
    mask = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    if kind in NUMERIC:
        if kind == "date":
            out = [(v - periods.EPOCH).days if isinstance(v, date) else 0 for v in values]
        else:
            out = [int(v) if v is not None else 0 for v in values]
        return Vec(np.array(out, dtype=np.int64), mask, kind)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return Vec(array, mask, kind, text_codes(values))


def text_codes(values) -> np.ndarray:
    """Codes of text values (-1 for None), in order of first appearance."""
    pa = sys.modules.get("pyarrow")
    # Arrow's hash of the strings, 20× Python's dict, the same codes; only where a read in columns
    # loaded it: importing it for a few documents costs more than it saves
    if pa is not None and len(values) > 64:
        try:
            encoded = pa.array(values, type=pa.string()).dictionary_encode()
        except (pa.ArrowInvalid, pa.ArrowTypeError):       # not all text (a tuple, a number): below
            pass
        else:
            return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    seen: dict = {None: -1}
    return np.fromiter((seen.setdefault(v, len(seen) - 1) for v in values), dtype=np.int64, count=len(values))


def from_documents(docs: list[dict]) -> Population:
    """Lay out canonical cadre documents (the store's ``read``) in columns, in the given order."""
    cadres = _Builder(CADRE_FIELDS)
    builders = {name: _Builder(kinds) for name, kinds in RECORD_FIELDS.items()}
    owners = {name: [] for name in RECORD_FIELDS}
    parents = []
    for index, doc in enumerate(docs):
        recruitment = doc.get("recruitment") or {}
        cadres.add(lambda key: recruitment.get(key[12:]) if key.startswith("recruitment_") else doc.get(key))
        for name in RECORD_FIELDS:
            if name == "rectification":
                continue
            for record in doc.get(name, ()):
                builders[name].add(record.get)
                owners[name].append(index)
                if name == "reviews":
                    for check in record.get("rectification", ()):
                        builders["rectification"].add(check.get)
                        owners["rectification"].append(index)
                        parents.append(len(owners["reviews"]) - 1)
    lists = {name: Records(name, np.array(owners[name], dtype=np.int64), builders[name].done())
             for name in RECORD_FIELDS}
    lists["rectification"].parent = np.array(parents, dtype=np.int64)
    ids = np.empty(len(docs), dtype=object)
    ids[:] = [doc.get("id") for doc in docs]
    return Population(ids, cadres.done(), lists)


def take_cadres(pop: Population, rows: np.ndarray) -> Population:
    """The cadres at ``rows`` (repeats allowed: each occurrence is a cadre of its own) with their records."""
    rows = np.asarray(rows, dtype=np.int64)
    cadre = {name: vec.take(rows) for name, vec in pop.cadre.items()}
    lists, spans = {}, {}
    for name, records in pop.lists.items():
        low = np.searchsorted(records.cadre, rows, side="left")
        lengths = np.searchsorted(records.cadre, rows, side="right") - low
        starts = np.cumsum(lengths) - lengths          # where each new cadre's rows begin
        picked = np.repeat(low - starts, lengths) + np.arange(int(lengths.sum()))
        owners = np.repeat(np.arange(len(rows)), lengths)
        lists[name] = Records(name, owners, {k: v.take(picked) for k, v in records.fields.items()})
        spans[name] = (low, starts, picked)
    low, starts, _ = spans["reviews"]
    checks = pop.lists["rectification"]
    picked = spans["rectification"][2]
    owners = lists["rectification"].cadre
    # the check's review: the same place among its new cadre's reviews as among the old one's
    lists["rectification"].parent = starts[owners] + (checks.parent[picked] - low[owners])
    return Population(pop.ids[rows], cadre, lists)
