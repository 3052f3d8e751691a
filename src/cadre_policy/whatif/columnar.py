"""The what-if on the columnar engine: columns find who changes, durable_rules explains them.

Per chunk, both sides are evaluated over whole columns (run/columnar). A cadre's outcome
(active findings, eligibilities) follows from its firings alone, so it is decided once per
distinct row of firings (``run/outcome.Decider``, the decision every engine's results take) and
counted by unit with numpy. Only the cadres whose outcome differs are run again through
durable_rules, the reference, on both sides: it must reach the same outcomes (else the
run stops: an engine bug, not a result), and its firings give the reasons written today.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from cadre_policy.errors import UserError
from cadre_policy.run.columnar import ColumnarEngine, FactTable
from cadre_policy.whatif.run import NO_UNIT, Comparer, current_unit, outcome_keys


class EngineDisagreement(UserError):
    """The columnar engine and durable_rules reached different outcomes for a cadre."""


class ColumnarComparer(Comparer):
    """Compares chunks of cadres with the columnar engine; changed cadres explained by durable_rules."""

    def __init__(self, job, store=None):
        super().__init__(dataclasses.replace(job, engine="durable"), store)
        self.columns = (ColumnarEngine(self.base.compiled), ColumnarEngine(self.draft.compiled))

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
        keys_b, outcomes_b = self._outcomes(matrix_b, base.decider)
        keys_d, outcomes_d = self._outcomes(matrix_d, draft.decider)
        unit_of = [current_unit(doc, self.job.as_of) or NO_UNIT for doc in docs]
        counts = (_count(keys_b, outcomes_b), _count(keys_d, outcomes_d))
        by_unit = _count_by_unit(unit_of, (keys_b, outcomes_b), (keys_d, outcomes_d))
        near = Counter()
        if self.near is not None:
            for row, doc in enumerate(docs):
                near.update(self.near(self, doc, (*sides_b[row], matrix_b.firings(row)),
                                      (*sides_d[row], matrix_d.firings(row))))
        changes = []
        differs = [i for i, (b, d) in enumerate(zip(outcomes_b, outcomes_d)) if keys_b[b] != keys_d[d]]
        for row in differs:
            doc = docs[row]
            (scope_b, fact_b), (scope_d, fact_d) = sides_b[row], sides_d[row]
            firings_b, firings_d = base.engine.run(fact_b), draft.engine.run(fact_d)   # durable_rules
            out_b, out_d = base.decider.decide(firings_b.fired).summary, draft.decider.decide(firings_d.fired).summary
            if (out_b, out_d) != (keys_b[outcomes_b[row]], keys_d[outcomes_d[row]]):
                raise EngineDisagreement(
                    f"cadre {doc.get('id')}: the columnar engine and durable_rules disagree "
                    f"({keys_b[outcomes_b[row]]} / {keys_d[outcomes_d[row]]} against {out_b} / {out_d}); "
                    "run with --engine durable and report this")
            changes.append(self.explain(doc, unit_of[row], units, (scope_b, fact_b, firings_b, out_b),
                                        (scope_d, fact_d, firings_d, out_d)))
        return {"n": len(docs), "counts": counts, "units": by_unit, "changes": changes, "near": near,
                "skipped": 0}

    @staticmethod
    def _outcomes(matrix, decider):
        """(the outcome summary of each distinct row of firings, which of them each cadre has)."""
        patterns, inverse = matrix.patterns()
        return [decider.decide(firings.fired).summary for firings in patterns], inverse


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
