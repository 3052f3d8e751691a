"""Turn a cadre's derived facts into the engine fact: the one place types are lowered.

durable_rules compares strings with numbers as text and cannot serialise dates or
fractions, so every value reaches the engines as an int, a bool or a string: dates
as day numbers, durations as months * 32 + days, ranks and ordered enums as
ordinals, ratios as integer pairs. Nothing is ``None``: a missing fact is absent.
"""
from __future__ import annotations

from datetime import date

from cadre_policy.language import periods
from cadre_policy.language.kleene import Ratio


def _lowering(kind):
    """The function lowering one value of ``kind`` (None when it cannot be lowered)."""
    if kind is not None and (kind.name == "rank" or (kind.name == "enum" and kind.ordered)):
        index = {value: i for i, value in enumerate(kind.values)}
        return index.get
    def plain(value):
        if isinstance(value, date):
            return (value - periods.EPOCH).days
        return value if isinstance(value, (bool, int, str)) else None
    return plain


class _Node:
    """One step of the scope: what to emit from the value under each key, and where to go deeper."""

    __slots__ = ("emits", "children")

    def __init__(self):
        self.emits: dict[str, list] = {}      # key -> [(mode, extra)]
        self.children: dict[str, _Node] = {}


class Encoder:
    """Builds the nested engine fact from a scope, for the fields a compiled set reads.

    The fields are arranged once as a tree over the scope's keys, so each value is looked
    up once per cadre however many fields share its path (current_post.unit.kind, .level, ...).
    """

    def __init__(self, fields: dict):
        self.root = _Node()
        for _path, (source, mode, extra) in sorted(fields.items()):
            if mode == "closure":
                continue   # the runner adds what earlier strata asserted
            *parents, key = source.split(".")
            node = self.root
            for part in parents:
                node = node.children.setdefault(part, _Node())
            how = extra if mode == "flag" else (_lowering(extra) if mode == "value" else None)
            entry = (mode, how)
            if entry not in node.emits.setdefault(key, []):
                node.emits[key].append(entry)

    def encode(self, scope: dict) -> dict:
        """The engine fact of one cadre (without ``t``/``sid``/``id``)."""
        fact: dict = {}
        _emit(self.root, scope, fact)
        return fact


def _emit(node: _Node, values: dict, out: dict) -> None:
    for key, entries in node.emits.items():
        value = values.get(key)
        if value is None:
            continue
        for mode, how in entries:
            if mode == "value":
                lowered = how(value)
                if lowered is not None:
                    out[key] = lowered
            elif mode == "marker":
                out.setdefault(key, {})["_"] = 1
            elif mode == "flag":
                if how in value:
                    out.setdefault(key, {})[how] = True
            elif isinstance(value, Ratio):   # num / den
                out.setdefault(key, {})["n" if mode == "num" else "d"] = value[0 if mode == "num" else 1]
    for key, child in node.children.items():
        value = values.get(key)
        if isinstance(value, dict):
            sub = out.get(key)
            if sub is None:
                sub = {}
            _emit(child, value, sub)
            if sub:
                out[key] = sub
