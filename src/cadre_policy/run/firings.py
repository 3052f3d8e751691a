"""What an engine returns for one cadre: which rule tests fired and which facts were asserted.

Firings are sets, so the order in which an engine happened to fire rules cannot change a result.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.compile import ir


@dataclass(frozen=True)
class Firings:
    """What an engine fired for one cadre: the tests and the facts asserted."""
    fired: frozenset          # {(rule id, test)}
    asserted: frozenset       # {"finding:code", "derived:name"}


def closure_values(stratum: ir.Stratum, asserted: set) -> dict:
    """The ``_k`` part of the cadre fact: which facts earlier strata asserted (1) or not (0)."""
    return {key.replace(":", "__"): int(key in asserted) for key in stratum.closure}
