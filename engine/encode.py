"""Turn a cadre's derived facts into the engine fact: the one place types are lowered.

durable_rules compares strings with numbers as text and cannot serialise dates or
fractions, so every value reaches the engines as an int, a bool or a string: dates
as day numbers, durations as months * 32 + days, ranks and ordered enums as
ordinals, ratios as integer pairs. Nothing is ``None``: a missing fact is absent.
"""
from __future__ import annotations

from datetime import date

from . import periods
from . import types as t
from .kleene import Ratio


def _lower(value, kind):
    if isinstance(value, date):
        return periods.day_number(value)
    if kind is not None and kind.name == "rank":
        return t.RANKS.index(value) if value in t.RANKS else None
    if kind is not None and kind.name == "enum" and kind.ordered:
        return kind.values.index(value) if value in kind.values else None
    if isinstance(value, (bool, int, str)):
        return value
    return None


class Encoder:
    """Builds the nested engine fact from a scope, for the fields a compiled set reads."""

    def __init__(self, fields: dict):
        # (encoded path split, source path, mode, extra), closure fields left to the runner
        self.plan = [(path.split("."), source, mode, extra) for path, (source, mode, extra) in sorted(fields.items())
                     if mode != "closure"]

    def encode(self, scope: dict) -> dict:
        """The engine fact of one cadre (without ``t``/``sid``/``id``)."""
        fact: dict = {}
        found: dict = {}     # source path -> value: fields share long prefixes (current_post.unit...)

        def value_at(path):
            if path in found:
                return found[path]
            parent, _, last = path.rpartition(".")
            holder = value_at(parent) if parent else scope
            value = holder.get(last) if isinstance(holder, dict) else None
            found[path] = value
            return value

        for parts, source, mode, extra in self.plan:
            value = value_at(source)
            if value is None:
                continue
            if mode == "marker":
                lowered = 1
            elif mode == "flag":
                if extra not in value:
                    continue
                lowered = True
            elif mode in ("num", "den"):
                if not isinstance(value, Ratio):
                    continue
                lowered = value[0] if mode == "num" else value[1]
            else:
                lowered = _lower(value, extra)
            if lowered is None:
                continue
            node = fact
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = lowered
        return fact
