"""The what-if on the columnar engine: columns find who changes, durable_rules explains them.

A worker reads its partition of the store in columns (``store.columns``), derives both sides'
facts for the whole partition at once (``run.columnar.derive``) and evaluates every rule over
whole columns (``run.columnar``). A cadre's outcome (active findings, eligibilities) follows
from its firings alone, so it is decided once per distinct row of firings (``run/outcome.
Decider``, the decision every engine's results take) and counted by unit with numpy. Only the
cadres whose outcome differs are read as documents and run again through durable_rules, the
reference, on both sides: it must reach the same outcomes (else the run stops: an engine bug,
not a result), and its firings give the reasons written today.

Partitions given as id lists (``--unit``), near misses (``--near``, which need every cadre's
full result) and policy sets using something the columnar derivation does not know are
compared from documents instead, cadre facts laid out in columns per chunk.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from cadre_policy.errors import UserError
from cadre_policy.run.columnar import ColumnarEngine, FactTable
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.whatif.compare import NO_UNIT, Comparer, current_unit, derivation_key, outcome_keys, spooled

#: Cadres per partition when the population is read in columns (a worker holds ~1.5 kB per cadre)
PARTITION = 50_000


class EngineDisagreement(UserError):
    """The columnar engine and durable_rules reached different outcomes for a cadre."""


class ColumnarComparer(Comparer):
    """Compares partitions of cadres with the columnar engine; changed cadres explained by durable_rules."""

    def __init__(self, job, store=None):
        super().__init__(dataclasses.replace(job, engine="durable"), store)
        self.columns = (ColumnarEngine(self.base.compiled), ColumnarEngine(self.draft.compiled))
        self.derivers = (ColumnarDeriver(self.base), ColumnarDeriver(self.draft))
        self.in_columns = all(c.vectorised for c in self.columns) and all(d.supported for d in self.derivers) \
            and self.near is None

    def run(self, task) -> dict:
        """Task: ("range", first, last) read in columns, or ("ids", [ids]) compared from documents."""
        if task[0] != "range" or not self.in_columns:
            return super().run(task)
        ids, table_b, table_d, unit_of = self._tables(task[1], task[2])
        return self.compare_tables(ids, table_b, table_d, unit_of, self.units)

    def _tables(self, first: str, last: str):
        """(ids, baseline table, draft table, current units) of a partition: from its snapshots when the
        store has not been written since they were made, else read, derived and saved."""
        from cadre_policy.run.columnar.snapshot import Snapshots, derivation_digest
        digests = [derivation_digest(side, derivation_key(side)) for side in (self.base, self.draft)]
        snapshots = Snapshots(self.job.db_url, self.store.generation())
        saved = [snapshots.load(digests[0], first, last)]
        saved.append(saved[0] if self.share_fact else snapshots.load(digests[1], first, last))
        if saved[0] is not None and saved[1] is not None:
            return saved[0][0], saved[0][1], saved[1][1], saved[0][2]
        from cadre_policy.store.columns import read_population
        pop, generation = read_population(self.store, first, last)
        snapshots = Snapshots(self.job.db_url, generation)      # saved under the state actually read
        derived = self.derivers[0].derive(pop, self.units)
        unit_of = derived.current_units()
        tables = [saved[0][1] if saved[0] is not None else derived.table()]
        tables.append(tables[0] if self.share_fact else
                      saved[1][1] if saved[1] is not None else self.derivers[1].table(pop, self.units))
        for side in ((0,) if self.share_fact else (0, 1)):
            if saved[side] is None:
                snapshots.save(digests[side], first, last, pop.ids, tables[side], unit_of)
        return pop.ids, tables[0], tables[1], unit_of

    def compare_tables(self, ids, table_b, table_d, unit_of: tuple, units: dict) -> dict:
        """Counts and explained differences for a partition's tables (``unit_of``: ``current_units``)."""
        matrix_b = self.columns[0].run_table(table_b)
        matrix_d = self.columns[1].run_table(table_d)
        codes, names = unit_of
        unit_of = (codes, [name if name is not None else NO_UNIT for name in names])
        differs = self._tally(matrix_b, matrix_d, unit_of)
        rows = differs.pop("rows")
        docs = _Documents(self.store, ids)(rows)
        differs["changes"] = spooled(self._explain_rows(docs, [unit_of[1][unit_of[0][r]] for r in rows], units,
                                                        differs.pop("expected")))
        differs["n"] = len(ids)
        return differs

    def compare(self, docs: list[dict], units: dict) -> dict:
        base, draft = self.base, self.draft
        sides_b = [base.facts(doc, units) for doc in docs]
        if self.share_fact:
            sides_d = sides_b
        elif self.share_scope:
            sides_d = [(scope, draft.encoder.encode(scope)) for scope, _ in sides_b]
        else:
            sides_d = [draft.facts(doc, units) for doc in docs]
        facts_b = [fact for _, fact in sides_b]
        facts_d = facts_b if sides_d is sides_b else [fact for _, fact in sides_d]
        table_b = FactTable.from_facts(facts_b) if self.columns[0].vectorised else None
        table_d = table_b if facts_d is facts_b else None     # the same facts: laid out once
        matrix_b = self.columns[0].run_facts(facts_b, table_b)
        matrix_d = self.columns[1].run_facts(facts_d, table_d)
        unit_of = [current_unit(doc, self.job.as_of) or NO_UNIT for doc in docs]
        names = list(dict.fromkeys(unit_of))
        code = {name: i for i, name in enumerate(names)}
        result = self._tally(matrix_b, matrix_d, (np.array([code[u] for u in unit_of], dtype=np.int64), names))
        rows = result.pop("rows")
        near = Counter()
        if self.near is not None:
            for row, doc in enumerate(docs):
                near.update(self.near(self, doc, (*sides_b[row], matrix_b.firings(row)),
                                      (*sides_d[row], matrix_d.firings(row))))
        result["changes"] = spooled(self._explain_rows([docs[r] for r in rows], [unit_of[r] for r in rows], units,
                                                       result.pop("expected")))
        result.update(n=len(docs), near=near)
        return result

    def _tally(self, matrix_b, matrix_d, unit_of: tuple) -> dict:
        """Counts overall and by unit, and the rows whose outcome differs (with both outcomes)."""
        keys_b, outcomes_b = self._outcomes(matrix_b, self.base.decider)
        keys_d, outcomes_d = self._outcomes(matrix_d, self.draft.decider)
        counts = (_count(keys_b, outcomes_b), _count(keys_d, outcomes_d))
        by_unit = _count_by_unit(unit_of, (keys_b, outcomes_b), (keys_d, outcomes_d))
        pattern_differs = {(b, d) for b, d in set(zip(outcomes_b.tolist(), outcomes_d.tolist()))
                           if keys_b[b] != keys_d[d]}
        rows = [i for i, pair in enumerate(zip(outcomes_b.tolist(), outcomes_d.tolist())) if pair in pattern_differs]
        expected = [(keys_b[outcomes_b[r]], keys_d[outcomes_d[r]]) for r in rows]
        return {"counts": counts, "units": by_unit, "rows": rows, "expected": expected, "near": Counter(),
                "skipped": 0}

    def _explain_rows(self, docs: list, units_of: list, units: dict, expected: list) -> list:
        """Each changed cadre run again through durable_rules on both sides, and explained."""
        base, draft = self.base, self.draft
        changes = []
        for doc, unit, (want_b, want_d) in zip(docs, units_of, expected):
            scope_b, fact_b = base.facts(doc, units)
            scope_d, fact_d = (scope_b, fact_b) if self.share_fact else draft.facts(doc, units)
            firings_b, firings_d = base.engine.run(fact_b), draft.engine.run(fact_d)   # durable_rules
            out_b, out_d = base.decider.decide(firings_b.fired).summary, draft.decider.decide(firings_d.fired).summary
            if (out_b, out_d) != (want_b, want_d):
                raise EngineDisagreement(
                    f"cadre {doc.get('id')}: the columnar engine and durable_rules disagree "
                    f"({want_b} / {want_d} against {out_b} / {out_d}); run with --engine durable and report this")
            changes.append(self.explain(doc, unit, units, (scope_b, fact_b, firings_b, out_b),
                                        (scope_d, fact_d, firings_d, out_d)))
        return changes

    @staticmethod
    def _outcomes(matrix, decider):
        """(the outcome summary of each distinct row of firings, which of them each cadre has)."""
        patterns, inverse = matrix.patterns()
        return [decider.decide(firings.fired).summary for firings in patterns], inverse


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
