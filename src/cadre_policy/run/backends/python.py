"""The plain-Python forward-chaining evaluator of the intermediate form (the oracle).

It decides what durable_rules decides, deliberately written a second time and as plainly
as possible: the tests run every case and a seeded population on both and require the
same firings, and the what-if shortcut proves with it that a draft's rules fire as the
baseline's did. Do not merge it into the durable backend.
"""
from __future__ import annotations

import operator

from cadre_policy.compile import ir
from cadre_policy.run.firings import Firings, closure_values

OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
       ">=": operator.ge}


def field_value(fact: dict, path: str):
    """The value at a dotted path of an encoded fact, or None."""
    value = fact
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _same_kind(a, b) -> bool:
    # durable_rules would compare "3" with 3; the compiler never lets that happen, and here
    # a mismatch is simply false
    return isinstance(a, str) == isinstance(b, str)


def holds(formula, fact: dict, asserted: set) -> bool:
    """Evaluate a positive formula of the intermediate form."""
    if isinstance(formula, ir.Test):
        value = field_value(fact, formula.path)
        return value is not None and _same_kind(value, formula.const) and OPS[formula.op](value, formula.const)
    if isinstance(formula, ir.And):
        return all(holds(f, fact, asserted) for f in formula.items)
    if isinstance(formula, ir.Or):
        return any(holds(f, fact, asserted) for f in formula.items)
    if isinstance(formula, ir.Fact):
        return formula.key in asserted
    if isinstance(formula, ir.Exists):
        return (field_value(fact, formula.path) is not None) == formula.present
    if isinstance(formula, ir.Linear):
        a, b = field_value(fact, formula.a), field_value(fact, formula.b)
        return a is not None and b is not None and OPS[formula.op](a * formula.q, b * formula.p)
    if isinstance(formula, ir.TestField):
        a, b = field_value(fact, formula.path), field_value(fact, formula.other)
        return a is not None and b is not None and _same_kind(a, b) and OPS[formula.op](a, b)
    if isinstance(formula, ir.Const):
        return formula.value
    raise TypeError(formula)


class PythonEngine:
    """Runs each stratum to a fixed point: a test fires once; its fact is asserted once."""

    name = "python"

    def __init__(self, compiled: ir.CompiledSet):
        self.compiled = compiled

    def run(self, fact: dict) -> Firings:
        fired: set = set()
        asserted: set = set()
        for stratum in self.compiled.strata:
            fact = dict(fact, **{ir.CLOSURE: closure_values(stratum, asserted)}) if stratum.closure else fact
            pending = list(stratum.tests)
            changed = True
            while changed:
                changed = False
                for test in pending:
                    if test.key in fired or not holds(test.formula, fact, asserted):
                        continue
                    fired.add(test.key)
                    if test.asserts and test.asserts not in asserted:
                        asserted.add(test.asserts)
                        changed = True
        return Firings(frozenset(fired), frozenset(asserted))
