"""Three engines for the same compiled rules: durable_rules (the default), plain Python and
columnar (run/columnar: whole populations at once; one cadre here).

All take a compiled set and one encoded cadre fact and return the same ``Firings``:
which rule tests fired and which facts were asserted. Firings are sets, so the order
in which an engine happened to fire rules cannot change a result.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.compile import ir


@dataclass(frozen=True)
class Firings:
    fired: frozenset          # {(rule id, test)}
    asserted: frozenset       # {"finding:code", "derived:name"}


def closure_values(stratum: ir.Stratum, asserted: set) -> dict:
    """The ``_k`` part of the cadre fact: which facts earlier strata asserted (1) or not (0)."""
    return {key.replace(":", "__"): int(key in asserted) for key in stratum.closure}


ENGINES = ("durable", "python", "columnar")


def default_engine(engine: str | None, population: bool) -> str:
    """The engine asked for, or the default: columnar over a population, durable_rules for one cadre."""
    return engine or ("columnar" if population else "durable")


def make_engine(name: str, compiled: ir.CompiledSet):
    """The engine called ``name`` (durable | python | columnar) for a compiled set."""
    if name == "python":
        from cadre_policy.run.backends.python import PythonEngine
        return PythonEngine(compiled)
    if name == "durable":
        from cadre_policy.run.backends.durable import DurableEngine
        return DurableEngine(compiled)
    if name == "columnar":
        from cadre_policy.run.columnar import ColumnarEngine
        return ColumnarEngine(compiled)
    raise ValueError(f"unknown engine '{name}' (durable | python | columnar)")
