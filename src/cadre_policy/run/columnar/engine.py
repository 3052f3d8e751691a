"""Evaluate the intermediate form over a ``FactTable``: every rule test for every cadre at once."""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from cadre_policy.compile import ir
from cadre_policy.run.firings import Firings
from cadre_policy.run.columnar.table import INT64_LIMIT, FactTable

OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
       ">=": operator.ge}
_NODES = (ir.Test, ir.TestField, ir.Linear, ir.Exists, ir.Fact, ir.And, ir.Or, ir.Const)


def supported(formula) -> bool:
    """Whether every node of a formula is one this engine evaluates in columns."""
    if isinstance(formula, (ir.And, ir.Or)):
        return all(supported(f) for f in formula.items)
    return isinstance(formula, _NODES)


@dataclass
class FiredMatrix:
    """Which rule tests fired (and which facts were asserted) for each cadre of a table."""
    tests: list                 # [(rule id, test)]
    fired: np.ndarray           # bool, cadres x tests
    facts: list                 # ["finding:code", ...]
    asserted: np.ndarray        # bool, cadres x facts

    @property
    def n(self) -> int:
        return self.fired.shape[0]

    def firings(self, row: int) -> Firings:
        """The ``Firings`` of one cadre, as the other engines return them."""
        return Firings(frozenset(self.tests[j] for j in np.flatnonzero(self.fired[row])),
                       frozenset(self.facts[j] for j in np.flatnonzero(self.asserted[row])))

    def patterns(self):
        """(distinct rows of fired tests as ``Firings``, index of each cadre's pattern)."""
        if self.n == 0:
            return [], np.zeros(0, dtype=np.int64)
        packed = np.packbits(np.concatenate([self.fired, self.asserted], axis=1), axis=1)
        packed = np.pad(packed, ((0, 0), (0, -packed.shape[1] % 8)))
        # big-endian words sort as the bytes do (the order of the patterns is the order of the report);
        # numbers sort many times faster than byte strings
        words = np.ascontiguousarray(packed).view(">u8").astype(np.uint64)
        if words.shape[1] == 1:
            _, first, inverse = np.unique(words[:, 0], return_index=True, return_inverse=True)
        else:
            order = np.lexsort(words.T[::-1])          # stable: each group's first row is its earliest
            ordered = words[order]
            new = np.ones(self.n, dtype=bool)
            new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
            inverse = np.empty(self.n, dtype=np.int64)
            inverse[order] = np.cumsum(new) - 1
            first = order[new]
        return [self.firings(int(row)) for row in first], inverse.ravel()


class ColumnarEngine:
    """Runs a compiled set over columns: strata in order, each to a fixed point.

    Where a formula holds a node this engine does not know (the language grows), the
    whole set is evaluated cadre by cadre with the plain-Python engine instead: slower,
    never wrong.
    """

    name = "columnar"

    def __init__(self, compiled: ir.CompiledSet):
        self.compiled = compiled
        self.tests = [t.key for s in compiled.strata for t in s.tests]
        self.facts = sorted({t.asserts for s in compiled.strata for t in s.tests if t.asserts})
        self.vectorised = all(supported(t.formula) for s in compiled.strata for t in s.tests)
        self._fallback = None

    def run(self, fact: dict) -> Firings:
        """One cadre (the interface of the other engines)."""
        return self.run_table(FactTable.from_facts([fact])).firings(0)

    def run_facts(self, facts: list[dict], table: FactTable | None = None) -> FiredMatrix:
        """Every rule test for every cadre of ``facts`` (laid out in ``table`` when given)."""
        if not self.vectorised:
            return self._per_cadre(facts)
        return self.run_table(table if table is not None else FactTable.from_facts(facts))

    def run_table(self, table: FactTable) -> FiredMatrix:
        """Every rule test of the compiled set for every cadre of ``table``."""
        n = table.n
        fired = np.zeros((n, len(self.tests)), dtype=bool)
        asserted = {key: np.zeros(n, dtype=bool) for key in self.facts}
        column_of = {key: j for j, key in enumerate(self.tests)}
        for stratum in self.compiled.strata:
            closure = {ir.closure_path(key): asserted.get(key, np.zeros(n, dtype=bool)) for key in stratum.closure}
            evaluate = _Evaluator(table, closure, asserted)
            changed = True
            while changed:          # the formulas are positive in asserted facts: monotone
                changed = False
                for test in stratum.tests:
                    holds = evaluate(test.formula)
                    j = column_of[test.key]
                    fired[:, j] |= holds
                    if test.asserts:
                        new = holds & ~asserted[test.asserts]
                        if new.any():
                            asserted[test.asserts] |= new
                            evaluate.forget_facts()
                            changed = True
        facts = np.stack([asserted[k] for k in self.facts], axis=1) if self.facts else np.zeros((n, 0), dtype=bool)
        return FiredMatrix(self.tests, fired, self.facts, facts)

    def _per_cadre(self, facts: list[dict]) -> FiredMatrix:
        if self._fallback is None:
            from cadre_policy.run.backends.python import PythonEngine
            self._fallback = PythonEngine(self.compiled)
        fired = np.zeros((len(facts), len(self.tests)), dtype=bool)
        asserted = np.zeros((len(facts), len(self.facts)), dtype=bool)
        tests = {key: j for j, key in enumerate(self.tests)}
        keys = {key: j for j, key in enumerate(self.facts)}
        for row, fact in enumerate(facts):
            firings = self._fallback.run(fact)
            fired[row, [tests[k] for k in firings.fired]] = True
            asserted[row, [keys[k] for k in firings.asserted]] = True
        return FiredMatrix(self.tests, fired, self.facts, asserted)


class _Evaluator:
    """Formula -> bool column, with the cadre-fact atoms computed once per stratum."""

    def __init__(self, table: FactTable, closure: dict, asserted: dict):
        self.table = table
        self.n = table.n
        self.closure = closure
        self.asserted = asserted
        self.memo: dict = {}
        self.with_facts: set = set()

    def forget_facts(self) -> None:
        for formula in self.with_facts:
            self.memo.pop(formula, None)
        self.with_facts.clear()

    def __call__(self, formula) -> np.ndarray:
        value = self.memo.get(formula)
        if value is None:
            value, reads_facts = self._eval(formula)
            self.memo[formula] = value
            if reads_facts:
                self.with_facts.add(formula)
        return value

    def _eval(self, f):
        n = self.n
        if isinstance(f, ir.Const):
            return np.full(n, f.value, dtype=bool), False
        if isinstance(f, ir.Fact):
            return self.asserted.get(f.key, np.zeros(n, dtype=bool)).copy(), True
        if isinstance(f, (ir.And, ir.Or)):
            parts = [self(item) for item in f.items]
            reads = any(item in self.with_facts for item in f.items)
            combine = np.logical_and if isinstance(f, ir.And) else np.logical_or
            return combine.reduce(parts), reads
        if isinstance(f, ir.Test):
            return self._test(f), False
        if isinstance(f, ir.Exists):
            column = self.table.column(f.path)
            present = column.present if column is not None else np.zeros(n, dtype=bool)
            return (present if f.present else ~present).copy(), False
        if isinstance(f, ir.Linear):
            return self._linear(f), False
        if isinstance(f, ir.TestField):
            return self._test_field(f), False
        raise TypeError(f)

    def _test(self, f: ir.Test) -> np.ndarray:
        if f.path in self.closure:          # what earlier strata asserted: 1 or 0, always known
            held = self.closure[f.path]
            return OPS[f.op](held.astype(np.int64), int(f.const))
        column = self.table.column(f.path)
        false = np.zeros(self.n, dtype=bool)
        if column is None:
            return false
        if isinstance(f.const, str):
            if column.text is None:
                return false
            values, codes = column.text_codes()
            return column.text_mask & _compare_sorted(values, codes, f.op, f.const)
        if column.num is None:
            return false
        return column.num_mask & np.asarray(OPS[f.op](column.num, f.const), dtype=bool)

    def _linear(self, f: ir.Linear) -> np.ndarray:
        a, b = self.table.column(f.a), self.table.column(f.b)
        if a is None or b is None or a.num is None or b.num is None:
            return np.zeros(self.n, dtype=bool)
        mask = a.num_mask & b.num_mask
        left, right = _exact(a.num, f.q), _exact(b.num, f.p)
        return mask & np.asarray(OPS[f.op](left, right), dtype=bool)

    def _test_field(self, f: ir.TestField) -> np.ndarray:
        a, b = self.table.column(f.path), self.table.column(f.other)
        result = np.zeros(self.n, dtype=bool)
        if a is None or b is None:
            return result
        if a.num is not None and b.num is not None:
            result |= a.num_mask & b.num_mask & np.asarray(OPS[f.op](a.num, b.num), dtype=bool)
        if a.text is not None and b.text is not None:
            both = a.text_mask & b.text_mask
            rows = np.flatnonzero(both)
            result[rows] = np.asarray(OPS[f.op](a.text[rows], b.text[rows]), dtype=bool)
        return result


def _exact(values: np.ndarray, factor: int) -> np.ndarray:
    """``values * factor`` without overflow: int64 when the product provably fits, else Python ints."""
    if values.dtype != object and len(values):
        bound = max(abs(int(values.max())), abs(int(values.min())))
        if bound * abs(factor) < INT64_LIMIT:
            return values * factor
    return values.astype(object) * factor


def _compare_sorted(values: np.ndarray, codes: np.ndarray, op: str, const: str) -> np.ndarray:
    """``text op const`` through the order-keeping codes of a column's sorted strings."""
    left = int(np.searchsorted(values, const, side="left")) if len(values) else 0
    found = left < len(values) and values[left] == const
    right = left + 1 if found else left
    if op == "==":
        return codes == left if found else np.zeros(len(codes), dtype=bool)
    if op == "!=":
        return codes != left if found else np.ones(len(codes), dtype=bool)
    if op == "<":
        return codes < left
    if op == "<=":
        return codes < right
    if op == ">":
        return codes >= right
    return codes >= left
