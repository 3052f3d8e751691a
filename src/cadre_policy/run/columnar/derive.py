"""Derivation in columns: a whole population's derived facts and engine facts at once.

It computes what ``run.derive.Deriver`` and ``run.encode.Encoder`` compute for one cadre, for
every cadre of a ``Population`` at once, and lays the result out as the ``FactTable`` the
columnar engine reads. Two devices keep it exact without a second implementation of the
language's semantics:

- record-level work that is pure array arithmetic is done with numpy: the records dated on or
  before the evaluation date, the latest / first / current record (ties broken as the
  per-cadre code breaks them), counts in windows and since a date, distinct counts, and
  cumulative durations with overlaps merged;
- every calendar or language function (the 民法典 month arithmetic, completed years, rank
  steps, a ``where`` condition, a value's lowering) is called, unchanged, once per *distinct*
  combination of its inputs, and the answers are spread back over the rows. A population of
  a million cadres has a few thousand distinct start dates and a handful of distinct
  (grassroots flag, unit level) pairs.

``some`` / ``every`` test a condition on each record's own date: that is one more derivation
over a population with a row per matching record, each with its own evaluation date. A policy
set using anything this module does not know is reported by ``supported`` and derived cadre by
cadre instead.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t
from cadre_policy.language.kleene import Evaluator, compile_predicate, lookup
from cadre_policy.language.parameters import months
from cadre_policy.run.columnar.calendar import completed_years, encode_durations
from cadre_policy.record.columns import RECORD_FIELDS, Population, Records, Vec, take_cadres, text_codes, vec
from cadre_policy.run.derive import derived_closure, entry_key, keyed_period, params_read, table_of
from cadre_policy.run.columnar.table import INT64_LIMIT, FactColumn, FactTable
from cadre_policy.run.encode import _lowering

_FORMS = {"latest", "first", "current", "count", "duration", "elapsed", "age", "rank", "steps", "ratio",
          "some", "every", "year", "plus", "minus", "min", "max", "lookup", "consecutive"}
_NUMPY_ARITHMETIC = {"plus": np.add, "minus": np.subtract, "min": np.minimum, "max": np.maximum}
_CONDITIONS = (m.All, m.Any, m.Not, m.Present, m.Compare, m.Has, m.Within)


# ---- distinct inputs --------------------------------------------------------------------
def _codes(v: Vec) -> np.ndarray:
    """An int64 code per row, equal exactly where the values are equal; -1 where none is on record."""
    if v.kind in ("int", "bool", "date"):
        return np.where(v.mask, v.values, np.iinfo(np.int64).min)
    if v.codes is not None:
        return np.where(v.mask, v.codes, -1)
    return np.where(v.mask, text_codes(v.values), -1)


def _dense(codes: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """(codes renumbered 0..k-1 keeping their order, k, a row holding each new code).

    Codes within a small range are renumbered through a lookup table (no sort); others by np.unique.
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64)
    low, high = int(codes.min()), int(codes.max())
    if high - low <= max(4 * n, 1 << 16):
        used = np.zeros(high - low + 1, dtype=bool)
        used[codes - low] = True
        table = np.cumsum(used) - 1
        dense = table[codes - low]
        k = int(table[-1]) + 1
        holder = np.empty(k, dtype=np.int64)
        holder[dense] = np.arange(n)          # any row of a value stands for it
        return dense, k, holder
    _, holder, dense = np.unique(codes, return_index=True, return_inverse=True)
    return dense.ravel(), len(holder), holder


def distinct(vecs: list[Vec]) -> tuple[np.ndarray, np.ndarray]:
    """(a representative row of each distinct combination of the columns' values, each row's combination)."""
    n = len(vecs[0].values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key, size = None, 1
    for v in vecs:
        dense, width, _ = _dense(_codes(v))
        if key is not None and size * width >= 2 ** 62:     # the mixed-radix key would overflow: compact it
            key, size, _ = _dense(key)
        key = dense if key is None else key * width + dense
        size *= width
    inverse, _, first = _dense(key)
    return first, inverse


def apply(vecs: list[Vec], fn, kind: str | None = None) -> Vec:
    """``fn(*python values)`` for every row, called once per distinct combination (None: no value)."""
    n = len(vecs[0].values)
    first, inverse = distinct(vecs)
    answers = [fn(*values) for values in zip(*(v.pythons(first) for v in vecs))]
    return _spread(answers, inverse, n, kind)


def _spread(answers: list, inverse: np.ndarray, n: int, kind: str | None) -> Vec:
    kind = kind or _kind_of(answers)
    if not answers:
        return Vec.empty(n, kind)
    out = Vec.empty(len(answers), kind)
    for i, value in enumerate(answers):
        if value is None:
            continue
        out.mask[i] = True
        if kind == "date":
            out.values[i] = (value - periods.EPOCH).days
        elif kind in ("int", "bool"):
            out.values[i] = int(value)
        else:
            out.values[i] = value
    codes = None if kind in ("int", "bool", "date") else text_codes(answers)[inverse]
    return Vec(out.values[inverse], out.mask[inverse], kind, codes)


def _kind_of(values: list) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) and abs(v) < INT64_LIMIT for v in present):
        return "int"
    if present and all(isinstance(v, date) for v in present):
        return "date"
    return "str" if all(isinstance(v, str) for v in present) else "obj"


# ---- row groups --------------------------------------------------------------------------
def _pick(records: Records, keep: np.ndarray, keys: list[np.ndarray], n: int, last: bool) -> np.ndarray:
    """Per cadre, the row (or -1) that sorts last (or first) by ``keys`` among the rows kept."""
    rows = np.flatnonzero(keep)
    out = np.full(n, -1, dtype=np.int64)
    if len(rows) == 0:
        return out
    cadre = records.cadre[rows]
    order = np.argsort(_radix_key([cadre] + [k[rows] for k in keys]), kind="stable")
    rows, cadre = rows[order], cadre[order]
    edge = np.flatnonzero(cadre[1:] != cadre[:-1])
    ends = np.append(edge, len(rows) - 1) if last else np.insert(edge + 1, 0, 0)
    out[cadre[ends]] = rows[ends]
    return out


def _radix_key(columns: list[np.ndarray]) -> np.ndarray:
    """One int64 per row ordering as the columns do, the first most significant (their lexsort order):
    one sort of numbers instead of one pass per column. Columns too wide to share 63 bits are ranked first."""
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        low = int(column.min())
        width = int(column.max()) - low + 1
        if size * width >= 2 ** 62:
            column, width = _dense(column)[:2]          # its values' ranks: the same order, narrower
            low = 0
            if size * width >= 2 ** 62:
                key, size, _ = _dense(key)
        key = key * width + (column - low)
        size *= width
    return key


def _kept(records: Records, keep: np.ndarray) -> Records:
    """The rows where ``keep`` holds; when all are kept, the same columns in a table of its own (the
    base scope adds fields to it, never writes into a column), without copying them."""
    if keep.all():
        return Records(records.name, records.cadre, dict(records.fields), records.parent)
    return records.subset(keep)


def _count(records: Records, keep: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(records.cadre[keep], minlength=n).astype(np.int64)


class _Ref:
    """A record-valued fact: per cadre, a row of ``records`` (-1: none)."""

    __slots__ = ("records", "rows")

    def __init__(self, records: Records, rows: np.ndarray):
        self.records, self.rows = records, rows


class _Ratio:
    __slots__ = ("num", "den", "mask")

    def __init__(self, num, den, mask):
        self.num, self.den, self.mask = num, den, mask


class _UnitRef:
    """A unit-valued fact: per row, a unit id (the unit read through the units table)."""

    __slots__ = ("ids",)

    def __init__(self, ids: Vec):
        self.ids = ids


# ---- the deriver ---------------------------------------------------------------------------
class ColumnarDeriver:
    """The derived facts and engine facts of a compiled policy set for a population at once.

    Args:
        runner: The ``PolicyRunner`` whose compiled set, catalogue and evaluation date are used.
    """

    def __init__(self, runner):
        self.runner = runner
        self.as_of = runner.as_of
        self.day = periods.day_number(self.as_of)
        self.compiled = runner.compiled
        self.per_cadre = runner.deriver
        # names are not read in columns (store.columns): a rule on a name is derived per cadre
        reads_names = any(source == "cadre.name" for source, _, _ in self.compiled.fields.values()) or any(
            "cadre.name" in spec.references() for spec in self.compiled.derived)
        self.supported = not reads_names and all(self._supports(spec) for spec in self.compiled.derived)
        self._units: tuple = (None, {}, {})     # (units table, id -> row, path -> values by row)
        self._keys: dict | None = None

    def keys(self) -> dict:
        """Derived name -> what its values depend on: its definition, the parameters it reads (their
        value and their dated history) and the keys of the quantities it reads. Two sets' quantities
        with equal keys hold the same values for the same population on the same date."""
        if self._keys is None:
            catalogue = self.per_cadre.catalogue.derived
            params = self.runner.compiled.parameters
            history = self.per_cadre.param_specs
            keys: dict = {}
            for spec in self.compiled.derived:          # in dependency order
                names = sorted(params_read(spec))
                reads = sorted({p.split(".")[0] for p in spec.references()} & set(catalogue))
                keys[spec.name] = (spec, tuple((n, repr(params.get(n)), repr(history.get(n)),
                                                n in self.per_cadre.overrides) for n in names),
                                   tuple((name, keys.get(name)) for name in reads))
            self._keys = keys
        return self._keys

    def unit_position(self, units: dict) -> dict:
        """unit id -> its row in the units table (the order of ``units``)."""
        self._units_for(units)
        return self._units[1]

    def unit_values(self, units: dict, path: str) -> Vec:
        """The value at ``path`` of every unit, one row per unit (lists as tuples), worked out once."""
        memo = self._units_for(units)
        found = memo.get(path)
        if found is None:
            answers = []
            for unit in units.values():
                value = lookup(unit, path)
                answers.append(tuple(value) if isinstance(value, list) else value)
            found = memo[path] = _spread(answers, np.arange(len(answers)), len(answers), None)
        return found

    def _units_for(self, units: dict) -> dict:
        if self._units[0] is not units:
            self._units = (units, {uid: i for i, uid in enumerate(units)}, {})
        return self._units[2]

    def _supports(self, spec: m.Derived) -> bool:
        if spec.form not in _FORMS:
            return False
        if spec.where is not None and _record_paths(spec.where) is None:
            return False
        if spec.form in ("some", "every"):
            # derived again as of each record's date: the filters of what that reads must not
            # depend on the date they were compiled for
            names = derived_closure(spec.satisfies, self.per_cadre.catalogue.derived)
            return spec.source in RECORD_FIELDS and spec.source != "rectification" and all(
                _date_free(s.where) for s in self.per_cadre.specs if s.name in names)
        return True

    def derive(self, pop: Population, units: dict, reuse: "Derivation | None" = None) -> "Derivation":
        """Every derived fact of every cadre of ``pop``.

        Args:
            pop: The population in columns.
            units: Unit id -> unit document, flags normalised (``run.evaluate.normalise_units``).
            reuse: Another set's derivation of the same ``pop`` and ``units`` on the same date: its
                base scope and every quantity whose key (``keys``) is the same here are taken from
                it, so only what differs is derived again (a draft derives what it changes).
        """
        return Derivation(self, pop, units, reuse=reuse)

    def table(self, pop: Population, units: dict) -> FactTable:
        """The ``FactTable`` of every cadre of ``pop``, as ``Encoder.encode`` would build it one by one."""
        return self.derive(pop, units).table()


class Derivation:
    """One derivation over one population: ``table()`` lays out the engine facts."""

    def __init__(self, deriver: ColumnarDeriver, pop: Population, units: dict,
                 days: np.ndarray | None = None, specs=None, reuse: "Derivation | None" = None):
        self.d = deriver
        self.pop = pop
        self.n = pop.n
        self.units = units
        # the evaluation date of each cadre: the same for all, except in the derivations
        # ``some``/``every`` make as of each record's own date
        self.uniform = days is None
        self.days = np.full(self.n, deriver.day, dtype=np.int64) if days is None else days
        self.lists: dict[str, Records] = {}
        self.refs: dict = {}
        self.values: dict = {}
        self._unit_positions: dict = {}
        same: set = set()
        if reuse is not None and reuse.pop is pop and reuse.units is units and reuse.d.day == deriver.day \
                and days is None and reuse.uniform:
            same = self._share(reuse)
        else:
            self._base()
        for spec in deriver.compiled.derived if specs is None else specs:
            if spec.name in same:
                continue
            value = getattr(self, "_" + spec.form)(spec)
            if value is not None:
                self.values[spec.name] = value

    def _share(self, other: "Derivation") -> set:
        """Take ``other``'s base scope and the quantities whose keys are the same here; their names.

        The base scope depends only on the population and the date. Nothing derived later writes
        into the shared records (only ``_base`` adds their fields), so sharing them is safe.
        """
        ours, theirs = self.d.keys(), other.d.keys()
        derived = set(theirs)
        self.lists, self.current = other.lists, other.current
        self._unit_positions = other._unit_positions
        self.refs = {k: v for k, v in other.refs.items() if k not in derived}
        self.values = {k: v for k, v in other.values.items() if k not in derived}
        same = {name for name, key in ours.items() if theirs.get(name) == key}
        for name in same:
            for mine, found in ((self.values, other.values), (self.refs, other.refs)):
                if name in found:
                    mine[name] = found[name]
        return same

    # ---- base scope (run.derive.base_scope) ----------------------------------------------
    def _base(self) -> None:
        pop, day, n = self.pop, self.days, self.n
        cadre = Records("cadre", np.arange(n, dtype=np.int64), dict(pop.cadre))
        birth = pop.cadre["birth_date"]
        cadre.fields["age"] = Vec(np.where(birth.mask, completed_years(birth.values, day), 0), birth.mask.copy(), "int")
        for key in [k for k in cadre.fields if k.startswith("recruitment_")]:
            del cadre.fields[key]
        self.refs["cadre"] = _Ref(cadre, np.arange(n, dtype=np.int64))
        self.values["as_of"] = self._day_vec()
        rec_date = pop.cadre["recruitment_date"]
        recruitment = Records("recruitment", np.arange(n, dtype=np.int64), {
            "date": rec_date, "fresh_graduate": pop.cadre["recruitment_fresh_graduate"],
            "unit": pop.cadre["recruitment_unit"]})
        self.refs["recruitment"] = _Ref(recruitment, np.where(rec_date.mask & (rec_date.values <= day),
                                                              np.arange(n), -1))
        for name, records in pop.lists.items():
            if name == "rectification":
                continue
            field = t.RECORD_DATE[name[:-1]] if name != "posts" else "start"
            dated = records.fields[field]
            keep = dated.mask & (dated.values <= day[records.cadre])
            self.lists[name] = _kept(records, keep)
            if name == "reviews":
                renumber = np.cumsum(keep) - 1
                renumber[~keep] = -1
        if "sanctions" in self.lists:
            self._sanction_ranks()
        if "educations" in self.lists:
            cadre.fields["full_time_education"] = self._full_time_education()
        rect = pop.lists["rectification"]
        parent = renumber[rect.parent] if len(rect.parent) else rect.parent
        dated = rect.fields["date"]
        keep = dated.mask & (dated.values <= day[rect.cadre]) & (parent >= 0)
        self.lists["rectification"] = _kept(rect, keep)
        self.lists["rectification"].parent = parent[keep]
        self._posts()
        nominations = self.lists["nominations"]
        exceptional = nominations.fields["exceptional"]
        nominations.fields["exceptional"] = Vec(np.where(exceptional.mask, exceptional.values, 0),
                                                np.ones(nominations.n, dtype=bool), "bool")
        self._promotion()

    def _full_time_education(self) -> Vec:
        """Each cadre's highest full-time education level among its records on record (run.derive.base_scope)."""
        records = self.lists["educations"]
        levels, mode = records.fields["level"], records.fields["mode"]
        ladder = {level: i for i, level in enumerate(t.EDUCATION)}
        rank = apply([levels, mode], lambda lv, md: ladder.get(lv) if md == "full_time" else None, "int")
        best = np.full(self.n, -1, dtype=np.int64)
        np.maximum.at(best, records.cadre[rank.mask], rank.values[rank.mask])
        return vec([t.EDUCATION[i] if i >= 0 else None for i in best.tolist()], "str")

    def _sanction_ranks(self) -> None:
        """Each sanction's ``rank``: the highest rank held on its date (run.derive.rank_held), from all of
        the cadre's posts; among equal rungs the earliest listed post's, as ``max`` picks."""
        sanctions, posts = self.lists["sanctions"], self.pop.lists["posts"]
        start, end, rank = posts.fields["start"], posts.fields["end"], posts.fields["rank"]
        days = sanctions.fields["date"]
        low = np.searchsorted(posts.cadre, sanctions.cadre, side="left")
        counts = np.searchsorted(posts.cadre, sanctions.cadre, side="right") - low
        which = np.repeat(np.arange(sanctions.n), counts)             # every (sanction, post of its cadre)
        post = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
        day = days.values[which]
        held = days.mask[which] & rank.mask[post] & start.mask[post] & (start.values[post] <= day) & \
            (~end.mask[post] | (end.values[post] >= day))
        which, post = which[held], post[held]
        rung = apply([rank], t.rank_index, "int").values[post] if len(post) else post
        best = np.full(sanctions.n, -1, dtype=np.int64)
        if len(post):
            order = np.argsort(_radix_key([which, -rung, post]), kind="stable")
            first = np.ones(len(order), dtype=bool)
            first[1:] = which[order][1:] != which[order][:-1]
            best[which[order][first]] = post[order][first]
        sanctions.fields["rank"] = rank.take(best)

    def _posts(self) -> None:
        posts = self.lists["posts"]
        n_rows = posts.n
        rank = apply([posts.fields["rank"]], t.rank_index, "int").values if n_rows else np.zeros(0, np.int64)
        first = np.ones(n_rows, dtype=bool)
        first[1:] = posts.cadre[1:] != posts.cadre[:-1]
        # highest rank among the cadre's earlier posts: a running maximum restarted per cadre
        shifted = rank + 2 + posts.cadre * 16          # ranks are < 14 rungs: cadres never mix
        running = np.maximum.accumulate(shifted) if n_rows else shifted
        before = np.where(first, -1, np.roll(running, 1) - 2 - posts.cadre * 16)
        posts.fields["promotion"] = Vec(((before >= 0) & (rank > before)).astype(np.int64),
                                        np.ones(n_rows, dtype=bool), "bool")
        unit = posts.fields["unit"]
        prev = np.roll(np.arange(n_rows), 1)
        posts.fields["previous_unit"] = Vec(unit.values[prev] if n_rows else unit.values,
                                            ~first & (unit.mask[prev] if n_rows else first), "str")
        end = posts.fields["end"]
        held = self._covers(posts)
        posts.fields["end"] = Vec(end.values, end.mask & ~held, "date")
        posts.fields["_rank"] = Vec(rank, np.ones(n_rows, dtype=bool), "int")

    def _covers(self, posts: Records) -> np.ndarray:
        start, end, day = posts.fields["start"], posts.fields["end"], self.days[posts.cadre]
        return start.mask & (start.values <= day) & (~end.mask | (end.values >= day))

    def _current_rows(self, posts: Records, keep: np.ndarray) -> np.ndarray:
        # language.posts.current_post: the highest rank, then the latest start, then the first listed
        keep = keep & self._covers(posts)
        order = -np.arange(posts.n)
        return _pick(posts, keep, [posts.fields["_rank"].values, posts.fields["start"].values, order],
                     self.n, last=True)

    def current_units(self) -> tuple[np.ndarray, list]:
        """(a code per cadre, the unit id of each code) of the unit of each cadre's current post
        (``language.posts.current_post``); None for a cadre who holds no post."""
        unit = self.lists["posts"].fields["unit"].take(self.current)
        codes = unit.codes if unit.codes is not None else text_codes(unit.values)
        dense, k, holder = _dense(np.where(unit.mask, codes, -1))
        return dense, [unit.values[r] if unit.mask[r] else None for r in holder.tolist()]

    def _promotion(self) -> None:
        n, posts, noms = self.n, self.lists["posts"], self.lists["nominations"]
        current = self.current = self._current_rows(posts, np.ones(posts.n, dtype=bool))
        latest = _pick(noms, np.ones(noms.n, dtype=bool), [], n, last=True)   # a later one replaces it
        fulfilled = self._fulfilled(noms, posts, latest[latest >= 0])
        last_open = np.where(latest >= 0, latest, -1)
        last_open[latest >= 0] = np.where(fulfilled, -1, latest[latest >= 0])
        self.refs["nomination"] = _Ref(noms, last_open)
        nominated = last_open >= 0
        target = noms.fields["target_rank"].take(last_open)
        next_rank = apply([posts.fields["rank"].take(current)], t.NEXT_RANK.get, "str")
        rank = Vec(np.where(nominated, target.values, next_rank.values),
                   np.where(nominated, target.mask, next_rank.mask), "str")
        unit = noms.fields["target_unit"].take(last_open)
        unit.mask &= np.array([bool(u) for u in unit.values], dtype=bool) if n else unit.mask
        promotion = Records("promotion", np.arange(n, dtype=np.int64), {
            "nominated": Vec(nominated.astype(np.int64), np.ones(n, dtype=bool), "bool"),
            "target_rank": rank, "target_unit": unit})
        self.refs["promotion"] = _Ref(promotion, np.arange(n, dtype=np.int64))
        # run.derive.base_scope: the current post's unit; the promotion's, the nomination's target first
        here = posts.fields["unit"].take(current)
        here.mask &= here.values != ""
        aimed = nominated & unit.mask
        there = Vec(np.where(aimed, unit.values, here.values), aimed | here.mask, "unit")
        self.refs["place"] = _Ref(Records("place", np.arange(n, dtype=np.int64),
                                          {"unit": Vec(here.values, here.mask, "unit"), "promotion_unit": there}),
                                  np.arange(n, dtype=np.int64))

    @staticmethod
    def _fulfilled(noms: Records, posts: Records, rows: np.ndarray) -> np.ndarray:
        """run.derive._fulfilled for nomination ``rows``: a post at or above the target rank started
        on or after the nomination's date (posts are grouped by cadre, in cadre order)."""
        out = np.zeros(len(rows), dtype=bool)
        if not len(rows) or not posts.n:
            return out
        target = apply([noms.fields["target_rank"]], t.rank_index, "int").values[rows]
        cadre = noms.cadre[rows]
        lo = np.searchsorted(posts.cadre, cadre, "left")
        counts = np.searchsorted(posts.cadre, cadre, "right") - lo
        which = np.repeat(np.arange(len(rows)), counts)              # every (nomination, post) pair
        post = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        start = posts.fields["start"]
        closes = (start.mask[post] & (start.values[post] >= noms.fields["date"].values[rows][which])
                  & (target[which] >= 0) & (posts.fields["_rank"].values[post] >= target[which]))
        out[np.unique(which[closes])] = True
        return out

    # ---- resolving a fact path ------------------------------------------------------------
    def resolve(self, path: str):
        """What a scope path holds per cadre: a Vec, a _Ref, a _UnitRef, a _Ratio, a list, or None."""
        head, _, rest = path.partition(".")
        if head in self.values and not rest:
            return self.values[head]
        if head in self.refs:
            ref = self.refs[head]
            return self._within(ref.records, ref.rows, rest) if rest else ref
        if head in self.lists and not rest:
            return ("list", self.lists[head], None)
        return None

    def _within(self, records: Records, rows: np.ndarray, rest: str):
        name, _, deeper = rest.partition(".")
        if name == "rectification" and records.name == "reviews" and not deeper:
            return ("list", self.lists["rectification"], rows)
        vec = records.fields.get(name) if not name.startswith("_") else None
        if vec is None:
            return None
        if vec.kind == "unit" and deeper and deeper != "id":       # read through the units table: no ids taken
            at = self._unit_rows(vec)
            if not len(at):              # no such records at all: no unit for anyone
                return self._unit(None, deeper, np.full(len(rows), -1, dtype=np.int64))
            return self._unit(None, deeper, np.where(rows >= 0, at[np.maximum(rows, 0)], -1))
        taken = vec.take(rows)
        if vec.kind == "unit":
            return self._unit(taken, deeper) if deeper else _UnitRef(taken)
        return None if deeper else taken

    def _unit_rows(self, ids: Vec) -> np.ndarray:
        """The row of each value's unit in the units table (-1: a unit id not in it, or none)."""
        key = id(ids.values)
        found = self._unit_positions.get(key)
        if found is None or found[0] is not ids.values:
            codes = ids.codes if ids.codes is not None else text_codes(ids.values)
            dense, _, holder = _dense(np.where(ids.mask, codes, -1))
            position = self.d.unit_position(self.units)
            table = np.array([position.get(ids.values[r], -1) if ids.mask[r] else -1 for r in holder.tolist()],
                             dtype=np.int64)
            found = self._unit_positions[key] = (ids.values, table[dense] if len(dense) else dense)
        return found[1]

    def _unit(self, ids: Vec, path: str, rows: np.ndarray | None = None) -> Vec:
        """The value at ``path`` of each row's unit (a unit not in the table is ``{"id": id}``, as per cadre).

        ``rows``: the units' rows in the units table, when known (``_unit_rows``).
        """
        if path == "id":
            return Vec(ids.values, ids.mask & (ids.values != ""), "str", ids.codes)
        rows = self._unit_rows(ids) if rows is None else rows
        values = self.d.unit_values(self.units, path)
        return values.take(rows)

    def _list(self, source: str):
        """(records, per-row keep mask) of a records path, or None when it is not a list."""
        found = self.resolve(source)
        if not (isinstance(found, tuple) and found[0] == "list"):
            return None
        _, records, parent_rows = found
        keep = np.ones(records.n, dtype=bool)
        if parent_rows is not None:           # the checks of the cadre's review in question only
            keep &= records.parent == parent_rows[records.cadre]
        return records, keep, parent_rows

    def _where(self, spec: m.Derived, records: Records, keep: np.ndarray) -> np.ndarray:
        """``keep`` and the rows whose ``where`` condition holds (an unknown one does not)."""
        if spec.where is None:
            return keep
        rows = np.flatnonzero(keep)
        out = np.zeros(records.n, dtype=bool)
        if len(rows):
            evaluator = self.d.per_cadre.record_evaluators[spec.name]
            out[rows] = self._kleene(spec.where, records, rows, evaluator) == 1
        return out

    def _kleene(self, cond, records: Records, rows: np.ndarray, evaluator) -> np.ndarray:
        """A condition's three-valued answer on each record row: 1 true, 0 false, -1 unknown.

        All / Any / Not are combined over whole columns; each other condition is answered by
        the compiled predicate the per-cadre code uses, once per distinct combination of the
        record fields and cadre facts it reads.
        """
        if isinstance(cond, (m.All, m.Any)):
            parts = [self._kleene(c, records, rows, evaluator) for c in cond.items]
            stop = 0 if isinstance(cond, m.All) else 1
            stopped = np.logical_or.reduce([p == stop for p in parts])
            unknown = np.logical_or.reduce([p == -1 for p in parts])
            return np.where(stopped, stop, np.where(unknown, -1, 1 - stop)).astype(np.int8)
        if isinstance(cond, m.Not):
            inner = self._kleene(cond.item, records, rows, evaluator)
            return np.where(inner == -1, -1, 1 - inner).astype(np.int8)
        matches = compile_predicate(cond, evaluator)
        fields, outer = _record_paths(cond)
        vecs = [records.fields[f].where(rows) if f in records.fields else Vec.empty(len(rows), "obj")
                for f in fields]
        kinds = [records.fields[f].kind if f in records.fields else "obj" for f in fields]
        outer_vecs = [self._python_vec(path).take(records.cadre[rows]) for path in outer]
        outer_kinds = [v.kind for v in outer_vecs]
        vecs += outer_vecs
        units, n_fields = self.units, len(fields)

        def test(*values):
            record = {}
            for f, v, kind in zip(fields, values, kinds):
                if v is not None:
                    record[f] = (units.get(v) or {"id": v}) if kind == "unit" else v
            answer = matches(record, _nest(outer, values[n_fields:], outer_kinds))
            return -1 if answer is None else int(answer)
        if not vecs:                      # a condition reading no field: one answer for all
            return np.full(len(rows), test(), dtype=np.int8)
        return apply(vecs, test, "int").values.astype(np.int8)

    def _day_vec(self) -> Vec:
        return Vec(self.days, np.ones(self.n, dtype=bool), "date")

    def _window_starts(self, spec: m.Derived) -> np.ndarray:
        """The first day of ``spec``'s window (``periods.window_start``) for each cadre's evaluation date."""
        if self.uniform:
            return np.full(self.n, periods.day_number(self.d.per_cadre.window_starts[spec.name]), dtype=np.int64)
        length = months(spec.within, self.d.compiled.parameters) or 0
        return apply([self._day_vec()], lambda on: periods.window_start(on, length), "date").values

    def _keyed_starts(self, spec: m.Derived, records: Records) -> Vec:
        """Per record row, the first day of its window: the table parameter's entry for the row's key."""
        key = self._record_value(records, spec.within.amount.key)
        if self.uniform:
            starts = self.d.per_cadre.window_starts[spec.name]
            return apply([key], lambda k: starts.get(entry_key(k)), "date")
        table = table_of(spec.within.amount, self.d.compiled.parameters) or {}
        scale = 12 if spec.within.unit == "years" else 1
        on = Vec(self.days[records.cadre], np.ones(records.n, dtype=bool), "date")
        return apply([key, on], lambda k, day: None if entry_key(k) not in table else
                     periods.window_start(day, table[entry_key(k)] * scale), "date")

    def _date_field(self, spec: m.Derived) -> str:
        return self.d.per_cadre.date_fields[spec.name]

    def _has_posts(self) -> np.ndarray:
        return np.bincount(self.lists["posts"].cadre, minlength=self.n) > 0

    # ---- the forms --------------------------------------------------------------------------
    def _latest(self, spec, last=True):
        found = self._list(spec.source)
        if found is None:
            return None
        records, keep, _ = found
        keep = self._where(spec, records, keep)
        dated = records.fields.get(self._date_field(spec))
        if dated is None:
            return None
        # latest: the last listed of the latest date; first: the first listed of the earliest
        rows = _pick(records, keep & dated.mask, [dated.values, np.arange(records.n)], self.n, last=last)
        self.refs[spec.name] = _Ref(records, rows)
        return None

    def _first(self, spec):
        return self._latest(spec, last=False)

    def _current(self, spec):
        found = self._list(spec.source)
        if found is None or found[0].name != "posts":
            return None
        records, keep, _ = found
        self.refs[spec.name] = _Ref(records, self._current_rows(records, self._where(spec, records, keep)))
        return None

    def _count(self, spec):
        found = self._list(spec.source)
        if found is None:
            return None
        records, keep, parent_rows = found
        keep = self._where(spec, records, keep)
        known = np.ones(self.n, dtype=bool)
        if parent_rows is not None:
            known &= parent_rows >= 0
        if spec.source == "posts":
            known &= self._has_posts()
        dated = records.fields.get(self._date_field(spec))
        if spec.within is not None and keyed_period(spec.within):
            starts = self._keyed_starts(spec, records)
            keep &= dated.mask & starts.mask & (dated.values >= starts.values)
        elif spec.within is not None:
            keep &= dated.mask & (dated.values >= self._window_starts(spec)[records.cadre])
        if spec.since:
            since = self.resolve(spec.since)
            since = since if isinstance(since, Vec) else Vec.empty(self.n, "date")
            known &= since.mask
            keep &= dated.mask & (dated.values >= since.values[records.cadre])
        if spec.distinct:
            keys = [self._record_value(records, f) for f in spec.distinct]
            whole = np.logical_and.reduce([k.mask for k in keys]) & keep
            rows = np.flatnonzero(whole)
            if len(rows):
                sub = [k.where(rows) for k in keys]
                _, combo = distinct(sub)
                width = int(combo.max()) + 1
                pairs = np.unique(records.cadre[rows] * width + combo)      # distinct (cadre, combination)
                counts = np.bincount(pairs // width, minlength=self.n).astype(np.int64)
            else:
                counts = np.zeros(self.n, dtype=np.int64)
        else:
            counts = _count(records, keep, self.n)
        return Vec(counts, known, "int")

    def _record_value(self, records: Records, path: str) -> Vec:
        head, _, rest = path.partition(".")
        vec = records.fields.get(head)
        if vec is None:
            return Vec.empty(records.n, "obj")
        if vec.kind == "unit" and rest:
            return self._unit(vec, rest)
        return vec if not rest else Vec.empty(records.n, "obj")

    def _duration(self, spec):
        found = self._list(spec.source)
        if found is None or found[0].name != "posts":
            return None
        records, keep, _ = found
        keep = self._where(spec, records, keep)
        if spec.at:
            at = self.resolve(spec.at)
            at = at if isinstance(at, Vec) else Vec.empty(self.n, "date")
            on = np.minimum(at.values, self.days)
            known = at.mask.copy()
        else:
            on = self.days.copy()
            known = np.ones(self.n, dtype=bool)
        known &= self._has_posts()
        start, end = records.fields["start"], records.fields["end"]
        row_on = on[records.cadre]
        stop = np.minimum(np.where(end.mask, end.values + 1, row_on), row_on)
        keep &= (start.values <= row_on) & (stop > start.values)
        rows = np.flatnonzero(keep)
        total = np.zeros(self.n, dtype=np.int64)
        first = np.zeros(self.n, dtype=np.int64)
        if len(rows):
            cadre = records.cadre[rows]
            order = np.argsort(_radix_key([cadre, start.values[rows], stop[rows]]), kind="stable")
            rows, cadre = rows[order], cadre[order]
            s, e = start.values[rows], stop[rows]
            head = np.ones(len(rows), dtype=bool)
            head[1:] = cadre[1:] != cadre[:-1]
            # the furthest end reached by the cadre's earlier ranges: a running maximum per cadre
            big = int(max(e.max(), s.max()) - min(e.min(), s.min()) + 2)
            offset = cadre.astype(np.int64) * big
            low = int(min(e.min(), s.min()))
            running = np.maximum.accumulate(e - low + offset)
            reached = np.where(head, np.iinfo(np.int64).min // 2, np.roll(running, 1) - offset + low)
            gain = np.maximum(0, e - np.maximum(s, reached))
            np.add.at(total, cadre, gain)
            first[cadre[head]] = s[head]
        has = np.bincount(records.cadre[rows], minlength=self.n) > 0 if len(rows) else np.zeros(self.n, bool)
        # periods.encode_duration(first, first + total): the merged time laid end to end from the first start
        values = np.where(has, encode_durations(first, first + total), 0)
        return Vec(values, known, "int")

    def _elapsed(self, spec):
        sources = spec.source if isinstance(spec.source, tuple) else (spec.source,)
        start = Vec.empty(self.n, "date")
        for source in sources:          # the first on record
            value = self.resolve(source)
            if not isinstance(value, Vec) or value.kind != "date":
                continue
            fill = ~start.mask & value.mask
            start.values[fill] = value.values[fill]
            start.mask |= fill
        if spec.at:
            end = self.resolve(spec.at)
            end = end if isinstance(end, Vec) and end.kind == "date" else Vec.empty(self.n, "date")
        else:
            end = self._day_vec()
        ok = start.mask & end.mask & (start.values <= end.values) & (end.values <= self.days)
        if spec.form == "elapsed":
            return Vec(np.where(ok, encode_durations(start.values, end.values), 0), ok, "int")
        return Vec(np.where(ok, completed_years(start.values, end.values), 0), ok, "int")

    def _age(self, spec):
        return self._elapsed(spec)

    def _year(self, spec):
        sources = spec.source if isinstance(spec.source, tuple) else (spec.source,)
        day = Vec.empty(self.n, "date")
        for source in sources:          # the first on record
            value = self.resolve(source)
            if isinstance(value, Vec) and value.kind == "date":
                fill = ~day.mask & value.mask
                day.values[fill] = value.values[fill]
                day.mask |= fill
        return apply([day], lambda d: None if d is None else d.year, "int")

    def _operand(self, operand) -> Vec:
        if isinstance(operand, str):
            found = self.resolve(operand)
            return found if isinstance(found, Vec) and found.kind == "int" else Vec.empty(self.n, "int")
        return Vec(np.full(self.n, operand, dtype=np.int64), np.ones(self.n, dtype=bool), "int")

    def _plus(self, spec):
        a, b = (self._operand(x) for x in spec.operands)
        return Vec(_NUMPY_ARITHMETIC[spec.form](a.values, b.values), a.mask & b.mask, "int")

    _minus = _min = _max = _plus

    def _lookup(self, spec):
        key = self.resolve(spec.source)
        table = table_of(spec.param, self.d.compiled.parameters)
        if not isinstance(key, Vec) or table is None:
            return Vec.empty(self.n, "int")
        return apply([key], lambda k: None if k is None else table.get(entry_key(k)), "int")

    def _consecutive(self, spec):
        """The record of the latest ``by`` value when it and the ``n - 1`` before it each have a matching
        record (run.derive.Deriver._consecutive): unique (cadre, value) pairs counted in the window."""
        records = self.lists.get(spec.source)
        if records is None:
            return None
        by = records.fields[spec.by]
        numbered = by.mask
        last = np.full(self.n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, records.cadre[numbered], by.values[numbered])
        matched = self._where(spec, records, numbered.copy())
        top = last[records.cadre]
        window = matched & (by.values > top - spec.n) & (by.values <= top)
        rows = np.flatnonzero(window)
        # the distinct (cadre, value) pairs in the window, counted per cadre
        _, distinct_rows = np.unique(_radix_key([records.cadre[rows], by.values[rows]]), return_index=True) \
            if len(rows) else (None, np.zeros(0, dtype=np.int64))
        complete = np.bincount(records.cadre[rows[distinct_rows]], minlength=self.n) == spec.n
        chosen = _pick(records, matched & (by.values == top), [np.arange(records.n)], self.n, last=False)
        self.refs[spec.name] = _Ref(records, np.where(complete, chosen, -1))
        return None

    def _rank(self, spec):
        ref = spec.rank
        value = self.resolve(ref.path)
        value = value if isinstance(value, Vec) else Vec.empty(self.n, "str")
        # kleene.rank_of on the looked-up rank: the same ladder functions
        return apply([value], lambda r: t.rank_at_level(r, ref.level) if ref.level else t.rank_step(r, ref.step),
                     "str")

    def _steps(self, spec):
        low, high = (self.resolve(p) for p in spec.source)
        low = low if isinstance(low, Vec) else Vec.empty(self.n, "str")
        high = high if isinstance(high, Vec) else Vec.empty(self.n, "str")
        return apply([low, high], t.rank_steps, "int")

    def _ratio(self, spec):
        num, den = (self.resolve(p) for p in spec.source)
        if not (isinstance(num, Vec) and isinstance(den, Vec)):
            return None
        mask = num.mask & den.mask & (den.values != 0)
        return _Ratio(num.values, den.values, mask)

    def _some(self, spec):
        """some: the earliest matching record on whose date ``satisfies`` holds; every: whether it holds on all.

        The condition is tested as ``Deriver._holds_on`` tests it: on each matching record's own
        date, with the facts it reads derived as of that date. Here that is one derivation over a
        population with one row per matching record, each with its own evaluation date.
        """
        records = self.lists[spec.source]
        keep = self._where(spec, records, np.ones(records.n, dtype=bool))
        dated = records.fields.get(self._date_field(spec))
        rows = np.flatnonzero(keep & dated.mask)
        answers = self._holds_on(spec, records.cadre[rows], dated.values[rows])
        if spec.form == "every":
            false = np.bincount(records.cadre[rows[answers == 0]], minlength=self.n) > 0
            unknown = np.bincount(records.cadre[rows[answers == -1]], minlength=self.n) > 0
            return Vec((~false).astype(np.int64), false | ~unknown, "bool")
        held = np.zeros(records.n, dtype=bool)
        held[rows[answers == 1]] = True
        self.refs[spec.name] = _Ref(records, _pick(records, held, [dated.values, np.arange(records.n)], self.n,
                                                   last=False))
        return None

    def _holds_on(self, spec, cadres: np.ndarray, days: np.ndarray) -> np.ndarray:
        """``spec.satisfies`` for each (cadre, day): 1 true, 0 false, -1 unknown."""
        if len(cadres) == 0:
            return np.zeros(0, dtype=np.int8)
        per_cadre = self.d.per_cadre
        names = derived_closure(spec.satisfies, per_cadre.catalogue.derived)
        specs = [s for s in per_cadre.specs if s.name in names]
        sub = Derivation(self.d, take_cadres(self.pop, cadres), self.units, days=days, specs=specs)
        paths = list(dict.fromkeys(m.condition_facts(spec.satisfies)))
        vecs = [sub._python_vec(path) for path in paths]
        kinds = [v.kind for v in vecs]
        evaluators: dict = {}

        def holds(day, *values):
            evaluator = evaluators.get(day)
            if evaluator is None:
                evaluator = evaluators[day] = Evaluator(per_cadre.catalogue.resolve, per_cadre.params_on(day), day,
                                                        param_specs=per_cadre.param_specs)
            answer = evaluator.holds(spec.satisfies, _nest(paths, values, kinds))
            return -1 if answer is None else int(answer)
        return apply([sub._day_vec()] + vecs, holds, "int").values.astype(np.int8)

    def _python_vec(self, path: str) -> Vec:
        """A fact path as a column of the values a per-cadre scope holds there ({} for a record)."""
        found = self.resolve(path)
        if isinstance(found, Vec):
            return found
        present = _present(found, self.n) if found is not None else np.zeros(self.n, dtype=bool)
        return Vec(np.ones(self.n, dtype=np.int64), present, "record")

    _every = _some

    # ---- encoding (run.encode.Encoder) -------------------------------------------------------
    def table(self) -> FactTable:
        n = self.n
        leaves: dict[str, tuple] = {}          # fact path -> (values, mask)
        codes: dict = {}                       # fact path -> text codes, where known
        for path, (source, mode, extra) in sorted(self.d.compiled.fields.items()):
            if mode == "closure":
                continue
            found = self.resolve(source)
            if found is None:
                continue
            if mode == "value":
                leaf = self._lowered(found, extra)
            elif mode == "marker":
                leaf = (np.ones(n, dtype=np.int64), _present(found, n))
            elif mode == "flag":
                leaf = self._flag(found, extra, n)
            else:
                leaf = (found.num if mode == "num" else found.den, found.mask) if isinstance(found, _Ratio) else None
            if leaf is not None and leaf[1].any():
                leaves[path] = leaf[:2]
                codes[path] = leaf[2] if len(leaf) > 2 else None
        return _layout(n, leaves, codes)

    def _lowered(self, found, kind):
        if not isinstance(found, Vec) or found.kind == "obj":
            return None            # a record, a list or a fraction has no value of its own
        if kind is not None and (kind.name == "rank" or (kind.name == "enum" and kind.ordered)):
            if found.kind != "str":
                return None
            low = apply([found], _lowering(kind), "int")
            return low.values, low.mask
        return found.values, found.mask, found.codes

    def _flag(self, found, flag: str, n: int):
        if not isinstance(found, Vec):
            return None
        held = apply([found], lambda v: None if v is None else (True if flag in v else None), "bool")
        return held.values, held.mask


def put(scope: dict, path: str, value) -> None:
    """Set ``value`` at the dotted ``path`` of a nested scope, unless something is there already
    (or a value, not a mapping, stands on the way)."""
    *parents, last = path.split(".")
    node = scope
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node.setdefault(last, value)


def _nest(paths: list, values, kinds) -> dict:
    """A scope holding ``values`` at ``paths`` (a record as an empty dict: only its presence is read)."""
    scope: dict = {}
    for path, value, kind in zip(paths, values, kinds):
        if value is not None:
            put(scope, path, {} if kind == "record" else value)
    return scope


def _present(found, n: int) -> np.ndarray:
    if isinstance(found, _Ref):
        return found.rows >= 0
    if isinstance(found, _UnitRef):
        return found.ids.mask
    if isinstance(found, _Ratio):
        return found.mask
    if isinstance(found, tuple):       # a list: always there when its parent is
        parent_rows = found[2]
        return np.ones(n, dtype=bool) if parent_rows is None else parent_rows >= 0
    return found.mask


def _layout(n: int, leaves: dict, codes: dict) -> FactTable:
    """Columns of the fact paths, and every enclosing record present where something under it is."""
    columns: dict[str, FactColumn] = {}
    for path, (values, mask) in leaves.items():
        column = columns.setdefault(path, FactColumn(n))
        column.present |= mask
        if values.dtype == object:
            column.text, column.text_mask = values, mask.copy()
            if codes.get(path) is not None:
                column.preset_codes(codes[path])
        else:
            column.num, column.num_mask = values.astype(np.int64, copy=False), mask.copy()
        parts = path.split(".")
        for i in range(1, len(parts)):
            parent = columns.setdefault(".".join(parts[:i]), FactColumn(n))
            parent.present |= mask
    return FactTable(n, columns)


def _date_free(cond) -> bool:
    """Whether a ``where`` condition reads no date relative to the evaluation date (no ``within``, no period)."""
    if cond is None:
        return True
    if isinstance(cond, (m.All, m.Any)):
        return all(_date_free(c) for c in cond.items)
    if isinstance(cond, m.Not):
        return _date_free(cond.item)
    return not isinstance(cond, m.Within) and not isinstance(getattr(cond, "value", None), m.Period)


def _record_paths(cond):
    """(record fields a ``where`` condition reads, cadre fact paths it reads), or None when unsupported."""
    fields: list[str] = []
    outer: list[str] = []

    def visit(c) -> bool:
        if isinstance(c, (m.All, m.Any)):
            return all(visit(i) for i in c.items)
        if isinstance(c, m.Not):
            return visit(c.item)
        if not isinstance(c, _CONDITIONS):
            return False
        subjects = (c.ratio_of or (c.subject,)) if isinstance(c, m.Compare) else (c.subject,)
        for subject in subjects:
            head = subject.split(".")[0]
            if head not in fields:
                fields.append(head)
        value = getattr(c, "value", None)
        if isinstance(value, (m.FactRef, m.RankOf)) and value.path not in outer:
            outer.append(value.path)
        return True
    return (fields, outer) if visit(cond) else None
