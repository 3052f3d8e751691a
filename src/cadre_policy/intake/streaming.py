"""``policy facts import`` of YAML and JSON files in bounded memory: validate record by record
while writing in batches inside one transaction.

Each record (a unit or a cadre) is read on its own (:mod:`cadre_policy.parse.stream`), checked
against the import schema (a fast sound check first, jsonschema for the words,
:mod:`cadre_policy.intake.fastschema`), for text and dates, and by the same per-cadre checks
as a whole-document import (:class:`cadre_policy.intake.importer._Checker`). Kept across
records is only what cross-record checks need: the ids seen (with the file and line of the
first) and, for units, their parents. A unit used before it is defined (later in the file,
or in a later file) is an open question until the end: up to :data:`MAX_PLACES_PER_UNIT`
places are kept per such unit and reported if it never comes.

A JSON cadre that stands on its own line is first offered to :mod:`.fastcadre` (typed
decoding in C, the checks as yes/no questions, the store's rows laid out in the same pass);
only when it cannot vouch for the record is it read and checked as above, for the words.

Valid records go to :meth:`FactStore.upsert_batches` as they come, all in one transaction;
once any problem is found nothing more is written, and at the end the batches raise
:class:`ImportRejected`, which rolls the transaction back: all or nothing, as before.
"""
from __future__ import annotations

import gc
import os
import re
import threading
from contextlib import contextmanager
from functools import cache
from typing import Iterator

from cadre_policy.record.canonical import canonical_cadre, canonical_unit
from cadre_policy.parse.issues import ImportRejected, Issue
from cadre_policy.parse.schemas import record_validator
from cadre_policy.intake.vocabulary import normalise
from cadre_policy.intake.importer import (_Checker, _str, fast_checks, json_text_is_plain, schema_issues,
                                         text_issues)
from cadre_policy.intake.child import can_fork, checked_in_child
from cadre_policy.intake.fastcadre import FastCadres
from cadre_policy.intake.fastschema import Unsupported
from cadre_policy.intake.typed import fast_text, record_decoder
from cadre_policy.store.fact_store import FactStore, UpsertResult
from cadre_policy.store.rows import Rows
from cadre_policy.parse.stream import Fragment, LaidOut, read_records

#: Issues kept for the report (the count is of all of them).
MAX_REPORTED = 1000
#: Places kept per unit id that is used but not (yet) defined.
MAX_PLACES_PER_UNIT = 20
#: JSON files of at least this many bytes in all are read and checked in a forked child while
#: this process writes (:mod:`.child`), when the load average is below the number of cores: at
#: load 1.6 on two it took a third off the wall time, at load 5–10 it added to it
#: (docs/performance.md).
#: ``$POLICY_IMPORT_CHILD_MB`` sets the size and drops the load test; ``off`` never forks.
CHILD_MIN_BYTES = 8 << 20


def _child_wanted(files: list[str]) -> bool:
    setting = os.environ.get("POLICY_IMPORT_CHILD_MB")
    if setting is not None and not setting.isdigit():
        return False
    least = int(setting) << 20 if setting is not None else CHILD_MIN_BYTES
    if setting is None and os.getloadavg()[0] >= (os.cpu_count() or 1):
        return False                # no core to spare: the pipe would only add CPU
    return sum(os.path.getsize(f) for f in files if f.lower().endswith(".json") and os.path.isfile(f)) >= least


#: Cadres written per round (one executemany per table); a round's documents and rows are all
#: that is held. 10,000 was no faster at 100,000 cadres and held ≈ 70 MB more.
BATCH = 2000


class _Issues:
    """Issues in report order, the first MAX_REPORTED kept; ``total`` counts them all."""

    def __init__(self, key):
        self.key, self.items, self.total = key, [], 0

    def append(self, issue: Issue) -> None:
        self.total += 1
        self.items.append(issue)
        if len(self.items) > 4 * MAX_REPORTED:
            self.items.sort(key=self.key)
            del self.items[MAX_REPORTED:]

    def extend(self, issues) -> None:
        for issue in issues:
            self.append(issue)

    def report(self) -> list[Issue]:
        self.items.sort(key=self.key)
        return self.items[:MAX_REPORTED]


class _StreamChecker(_Checker):
    """The whole-document checks, record by record (see the module docstring)."""

    def __init__(self, store_units, files: list[str]):
        super().__init__(store_units)
        order = {f: n for n, f in enumerate(files)}
        self.files = files
        self.issues = _Issues(lambda x: (order.get(x.file, len(order)), x.line, x.column, x.path))
        self.units: dict[str, tuple] = {}       # id -> (file, line, parent, parent issue place)
        self.cadres: dict[str, int] = {}        # id -> file index << 32 | line
        self.pending: dict[str, list[Issue]] = {}
        self.pending_more: dict[str, int] = {}
        self.pending_places = 0
        self.file_index = 0                     # of the file being read

    def unknown_unit(self, doc, path: list, unit_id: str) -> None:
        places = self.pending.setdefault(unit_id, [])
        if len(places) < MAX_PLACES_PER_UNIT and self.pending_places < 10 * MAX_REPORTED:
            places.append(doc.issue(path, f"unknown unit id '{unit_id}'"))
            self.pending_places += 1
        else:                       # counted, not placed: the report keeps the first places anyway
            self.pending_more[unit_id] = self.pending_more.get(unit_id, 0) + 1

    def unit(self, rec: Fragment, index: int, unit: dict) -> None:
        ident = _str(unit.get("id"))
        if ident is not None:
            first = self.units.get(ident)
            if first is not None:
                self.issues.append(rec.issue(["units", index, "id"], f"duplicate unit id '{ident}' "
                                                                     f"(first at {_where(first[0], first[1])})"))
            else:
                parent = _str(unit.get("parent"))
                self.units[ident] = (rec.file, rec.line, parent,
                                     rec.issue(["units", index, "parent"], "") if parent is not None else None)
        self._unit_known(rec, ["units", index], unit, "parent")

    def cadre(self, rec: Fragment, index: int, cadre: dict) -> None:
        ident = _str(cadre.get("id"))
        if ident is not None:
            first = self.cadres.get(ident)
            if first is not None:
                file = self.files[first >> 32]
                self.issues.append(rec.issue(["cadres", index, "id"], f"duplicate cadre id '{ident}' "
                                                                      f"(first at {_where(file, first & 0xFFFFFFFF)})"))
            else:
                self.cadres[ident] = self.file_index << 32 | rec.line
        self.check_cadre(rec, index, cadre)

    def finish(self) -> None:
        """The questions left open until every file was read: units used but never defined, cycles."""
        for unit_id, places in self.pending.items():
            if unit_id not in self.units:
                self.issues.extend(places)
                self.issues.total += self.pending_more.get(unit_id, 0)
        self.pending.clear()
        for ident, (_file, _line, parent, place) in self.units.items():
            seen, cur = {ident}, parent
            while cur is not None and cur in self.units:
                if cur in seen:
                    self.issues.append(Issue(place.file, place.line, place.column, place.path,
                                             f"unit '{ident}' is its own ancestor (parent cycle)"))
                    break
                seen.add(cur)
                cur = self.units[cur][2]


def _where(file: str, line: int) -> str:
    return f"{file}:{line}" if line else file


@cache
def _cadre_decoder():
    """The typed decoder of one cadre (:mod:`.typed`) and the pattern of an id, which it leaves
    to :meth:`_Import.laid_out`; None if the schema outgrows it."""
    from cadre_policy import data
    schema = data.schema("facts")
    try:
        return record_decoder(schema, "#/$defs/cadre", unmatched="id"), re.compile(schema["$defs"]["id"]["pattern"])
    except (Unsupported, KeyError):
        return None


class _Import:
    def __init__(self, store: FactStore, files: list[str]):
        self.fast = fast_checks()
        self.files = files
        self.checker = _StreamChecker(store.units().keys(), files)
        self.issues = self.checker.issues
        typed = _cadre_decoder()
        self.fast_cadres = FastCadres(typed[0], fast_text) if typed is not None else None
        if typed is not None:       # the ids the laid-out cadres may name: the store's, matched once
            self.id_pattern = typed[1].search
            self.store_units = {unit for unit in self.checker.store_units if self.id_pattern(unit)}

    def batches(self) -> Iterator[tuple[list[dict], list[dict] | Rows]]:
        units: list[dict] = []
        cadres: list[dict] = []
        fast = {"cadres": self.fast_cadres.add} if self.fast_cadres is not None else None
        rows = self.fast_cadres.rows if fast else Rows()
        for n, file in enumerate(self.files):
            self.checker.file_index = n
            for item in read_records(file, fast):
                if type(item) is LaidOut:
                    self.laid_out(item)
                elif isinstance(item, Issue):
                    self.issues.append(item)
                elif item.prefix:
                    built = self.record(item)
                    if built is not None and not self.issues.total:
                        (units if item.prefix[0] == "units" else cadres).append(built)
                else:       # the document itself, or a top-level entry that is not a list of records
                    self.issues.extend(schema_issues(item))
                    self.issues.extend(text_issues(item))
                if self.issues.total:
                    units.clear()
                    cadres.clear()
                    if len(rows):
                        rows = self._new_rows()
                elif len(cadres) >= BATCH or len(units) >= BATCH or len(rows) >= BATCH:
                    yield units, cadres
                    if len(rows):
                        yield [], rows
                        rows = self._new_rows()
                    units, cadres = [], []
        self.checker.finish()
        if self.issues.total:
            raise ImportRejected(self.issues.report(), self.issues.total)
        yield units, cadres
        if len(rows):
            yield [], rows

    def _new_rows(self) -> Rows:
        self.fast_cadres.rows = Rows(self.fast_cadres.sources)
        return self.fast_cadres.rows

    def laid_out(self, run: LaidOut) -> None:
        """The cross-record checks of cadres :mod:`.fastcadre` laid out, as set operations: their
        ids new, their units known. When they do not hold, or the import is refused already, the
        old way's checks say why, cadre by cadre (the rows stay: they are right, and once there
        is an issue nothing is written)."""
        ids = [value[0] for value in run.values]
        checker = self.checker
        units = set().union(*[value[1] for value in run.values])
        # an imported unit's id was matched by the schema (else the import is refused already)
        if not self.issues.total and len(set(ids)) == len(ids) and checker.cadres.keys().isdisjoint(ids) \
                and not units.difference(checker.units, self.store_units) and all(map(self.id_pattern, ids)):
            first = checker.file_index << 32 | run.line
            checker.cadres.update(zip(ids, range(first, first + len(ids))))
            return
        for n in range(len(ids)):
            rec = run.fragment(n)
            checker.cadre(rec, rec.prefix[1], rec.data)

    def record(self, rec: Fragment) -> dict | None:
        """Check one record; its canonical form when it is valid so far, else None."""
        kind, index = rec.prefix
        value = rec.data
        if not self.fast[kind](value):
            # Chinese names of enumerated values: only a record the fast check refuses can hold one
            self.issues.extend(normalise(rec, list(rec.prefix), kind[:-1], value))
            if not self.fast[kind](value):
                self.issues.extend(schema_issues(rec, record_validator(kind), rec.prefix, value))
        if rec.source is None or not json_text_is_plain(rec.source):
            self.issues.extend(text_issues(rec, rec.prefix, value))
        if not isinstance(value, dict):
            return None
        if kind == "units":
            self.checker.unit(rec, index, value)
        else:
            self.checker.cadre(rec, index, value)
        if self.issues.total:         # this record's problems, or earlier ones: nothing more is written
            return None
        return canonical_unit(value) if kind == "units" else canonical_cadre(value)


def import_files(store: FactStore, files: list[str]) -> UpsertResult:
    """Validate YAML/JSON import ``files`` record by record and upsert them in one transaction.

    Raises:
        ImportRejected: With the first :data:`MAX_REPORTED` issues (and the count of all),
            in file order then position; the store is left untouched.
    """
    job = _Import(store, files)
    batches = job.batches()
    if job.fast_cadres is not None and can_fork() and _child_wanted(files):
        # texts cross the pipe only when a cadre may be in the store already
        job.fast_cadres.sources = store.has_cadres()
        job.fast_cadres.rows = Rows(job.fast_cadres.sources)
        batches = checked_in_child(batches)
    with _cycles_left_alone():
        return store.upsert_batches(batches)


@contextmanager
def _cycles_left_alone():
    """The cyclic garbage collector paused for the import, in a process of one thread: its passes
    over the ids seen so far and the round's rows cost ≈ 3.5 µs of CPU a cadre at 100,000 (6 %),
    more as the ids grow, and the import makes no reference cycles."""
    if threading.active_count() > 1 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

