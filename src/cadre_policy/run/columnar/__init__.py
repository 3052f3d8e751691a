"""The columnar engine: the compiled intermediate form evaluated over whole columns (numpy).

A population is laid out as a ``FactTable`` (one column per encoded path, with a
presence mask) and every rule test is evaluated for all cadres at once, stratum by
stratum to a fixed point, giving a ``FiredMatrix``. It decides exactly what the
durable_rules and plain-Python engines decide (the suite checks all three agree);
it carries no reasons: those come from assembling a cadre's result (``PolicyRunner.
assemble``), which the what-if does with durable_rules for the cadres that change.

numpy was chosen on measurement (docs/performance.md): over pre-derived facts it
runs at the rate of polars and of OpenFisca's vectorised formulas, needs no query
planner for a few dozen boolean expressions, and its int64 and object arrays give
exact integer arithmetic (fractions compared by cross-multiplication, never float).
"""
from cadre_policy.run.columnar.engine import ColumnarEngine, FiredMatrix
from cadre_policy.run.columnar.table import FactTable

__all__ = ["ColumnarEngine", "FactTable", "FiredMatrix"]
