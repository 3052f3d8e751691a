"""One walk over condition trees: model conditions, their values, and IR formulas.

A node's children are its fields that are nodes (or tuples of nodes): ``All.items``,
``Not.item``, ``Compare.value``, ``Within.period``, ``Period.amount``, ``ir.And.items``
and the like. Collectors filter the walk by type instead of recursing themselves;
interpreters (the Kleene evaluator, the compiler, the SQL of member conditions, the
reasons) stay recursive, since each node's meaning depends on its children's.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Iterator

from cadre_policy.language import model as m


def children(node) -> Iterator:
    """The nodes directly below ``node``, in field order."""
    if not is_dataclass(node):
        return
    for f in fields(node):
        if f.name == "loc":
            continue
        value = getattr(node, f.name)
        if is_dataclass(value):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if is_dataclass(v))


def walk(node) -> Iterator:
    """``node`` and every node below it, depth first, parents before children."""
    if node is None:
        return
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def polarised(node, negative: bool = False) -> Iterator[tuple[object, bool]]:
    """Every node below ``node`` with whether an odd number of ``not`` lies above it."""
    if node is None:
        return
    yield node, negative
    flip = isinstance(node, m.Not)
    for child in children(node):
        yield from polarised(child, negative ^ flip)
