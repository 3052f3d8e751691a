"""Why a rule concluded what it did: each comparison with its values, as data."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language.kleene import Evaluator, Ratio, lookup

WORD = {"==": "eq", "!=": "ne"}
#: Operator symbols of the structure and what-if reports; reasons of a check are phrased in render/reasons.py
SYMBOLS = {"eq": "=", "ne": "≠", "in": "属于", "not_in": "不属于", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
           "within": "以内", "has": "含", "on_or_after": "≥", "on_or_before": "≤", "after": ">", "before": "<"}


def display(value, kind=None) -> str | None:
    """A value as an officer reads it (durations in years, months and days)."""
    if value is None:
        return None
    if kind is not None and kind.name == "duration" and isinstance(value, int):
        return periods.describe_duration(value)
    if isinstance(value, (Ratio, Fraction)):
        return str(value) if isinstance(value, Ratio) else f"{value.numerator}/{value.denominator}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        if "start" in value and "title" in value:      # a post names itself: when, where, what
            unit = value.get("unit") or {}
            return " ".join(str(p) for p in (value["start"].isoformat() if isinstance(value["start"], date)
                                             else value["start"], unit.get("name") or unit.get("id"),
                                             value["title"]) if p)
        return value.get("id") or value.get("title") or "…"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(display(v)) for v in value)
    return str(value)


def _threshold(cond, evaluator: Evaluator, scope: dict):
    value = cond.value if isinstance(cond, m.Compare) else cond.period
    if isinstance(value, m.FactRef):
        return f"{value.path} = {display(lookup(scope, value.path))}"
    if isinstance(value, m.Period):
        amount = evaluator.param(value.amount) if isinstance(value.amount, m.ParamRef) else value.amount.raw
        return f"{amount}{'年' if value.unit == 'years' else '个月'}"
    if isinstance(value, m.ParamRef):
        raw = evaluator.param(value)
        kind = evaluator.param_kind(value)
        suffix = {"years": "年", "months": "个月"}.get(kind, "")
        return f"{display(raw)}{suffix}"
    return display(value.raw)


def decisive(node, result, holds) -> list:
    """The parts of an ``all`` / ``any`` that decided its ``result`` (True, False, None = unknown).

    A true ``any``: the first branch that held; a false ``all``: the parts that failed; an
    unknown one: the unknown parts; a true ``all`` or a false ``any``: every part.
    """
    results = [(item, holds(item)) for item in node.items]
    if isinstance(node, m.Any) and result is True:
        return [next(item for item, r in results if r is True)]
    if isinstance(node, m.All) and result is False:
        return [item for item, r in results if r is False]
    if result is None:
        return [item for item, r in results if r is None]
    return [item for item, _ in results]


def because(cond, scope: dict, evaluator: Evaluator, provision: str | None = None,
            deciding: bool = True) -> list[dict]:
    """What decided a condition: its deciding comparisons (every one with ``deciding=False``), as data.

    Each entry has ``fact``, ``value``, ``op`` (the word the author wrote: 超过, 以上, eq, ...),
    ``threshold``, ``holds`` (True, False, None = unknown), ``negated`` when read through a
    ``not``, and ``provision`` when given; renderers phrase it. The what-if pairs every
    comparison of both sides (``deciding=False``) and reports those that differ.
    """
    out: list[dict] = []
    if cond is None:
        return out

    def walk(node, negated=False):
        if isinstance(node, (m.All, m.Any)):
            items = decisive(node, evaluator.holds(node, scope), lambda c: evaluator.holds(c, scope)) \
                if deciding else node.items
            for item in items:
                walk(item, negated)
            return
        if isinstance(node, m.Not):
            walk(node.item, not negated)
            return
        entry: dict = {}
        holds = evaluator.holds(node, scope)
        if isinstance(node, m.Asserted):
            entry = {"fact": f"{node.kind}:{node.name}", "op": "asserted"}
        elif isinstance(node, m.Present):
            value, kind = evaluator.subject(node, scope)
            entry = {"fact": node.subject, "op": "present" if node.present else "absent",
                     "value": display(value, kind)}
        else:
            value, kind = evaluator.subject(node, scope)
            if isinstance(node, m.Has):
                entry = {"fact": node.subject, "op": "has", "value": display(value), "threshold": node.flag}
            elif isinstance(node, m.Within):
                entry = {"fact": node.subject, "op": "within", "value": display(value),
                         "threshold": _threshold(node, evaluator, scope)}
            else:
                entry = {"fact": node.subject, "op": WORD.get(node.word, node.word) if node.word else node.op,
                         "value": display(value, kind), "threshold": _threshold(node, evaluator, scope)}
        entry["holds"] = holds
        if negated:
            entry["negated"] = True
        if provision:
            entry["provision"] = provision
        out.append(entry)

    walk(cond)
    return out
