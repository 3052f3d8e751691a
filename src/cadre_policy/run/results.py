"""Every cadre's full result from the columns: what `policy check --all` reports, without documents.

A partition read in columns (``store.columns.read_population``) is derived at once
(``ColumnarDeriver``) and evaluated at once (``ColumnarEngine``). A cadre's result follows from
its row of firings (``FiredMatrix.patterns``) and the values at the facts that result reads
(its findings' and requirements' conditions, each ``until`` and the promotion's target rank).
Cadres alike in both are one **group**: its result is assembled once by
``PolicyRunner.assemble``, from a scope gathered at one of its cadres, and stands for every
cadre of the group but for the cadre's id and name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadre_policy.language import model as m
from cadre_policy.language.kleene import lookup
from cadre_policy.language.walk import walk
from cadre_policy.record.columns import NUMERIC
from cadre_policy.run.columnar.derive import ColumnarDeriver, _Ref, _UnitRef
from cadre_policy.run.columnar.engine import ColumnarEngine
from cadre_policy.run.columnar.scope import Gatherer, condition_paths
from cadre_policy.run.evaluate import CadreResult, PolicyRunner
from cadre_policy.run.outcome import UNKNOWN, Outcome
from cadre_policy.run.reasons import because

TARGET_RANK = "promotion.target_rank"


@dataclass
class Grouped:
    """One partition's results by group: ``results[group[row]]`` is the result of cadre ``row``
    but for its id and name (those of the group's first cadre)."""
    ids: list
    names: list
    group: np.ndarray               # int64: each cadre's group
    results: list[CadreResult]      # one per group
    units: np.ndarray               # int64: each cadre's code in ``unit_ids``
    unit_ids: list                  # the unit of each code's current post (None: no post)


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
                                         + tuple(sorted(extra)) + (TARGET_RANK,)))
        self.supported = self.deriver.supported and self.engine.vectorised
        self.memo = Reasons()

    def grouped(self, pop, units: dict) -> Grouped:
        """The results of the cadres of ``pop``, one per group.

        Raises:
            ValueError: a fact the result reads cannot be gathered from the columns (check ``gatherable``).
        """
        derived = self.deriver.derive(pop, units)
        matrix = self.engine.run_table(derived.table())
        patterns, which = matrix.patterns()          # each distinct row of firings, decided once
        decided = [self.runner.decider.decide(firings.fired) for firings in patterns]
        gatherer = Gatherer(derived, self.paths)
        if not gatherer.supported:
            raise ValueError("a fact the results read is not gathered from the columns")
        group, first = self._groups(gatherer, which, [self._reads(f, o) for f, o in zip(patterns, decided)])
        ids = pop.ids.tolist()
        names = [name or "" for name in pop.cadre["name"].pythons(np.arange(pop.n))]
        results = []
        for row, scope in zip(first.tolist(), gatherer.scopes(first)):
            pattern = which[row]
            results.append(self.runner.assemble({"id": ids[row], "name": names[row]}, scope, {},
                                                patterns[pattern], self.memo, decided[pattern]))
        codes, unit_ids = derived.current_units()
        return Grouped(ids, names, group, results, codes, unit_ids)

    def _reads(self, firings, outcome: Outcome) -> set:
        """The fact paths the result of these firings reads (as ``assemble`` and ``to_json`` do)."""
        rules = self.runner.compiled.rules
        paths = {TARGET_RANK}
        for rule_id, _code, _by in outcome.findings:
            rule = rules[rule_id]
            paths.update(m.condition_facts(rule.when))
            if rule.until is not None:
                paths.add(rule.until.fact)
        for _name, rule_id, _code, result, _waived in outcome.requirements:
            rule = rules[rule_id]
            applies = (rule_id, "applies") in firings.fired
            paths.update(m.condition_facts(rule.met if result != UNKNOWN or applies else (rule.applies or rule.met)))
        return paths

    @staticmethod
    def _groups(gatherer: Gatherer, which: np.ndarray, reads: list[set]) -> tuple[np.ndarray, np.ndarray]:
        """(each row's group, the first row of each group): rows of one pattern whose values
        agree at every gathered path a read path lies on (above or below it: the scope nests)."""
        n = len(which)
        columns, owners = [np.asarray(which, dtype=np.int64)], [None]
        for path, found in gatherer.found.items():
            if found is not None:
                for column in _key_columns(found):
                    columns.append(column)
                    owners.append(path)
        touching = {p: [j for j, owner in enumerate(owners) if owner is None or owner == p
                        or owner.startswith(p + ".") or p.startswith(owner + ".")] for p in set().union(*reads)}
        read = np.zeros((len(reads), len(owners)), dtype=bool)
        for pattern, paths in enumerate(reads):
            for p in paths:
                read[pattern, touching[p]] = True
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys = np.where(read[which], np.column_stack(columns), 0)      # a path a pattern does not read: 0
        keys = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1] * 8))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return inverse.ravel(), first


def _key_columns(found) -> list[np.ndarray]:
    """int64 columns equal at two rows only where the gathered values (``Gatherer.scopes``) are equal."""
    if isinstance(found, _Ref):
        rows = found.rows
        fields = [vec.take(rows) for name, vec in found.records.fields.items() if not name.startswith("_")]
        return [(rows >= 0).astype(np.int64)] + [c for vec in fields for c in _vec_columns(vec)]
    return _vec_columns(found.ids if isinstance(found, _UnitRef) else found)


def _vec_columns(vec) -> list[np.ndarray]:
    if vec.kind in NUMERIC and vec.values.dtype == np.int64:
        return [vec.mask.astype(np.int64), np.where(vec.mask, vec.values, 0)]
    if vec.codes is not None:
        return [np.where(vec.mask, vec.codes, -1)]
    seen: dict = {}
    try:                            # by type too: 1, 1.0 and True are one key but not one value
        return [np.fromiter((seen.setdefault((type(v), v), len(seen)) if ok else -1
                             for v, ok in zip(vec.values.tolist(), vec.mask.tolist())),
                            dtype=np.int64, count=len(vec.mask))]
    except TypeError:               # a value that cannot be a key: every row its own
        return [np.arange(len(vec.mask), dtype=np.int64)]


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
