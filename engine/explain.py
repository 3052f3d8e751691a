"""Why a rule concluded what it did: each comparison with its values, as data."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

from . import model as m
from . import periods
from .kleene import Evaluator, Ratio

WORD = {"==": "eq", "!=": "ne"}


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
        return value.get("id") or value.get("title") or "…"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(display(v)) for v in value)
    return str(value)


def _threshold(cond, evaluator: Evaluator, scope: dict):
    value = cond.value if isinstance(cond, m.Compare) else cond.period
    if isinstance(value, m.FactRef):
        return f"{value.path} = {display(_lookup(scope, value.path))}"
    if isinstance(value, m.Period):
        amount = evaluator.param(value.amount) if isinstance(value.amount, m.ParamRef) else value.amount.raw
        return f"{amount}{'年' if value.unit == 'years' else '个月'}"
    if isinstance(value, m.ParamRef):
        raw = evaluator.param(value)
        kind = evaluator.param_kind(value)
        suffix = {"years": "年", "months": "个月"}.get(kind, "")
        return f"{display(raw)}{suffix}"
    return display(value.raw)


def _lookup(scope, path):
    from .kleene import lookup
    return lookup(scope, path)


def because(cond, scope: dict, evaluator: Evaluator) -> list[dict]:
    """The leaves of a condition with their values and whether each held (None: unknown)."""
    out: list[dict] = []
    if cond is None:
        return out

    def walk(node, negated=False):
        if isinstance(node, (m.All, m.Any)):
            for item in node.items:
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
        out.append(entry)

    walk(cond)
    return out


def because_text(entry: dict) -> str:
    """One line of a 'because' list: 不满意票 16/45 超过 1/3."""
    value = entry.get("value")
    value = "（无记录）" if value is None and entry["op"] not in ("asserted", "absent", "present") else value
    parts = [entry["fact"]]
    if entry["op"] in ("present", "absent", "asserted"):
        parts.append({"present": "有记录", "absent": "无记录", "asserted": "已认定"}[entry["op"]])
    else:
        parts += [str(value), entry["op"], str(entry.get("threshold", ""))]
    prefix = "并非 " if entry.get("negated") else ""
    return prefix + " ".join(parts)
