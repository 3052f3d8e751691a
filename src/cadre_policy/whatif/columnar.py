"""The what-if on the columnar engine: columns find who changes and explain them; durable_rules checks.

A worker reads its partition of the store in columns (``store.columns``), derives both sides'
facts for the whole partition at once (``run.columnar.derive``) and evaluates every rule over
whole columns (``run.columnar``). A cadre's outcome (active findings, eligibilities) follows
from its firings alone, so it is decided once per distinct row of firings (``run/outcome.
Decider``, the decision every engine's results take) and counted by unit with numpy. A cadre
whose outcome differs is explained from the same columns: its rows of firings on both sides
and a scope gathered from the derivation at the facts the changing rules read
(``run.columnar.scope``), phrased by the one phraser. durable_rules, the reference, re-runs a
deterministic sample of them from their documents (``sample``; every one with ``verify=1``):
a different outcome or reason stops the run, naming the cadre (an engine bug, not a result).

Partitions given as id lists (``--unit``), near misses (``--near``, which need every cadre's
full result) and policy sets using something the columnar derivation does not know are
compared from documents instead, cadre facts laid out in columns per chunk.
"""
from __future__ import annotations

import dataclasses
import json
import math
import zlib
from collections import Counter

import numpy as np

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.record.columns import take_cadres
from cadre_policy.run.columnar import ColumnarEngine, FactTable, FiredMatrix
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.run.columnar.scope import Gatherer, condition_paths
from cadre_policy.run.reasons import because
from cadre_policy.run.results import Reasons
from cadre_policy.whatif.reach import LISTED, Reach, transitions
from cadre_policy.whatif.compare import NO_UNIT, Comparer, current_unit, derivation_key, outcome_keys, spooled

#: Cadres per partition when the population is read in columns (a worker holds ~1.5 kB per cadre)
PARTITION = 50_000
#: A changed cadre read as a document costs about as much as this many cadres read in columns
_DOCUMENT_COST = 30


class EngineDisagreement(UserError):
    """The columnar engine and durable_rules reached different outcomes for a cadre."""


class ColumnarComparer(Comparer):
    """Compares partitions of cadres with the columnar engine; changed cadres explained by durable_rules."""

    def __init__(self, job, store=None):
        super().__init__(dataclasses.replace(job, engine="durable"), store)
        self.columns = (ColumnarEngine(self.base.compiled), ColumnarEngine(self.draft.compiled))
        self.derivers = (ColumnarDeriver(self.base), ColumnarDeriver(self.draft))
        self.because = Reasons()
        self.in_columns = all(c.vectorised for c in self.columns) and all(d.supported for d in self.derivers) \
            and self.near is None

    def run(self, task) -> dict:
        """Task: ("range", first, last) read in columns, or ("ids", [ids]) compared from documents."""
        if task[0] != "range" or not self.in_columns:
            return super().run(task)
        ids, side_b, table_d, unit_of, source = self._tables(task[1], task[2])
        return self.compare_tables(ids, side_b, table_d, unit_of, self.units, source)

    def _tables(self, first: str, last: str):
        """(ids, the baseline's firings, the draft's table, current units, where explanations read) of a partition.

        What the store has not changed since it was saved is loaded: the baseline's firings (then its
        table is neither loaded nor evaluated), the draft's table. What is missing is read and
        derived; the draft derives again only the quantities it changes (``derive(reuse=…)``) when
        the baseline is derived here too, and everything derived is saved for the next run.
        """
        from cadre_policy.run.columnar.snapshot import Snapshots, derivation_digest, firings_digest
        keys = [derivation_key(side) for side in (self.base, self.draft)]
        digests = [derivation_digest(side, key) for side, key in zip((self.base, self.draft), keys)]
        fired_digest = firings_digest(self.base, keys[0])
        looked_up = self.store.generation()
        snapshots = Snapshots(self.job.db_url, looked_up)
        fired = snapshots.load_firings(fired_digest, first, last, self.columns[0].tests, self.columns[0].facts)
        saved_d = snapshots.load(digests[0] if self.share_fact else digests[1], first, last)
        if fired is not None and saved_d is not None and len(saved_d[0]) == len(fired[0]):
            return fired[0], fired[1], saved_d[1], fired[2], _Source(None, None)
        saved_b = None if fired is not None else snapshots.load(digests[0], first, last)
        if saved_b is not None and saved_d is not None:
            matrix_b = self.columns[0].run_table(saved_b[1])
            snapshots.save_firings(fired_digest, first, last, saved_b[0], matrix_b, saved_b[2])
            return saved_b[0], matrix_b, saved_d[1], saved_b[2], _Source(None, None)
        from cadre_policy.store.columns import read_population
        pop, generation = read_population(self.store, first, last)
        snapshots = Snapshots(self.job.db_url, generation)      # saved under the state actually read
        if generation != looked_up:         # written in between: nothing looked up holds
            fired = saved_b = saved_d = None
        known = fired or saved_b        # the baseline is known: only the draft side is derived
        derived = None if known is not None and not self.share_scope else self.derivers[0].derive(pop, self.units)
        unit_of = known[2] if known is not None else derived.current_units()
        table_b = None
        if fired is None:
            table_b = saved_b[1] if saved_b is not None else derived.table()
            if saved_b is None:
                snapshots.save(digests[0], first, last, pop.ids, table_b, unit_of)
        derived_d = derived if self.share_scope else None
        if self.share_fact:
            table_d = table_b if table_b is not None else saved_d[1] if saved_d is not None else None
            if table_d is None:
                table_d = derived.table()
                snapshots.save(digests[0], first, last, pop.ids, table_d, unit_of)
        elif saved_d is not None:
            table_d = saved_d[1]
        else:
            derived_d = derived_d or self.derivers[1].derive(pop, self.units, reuse=derived)
            table_d = derived_d.table()
            snapshots.save(digests[1], first, last, pop.ids, table_d, unit_of)
        if fired is not None:
            matrix_b = fired[1]
        else:
            matrix_b = self.columns[0].run_table(table_b)
            snapshots.save_firings(fired_digest, first, last, pop.ids, matrix_b, unit_of)
        return pop.ids, matrix_b, table_d, unit_of, _Source(pop, (derived, derived_d))

    def compare_tables(self, ids, side_b, table_d, unit_of: tuple, units: dict, source=None) -> dict:
        """Counts and explained differences for a partition's tables (``unit_of``: ``current_units``);
        ``side_b`` is the baseline's table or its firings already evaluated (a ``FiredMatrix``)."""
        matrix_b = side_b if isinstance(side_b, FiredMatrix) else self.columns[0].run_table(side_b)
        matrix_d = self.columns[1].run_table(table_d)
        codes, names = unit_of
        unit_of = (codes, [name if name is not None else NO_UNIT for name in names])
        documents = _Documents(self.store, ids)
        differs = self._tally(matrix_b, matrix_d, unit_of, lambda at: _listed(self.store, ids, at, unit_of))
        rows = differs.pop("rows")
        scopes, cadre_names = self._gather(source or _Source(None, None), rows, ids, documents, units,
                                           self._paths(differs["expected"]))
        changes, verified = self._explain(rows, [ids[r] for r in rows], cadre_names,
                                          [unit_of[1][unit_of[0][r]] for r in rows], units, differs.pop("expected"),
                                          differs.pop("firings"), scopes, lambda at: documents([rows[i] for i in at]))
        differs["changes"] = spooled(changes)
        differs.update(n=len(ids), verified=verified)
        return differs

    def _paths(self, expected: list) -> tuple:
        """The fact paths explaining these changes reads, per side: the conditions of the finding rules
        of the codes that change and of the requirement rules of the determinations that change."""
        codes, dets = set(), set()
        for (codes_b, elig_b), (codes_d, elig_d) in set(expected):
            codes |= codes_b ^ codes_d
            elig_b, elig_d = dict(elig_b), dict(elig_d)
            dets |= {d for d in set(elig_b) | set(elig_d) if elig_b.get(d) != elig_d.get(d)}
        out = []
        for side in (self.base, self.draft):
            rules = {rule_id for rule_id, code in side.decider.findings if code in codes}
            rules |= {rule_id for rule_id, _code, det, _strength in side.decider.requirements if det in dets}
            out.append(condition_paths(side.compiled, rules))
        return tuple(out)

    def _gather(self, source: "_Source", rows: list, ids, documents, units: dict, paths: tuple):
        """(the scopes on both sides, the names) of the changed ``rows``, gathered from the columns.

        From the partition's derivations when it was derived here; from a derivation of only those
        cadres when one side came from a snapshot; from their documents, laid out in columns and
        derived at once, when both did.
        """
        if not rows:
            return ([], []), []
        at = np.asarray(rows, dtype=np.int64)
        if source.pop is None and len(rows) * _DOCUMENT_COST < len(ids):
            from cadre_policy.record.columns import from_documents
            docs = documents(rows)
            pop, at, names = from_documents(docs), np.arange(len(rows)), [doc.get("name", "") for doc in docs]
            derived = (None, None)
        elif source.pop is None:        # many changed: reading the partition in columns again costs less
            from cadre_policy.store.columns import read_population
            pop, _generation = read_population(self.store, ids[0], ids[-1], names=True)
            if len(pop.ids) != len(ids) or (pop.ids != ids).any():
                from cadre_policy.store.errors import StoreChangedError
                raise StoreChangedError.during_run(self.store.url)
            names = [name or "" for name in pop.cadre["name"].pythons(at)]
            source = _Source(pop, None)
            derived = (None, None)
        else:
            from cadre_policy.store.columns import read_names
            found = read_names(self.store, [ids[r] for r in rows])
            pop, derived, names = source.pop, source.derived, [found.get(ids[r], "") for r in rows]
        sides, ats = list(derived), [at, at]
        if sides[0] is None or (sides[1] is None and not self.share_scope):
            # a side not derived here is derived for the changed cadres alone (the draft from the baseline's)
            few = take_cadres(pop, at) if source.pop is not None else pop
            if sides[0] is None:
                sides[0], ats[0] = self.derivers[0].derive(few, units), np.arange(len(rows))
            if sides[1] is None and not self.share_scope:
                reuse = sides[0] if ats[0] is not at else None
                sides[1], ats[1] = self.derivers[1].derive(few, units, reuse=reuse), np.arange(len(rows))
        if sides[1] is None:
            sides[1], ats[1] = sides[0], ats[0]
        scopes = []
        for side, derivation in enumerate(sides):
            gatherer = Gatherer(derivation, paths[side])
            if not gatherer.supported:
                return None, names
            scopes.append(gatherer.scopes(ats[side]))
        return tuple(scopes), names

    def compare(self, docs: list[dict], units: dict) -> dict:
        base, draft = self.base, self.draft
        sides_b = [base.facts(doc, units) for doc in docs]
        if self.share_fact:
            sides_d = sides_b
        elif self.share_scope:
            sides_d = [(scope, draft.encoder.encode(scope)) for scope, _fact in sides_b]
        else:
            sides_d = [draft.facts(doc, units) for doc in docs]
        facts_b = [fact for _scope, fact in sides_b]
        facts_d = facts_b if sides_d is sides_b else [fact for _scope, fact in sides_d]
        table_b = FactTable.from_facts(facts_b) if self.columns[0].vectorised else None
        table_d = table_b if facts_d is facts_b else None     # the same facts: laid out once
        matrix_b = self.columns[0].run_facts(facts_b, table_b)
        matrix_d = self.columns[1].run_facts(facts_d, table_d)
        unit_of = [current_unit(doc, self.job.as_of) or NO_UNIT for doc in docs]
        names = list(dict.fromkeys(unit_of))
        code = {name: i for i, name in enumerate(names)}
        result = self._tally(matrix_b, matrix_d, (np.array([code[u] for u in unit_of], dtype=np.int64), names),
                             lambda at: [(docs[r].get("id", ""), docs[r].get("name", ""), unit_of[r]) for r in at])
        rows = result.pop("rows")
        near = Counter()
        if self.near is not None:
            for row, doc in enumerate(docs):
                near.update(self.near(self, doc, (*sides_b[row], matrix_b.firings(row)),
                                      (*sides_d[row], matrix_d.firings(row))))
        scopes = ([sides_b[r][0] for r in rows], [sides_d[r][0] for r in rows])
        changes, verified = self._explain(rows, [docs[r].get("id", "") for r in rows],
                                          [docs[r].get("name", "") for r in rows], [unit_of[r] for r in rows], units,
                                          result.pop("expected"), result.pop("firings"), scopes,
                                          lambda at: [docs[rows[i]] for i in at])
        result["changes"] = spooled(changes)
        result.update(n=len(docs), near=near, verified=verified)
        return result

    def _tally(self, matrix_b, matrix_d, unit_of: tuple, who=None) -> dict:
        """Counts overall and by unit, the reach, and the rows whose outcome differs (with both outcomes).

        ``who(rows)`` gives (id, name, unit) of those rows, for the reach's lists when the job asks.
        """
        decided_b, outcomes_b, patterns_b = self._outcomes(matrix_b, self.base.decider)
        decided_d, outcomes_d, patterns_d = self._outcomes(matrix_d, self.draft.decider)
        keys_b, keys_d = [o.summary for o in decided_b], [o.summary for o in decided_d]
        counts = (_count(keys_b, outcomes_b), _count(keys_d, outcomes_d))
        by_unit = _count_by_unit(unit_of, (keys_b, outcomes_b), (keys_d, outcomes_d))
        pairs, pair_of = np.unique(outcomes_b.astype(np.int64) * len(keys_d) + outcomes_d, return_inverse=True)
        differs = np.array([keys_b[p // len(keys_d)] != keys_d[p % len(keys_d)] for p in pairs.tolist()], dtype=bool)
        rows = np.flatnonzero(differs[pair_of.ravel()]).tolist() if len(pairs) else []
        expected = [(keys_b[outcomes_b[r]], keys_d[outcomes_d[r]]) for r in rows]
        firings = [(patterns_b[outcomes_b[r]], patterns_d[outcomes_d[r]]) for r in rows]
        return {"counts": counts, "units": by_unit, "rows": rows, "expected": expected, "firings": firings,
                "near": Counter(), "skipped": 0,
                "reach": self._reach(decided_b, decided_d, outcomes_b, outcomes_d, who)}

    def _reach(self, decided_b: list, decided_d: list, outcomes_b, outcomes_d, who) -> Reach:
        """The reach (``whatif.reach``) of a partition: the transitions of each distinct pair of
        outcomes, counted with numpy; the cadres of each listed when the job asks for them."""
        reach = Reach(self.job.reach_cadres)
        if not len(outcomes_b):
            return reach
        pairs, inverse, counts = np.unique(outcomes_b.astype(np.int64) * len(decided_d) + outcomes_d,
                                           return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        for k, (pair, n) in enumerate(zip(pairs.tolist(), counts.tolist())):
            before, after = decided_b[pair // len(decided_d)], decided_d[pair % len(decided_d)]
            keys = transitions(before, after)
            if keys:
                listed = who(np.flatnonzero(inverse == k)[:LISTED].tolist()) \
                    if reach.cadres is not None and who is not None else ()
                reach.add(keys, before.summary != after.summary, n, listed)
        return reach

    def _explain(self, rows: list, cadre_ids: list, names: list, units_of: list, units: dict, expected: list,
                 firings: list, scopes, documents) -> tuple[list, int]:
        """(the change record of each changed row, how many durable_rules checked).

        Each is explained from the columns: the firings of both sides' matrices and the scopes
        gathered at the facts the conditions read. A deterministic sample (``sample``) is run
        again through durable_rules on both sides and explained from its document, the reference:
        an outcome or a reason that differs stops the run, naming the cadre.
        """
        if scopes is None:       # something the gathering cannot rebuild: every cadre from its document
            at = list(range(len(rows)))
            return [self._reference(doc, unit, units, want)
                    for doc, unit, want in zip(documents(at), units_of, expected)], len(rows)
        changes = []
        for i in range(len(rows)):
            firings_b, firings_d = firings[i]        # each side's distinct rows of firings (matrix.patterns)
            if firings_d == firings_b:
                firings_d = firings_b
            changes.append(self.explain_cadre(cadre_ids[i], names[i], units_of[i], units,
                                              (scopes[0][i], firings_b, expected[i][0]),
                                              (scopes[1][i], firings_d, expected[i][1])))
        picked = sample(cadre_ids, self.job.verify, self.job.verify_least)
        for i, doc in zip(picked, documents(picked)):
            reference = self._reference(doc, units_of[i], units, expected[i])
            if json.dumps(reference, ensure_ascii=False) != json.dumps(changes[i], ensure_ascii=False):
                raise EngineDisagreement(_(
                    "cadre {id}: the reasons gathered from the columns differ from durable_rules' "
                    "(run with --engine durable and report this)").format(id=cadre_ids[i]))
        return changes, len(picked)

    def _reference(self, doc: dict, unit, units: dict, want: tuple) -> dict:
        """A changed cadre derived from its document, run through durable_rules on both sides, and explained."""
        base, draft = self.base, self.draft
        scope_b, fact_b = base.facts(doc, units)
        scope_d, fact_d = (scope_b, fact_b) if self.share_fact else draft.facts(doc, units)
        firings_b, firings_d = base.engine.run(fact_b), draft.engine.run(fact_d)   # durable_rules
        out_b, out_d = base.decider.decide(firings_b.fired).summary, draft.decider.decide(firings_d.fired).summary
        if (out_b, out_d) != want:
            raise EngineDisagreement(
                f"cadre {doc.get('id')}: the columnar engine and durable_rules disagree "
                f"({want[0]} / {want[1]} against {out_b} / {out_d}); run with --engine durable and report this")
        # the reference is phrased afresh (run.reasons.because), never from the comparer's memo
        return self.explain(doc, unit, units, (scope_b, fact_b, firings_b, out_b), (scope_d, fact_d, firings_d, out_d),
                            because)

    @staticmethod
    def _outcomes(matrix, decider):
        """(the outcome of each distinct row of firings, which of them each cadre has, the rows)."""
        patterns, inverse = matrix.patterns()
        return [decider.decide(firings.fired) for firings in patterns], inverse, patterns


class _Source:
    """What explaining a partition's changed cadres reads: its population and both sides' derivations
    (None where the partition came from snapshots)."""

    def __init__(self, pop, derived):
        self.pop, self.derived = pop, derived or (None, None)


def sample(ids: list, rate: float, least: int) -> list[int]:
    """Positions of the changed cadres durable_rules checks: ``rate`` of them and at least ``least``,
    chosen by a hash of the id, so the same cadres are checked whatever the workers or the order."""
    k = len(ids)
    size = min(k, max(math.ceil(rate * k), least))
    if size >= k:
        return list(range(k))
    ranked = sorted(range(k), key=lambda i: (zlib.crc32(str(ids[i]).encode()), str(ids[i])))
    return sorted(ranked[:size])


def _listed(store, ids, rows: list, unit_of: tuple) -> list[tuple]:
    """(id, name, unit) of some rows of a partition read in columns: the names read from the store."""
    from cadre_policy.store.columns import read_names
    at = [ids[r] for r in rows]
    names = read_names(store, at) if at else {}
    return [(str(cadre), names.get(cadre, ""), unit_of[1][unit_of[0][r]]) for cadre, r in zip(at, rows)]


class _Documents:
    """The canonical documents of some cadres of a partition, read from the store when first asked."""

    def __init__(self, store, ids):
        self.store, self.ids = store, ids
        self.cache: dict = {}

    def __call__(self, rows) -> list[dict]:
        wanted = [self.ids[int(r)] for r in rows if self.ids[int(r)] not in self.cache]
        for start in range(0, len(wanted), 500):
            for doc in self.store.read(("ids", tuple(wanted[start:start + 500]))):
                self.cache[doc["id"]] = doc
        return [self.cache[self.ids[int(r)]] for r in rows]


def _count(outcomes: list, index: np.ndarray) -> Counter:
    counts = Counter()
    for pattern, n in zip(*np.unique(index, return_counts=True)):
        for key in outcome_keys(outcomes[pattern]):
            counts[key] += int(n)
    return counts


def _count_by_unit(unit_of: tuple, side_b, side_d) -> tuple:
    """Counts by unit as ``("table", units, ((keys, unit x key matrix) per side))`` (``whatif.run.UnitCounts``);
    ``unit_of`` is (a unit code per cadre, the unit of each code).

    A (pattern x key) table says which summary keys each outcome has; per key, one
    ``bincount`` of the cadres having it, by unit.
    """
    units, names = unit_of
    sides = []
    for outcomes, index in (side_b, side_d):
        keys = sorted({key for outcome in outcomes for key in outcome_keys(outcome)})
        column = {key: j for j, key in enumerate(keys)}
        member = np.zeros((len(outcomes), len(keys)), dtype=bool)
        for pattern, outcome in enumerate(outcomes):
            member[pattern, [column[key] for key in outcome_keys(outcome)]] = True
        matrix = np.zeros((len(names), len(keys)), dtype=np.int64)
        for j in range(len(keys)):
            matrix[:, j] = np.bincount(units[member[index, j]], minlength=len(names))
        sides.append((keys, matrix))
    return ("table", names, tuple(sides))
