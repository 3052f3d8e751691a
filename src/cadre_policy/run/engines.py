"""The engines by name, and the default choice (asked by the CLI and the server's configuration)."""
from __future__ import annotations

from cadre_policy.compile import ir


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
