"""The what-if on the columnar engine: columns find who changes, durable_rules explains them.

A worker reads its partition of the store in columns (``facts.columns``), derives both sides'
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
from cadre_policy.whatif.run import NO_UNIT, Comparer, current_unit, outcome_keys

#: Cadres per partition when the population is read in columns (a worker's memory: ~1 kB each)
PARTITION = 25_000


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
        from cadre_policy.facts.columns import read_population
        pop, _generation = read_population(self.store, task[1], task[2])
        return self.compare_columns(pop, self.units)

    def compare_columns(self, pop, units: dict) -> dict:
        """Counts and explained differences for a population in columns."""
        documents = _Documents(self.store, pop.ids)
        derived_b = self.derivers[0].derive(pop, units)
        table_b = derived_b.table()
        table_d = table_b if self.share_fact else self.derivers[1].table(pop, units)
        unit_of = [u if u is not None else NO_UNIT for u in derived_b.current_units().tolist()]
        matrix_b = self.columns[0].run_table(table_b)
        matrix_d = self.columns[1].run_table(table_d)
        differs = self._tally(matrix_b, matrix_d, unit_of)
        rows = differs.pop("rows")
        docs = documents(rows)
        differs["changes"] = self._explain_rows(docs, [unit_of[r] for r in rows], units, differs.pop("expected"))
        differs["n"] = pop.n
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
        result = self._tally(matrix_b, matrix_d, unit_of)
        rows = result.pop("rows")
        near = Counter()
        if self.near is not None:
            for row, doc in enumerate(docs):
                near.update(self.near(self, doc, (*sides_b[row], matrix_b.firings(row)),
                                      (*sides_d[row], matrix_d.firings(row))))
        result["changes"] = self._explain_rows([docs[r] for r in rows], [unit_of[r] for r in rows], units,
                                               result.pop("expected"))
        result.update(n=len(docs), near=near)
        return result

    def _tally(self, matrix_b, matrix_d, unit_of: list) -> dict:
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


def _count_by_unit(unit_of: list, side_b, side_d) -> dict:
    """unit -> (baseline Counter, draft Counter), counting each (unit, outcome) pair once."""
    by_unit: dict = {}
    for side, (outcomes, index) in enumerate((side_b, side_d)):
        for (unit, pattern), n in Counter(zip(unit_of, index.tolist())).items():
            counters = by_unit.setdefault(unit, (Counter(), Counter()))
            for key in outcome_keys(outcomes[pattern]):
                counters[side][key] += n
    return by_unit
