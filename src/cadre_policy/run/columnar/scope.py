"""Scopes gathered from a columnar derivation: what explaining a cadre reads, without deriving it again.

Explaining a finding or a requirement (``run.reasons.because``) reads the cadre's scope at
the fact paths its conditions name, and nothing else. A ``Derivation`` holds each of those
paths for every cadre of a partition; ``Gatherer`` takes the values at some rows and nests
them as ``Deriver.scope`` would hold them (dates as dates, a record as its fields with its
unit as the unit's document), so the one phraser gives the same words on either path.
"""
from __future__ import annotations

import numpy as np

from cadre_policy.language import model as m
from cadre_policy.run.columnar.derive import Derivation, _Ref, _UnitRef, put


def condition_paths(compiled, rule_ids=None) -> tuple[str, ...]:
    """Every fact path the conditions of a compiled set's rules (those of ``rule_ids`` when given) read,
    shortest first."""
    paths: set = set()
    for rule in compiled.rules.values():
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        for cond in (rule.when, rule.applies, rule.met):
            paths.update(m.condition_facts(cond))
    return tuple(sorted(paths, key=lambda p: (p.count("."), p)))


class Gatherer:
    """Per-cadre scopes at ``paths`` for rows of one derivation.

    ``supported`` is False when a path holds something this does not rebuild (a list of
    records, a fraction): the caller then derives those cadres one by one.
    """

    def __init__(self, derivation: Derivation, paths: tuple[str, ...]):
        self.derivation = derivation
        self.found = {path: derivation.resolve(path) for path in paths}
        self.supported = all(f is None or hasattr(f, "pythons") or isinstance(f, (_Ref, _UnitRef))
                             for f in self.found.values())

    def scopes(self, rows) -> list[dict]:
        """One scope per row (rows of the derivation's population)."""
        rows = np.asarray(rows, dtype=np.int64)
        scopes: list[dict] = [{} for _ in range(len(rows))]
        for path, found in self.found.items():
            if found is None:
                continue
            for scope, value in zip(scopes, self._values(found, rows)):
                if value is not None:
                    put(scope, path, value)
        return scopes

    def _values(self, found, rows: np.ndarray) -> list:
        if isinstance(found, _Ref):
            return self._records(found, rows)
        if isinstance(found, _UnitRef):
            return [self._unit(uid) for uid in found.ids.pythons(rows)]
        values = found.pythons(rows)
        if found.kind == "obj":        # lists (a unit's flags) are tuples in the columns
            values = [list(v) if isinstance(v, tuple) else v for v in values]
        return values

    def _records(self, ref: _Ref, rows: np.ndarray) -> list:
        """The record each row refers to, as the per-cadre scope holds it (None: none)."""
        at = ref.rows[rows]
        fields = [(name, vec) for name, vec in ref.records.fields.items() if not name.startswith("_")]
        out = []
        for row in at.tolist():
            if row < 0:
                out.append(None)
                continue
            record = {}
            for name, vec in fields:
                value = vec.pythons(np.array([row]))[0]
                if value is None:
                    continue
                record[name] = self._unit(value) if vec.kind == "unit" else value
            out.append(record)
        return out

    def _unit(self, uid):
        if uid is None:
            return None
        units = self.derivation.units
        return units.get(uid) or {"id": uid}
