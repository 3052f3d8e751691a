"""Every cadre's full result from the columns: what `policy check --all` reports, without documents.

A partition read in columns (``store.columns.read_population``) is derived at once
(``ColumnarDeriver``), evaluated at once (``ColumnarEngine``), and each cadre's result is
assembled by ``PolicyRunner.assemble`` from its firings and a scope gathered at the facts the
result reads (the conditions, each ``until`` and the promotion's target rank): the same
findings, requirements and reasons as a cadre evaluated from its document.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from cadre_policy.language import model as m
from cadre_policy.language.kleene import lookup
from cadre_policy.language.walk import walk
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.run.columnar.engine import ColumnarEngine
from cadre_policy.run.columnar.scope import Gatherer, condition_paths
from cadre_policy.run.evaluate import CadreResult, PolicyRunner
from cadre_policy.run.reasons import because


class ColumnarResults:
    """Full results of whole partitions for one ``PolicyRunner``.

    ``supported`` is False when the policy set uses something the columnar derivation or engine
    does not know; the caller then evaluates cadre by cadre.
    """

    def __init__(self, runner: PolicyRunner):
        self.runner = runner
        self.deriver = ColumnarDeriver(runner)
        self.engine = ColumnarEngine(runner.compiled)
        extra = {rule.until.fact for rule in runner.compiled.rules.values() if rule.until is not None}
        self.paths = tuple(dict.fromkeys(condition_paths(runner.compiled)
                                         + tuple(sorted(extra)) + ("promotion.target_rank",)))
        self.supported = self.deriver.supported and self.engine.vectorised
        self.memo = Reasons()

    def results(self, pop, units: dict) -> Iterator[tuple[CadreResult, str | None]]:
        """(result, the unit of the current post or None) of each cadre of ``pop``, in its order.

        Raises:
            ValueError: a fact the result reads cannot be gathered from the columns (check ``gatherable``).
        """
        derived = self.deriver.derive(pop, units)
        matrix = self.engine.run_table(derived.table())
        patterns, which = matrix.patterns()          # each distinct row of firings, decided once
        decided = [self.runner.decider.decide(firings.fired) for firings in patterns]
        codes, unit_ids = derived.current_units()
        gatherer = Gatherer(derived, self.paths)
        if not gatherer.supported:
            raise ValueError("a fact the results read is not gathered from the columns")
        names = pop.cadre["name"].pythons(np.arange(pop.n))
        for start in range(0, pop.n, 2000):         # scopes a slice at a time: memory by the slice
            rows = np.arange(start, min(start + 2000, pop.n))
            for row, scope in zip(rows.tolist(), gatherer.scopes(rows)):
                doc = {"id": pop.ids[row], "name": names[row] or ""}
                pattern = which[row]
                yield (self.runner.assemble(doc, scope, {}, patterns[pattern], self.memo, decided[pattern]),
                       unit_ids[codes[row]])


class Reasons:
    """``because`` remembered by what it reads: a condition's reasons follow from the values at the
    facts it names and the asserted facts it tests, and a population repeats those a great deal
    (ranks, ages, results). A value that cannot be a key (a record) is explained afresh."""

    def __init__(self, limit: int = 200_000):
        self.limit = limit
        self.reads: dict = {}           # id(condition) -> (condition, its fact paths, its asserted atoms)
        self.known: dict = {}

    def __call__(self, cond, scope: dict, evaluator, provision=None, deciding: bool = True) -> list:
        if cond is None:
            return []
        reads = self.reads.get(id(cond))
        if reads is None or reads[0] is not cond:
            atoms = tuple(sorted({f"{n.kind}:{n.name}" for n in walk(cond) if isinstance(n, m.Asserted)}))
            reads = self.reads[id(cond)] = (cond, tuple(dict.fromkeys(m.condition_facts(cond))), atoms)
        values = []
        for path in reads[1]:
            value = lookup(scope, path)
            values.append((type(value), tuple(value) if isinstance(value, list) else value))
        key = (id(cond), id(evaluator.params), evaluator.as_of, provision, deciding, tuple(values),
               tuple(a in evaluator.asserted for a in reads[2]))
        try:
            found = self.known.get(key)
        except TypeError:               # a record: not a key
            return because(cond, scope, evaluator, provision, deciding)
        if found is None:
            found = because(cond, scope, evaluator, provision, deciding)
            if len(self.known) < self.limit:
                self.known[key] = found
        return [dict(entry) for entry in found]
