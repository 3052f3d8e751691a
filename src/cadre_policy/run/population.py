"""Checking cadres from the fact store: the units as rules see them, and the batch loop."""
from __future__ import annotations

from typing import Iterator

from cadre_policy.run.evaluate import CadreResult, PolicyRunner, normalise_units


def reads_structure(evaluator: PolicyRunner) -> bool:
    """Whether any rule in force reads a unit's structure findings (group results)."""
    return any(str(source).endswith(".structure") for source, *_ in evaluator.compiled.fields.values())


def units_for(evaluator: PolicyRunner, store) -> dict:
    """The store's units as the rules see them; with structure findings when a rule reads them."""
    units = normalise_units(store.units())
    if reads_structure(evaluator):
        from cadre_policy.aggregate import evaluate_structure, with_structure_findings
        report = evaluate_structure(evaluator.policy_set, store, evaluator.as_of, members_limit=0)
        units = with_structure_findings(units, report, evaluator.policy_set)
    return units


def check_all(evaluator: PolicyRunner, store, units: dict, unit: str | None = None) -> Iterator[CadreResult]:
    """Every cadre of the store (or in ``unit`` on the evaluation date), read in bulk chunks.

    On the columnar engine each chunk is evaluated at once, then each result assembled.
    """
    batch = getattr(evaluator.engine, "run_facts", None)
    for chunk in store.iter_cadre_chunks(unit=unit, as_of=evaluator.as_of):
        if batch is None:
            for doc in chunk:
                yield evaluator.evaluate(doc, units)
            continue
        sides = [evaluator.facts(doc, units) for doc in chunk]
        matrix = batch([fact for _, fact in sides])
        for row, (doc, (scope, fact)) in enumerate(zip(chunk, sides)):
            yield evaluator.assemble(doc, scope, fact, matrix.firings(row))
