"""Parameter values on a day, and the values a condition's right-hand side stands for: one place.

A parameter is referred to by ``ParamRef``; a bare name written in a policy is looked up
in that policy first (``ParamRef.candidates``).
"""
from __future__ import annotations

from datetime import date

from cadre_policy.errors import EvaluationError
from cadre_policy.language import model as m
from cadre_policy.language.values import parse_parameter


def parameters_on(policy_set: m.PolicySet, as_of: date, overrides: dict | None = None) -> dict:
    """Every parameter's value in force on ``as_of`` (None before its first date), ``overrides`` on top."""
    values = {}
    for name, param in policy_set.parameters.items():
        raw = param.raw_on(as_of)
        values[name] = parse_parameter(param.kind, raw)
    for name, value in (overrides or {}).items():
        values[name] = value
    return values


def name_of(ref: m.ParamRef, names) -> str | None:
    """The qualified name ``ref`` refers to among ``names`` (a dict or set), or None."""
    return next((name for name in ref.candidates() if name in names), None)


def value_on(value, params: dict, as_of: date):
    """A literal's value, or a parameter's value in ``params``.

    Raises:
        EvaluationError: the parameter is unknown or has no value on ``as_of``.
    """
    if not isinstance(value, m.ParamRef):
        return value.raw
    name = name_of(value, params)
    if name is None:
        raise EvaluationError(f"unknown parameter '{value.name}'")
    if params[name] is None:
        raise EvaluationError(f"parameter '{name}' has no value on {as_of.isoformat()}")
    return params[name]


def duration_months(ref: m.ParamRef, params: dict, specs: dict) -> int | None:
    """A duration parameter's value in months (a parameter of kind ``years`` counts 12 a year)."""
    name = name_of(ref, params)
    value = params.get(name) if name else None
    if value is None:
        return None
    return value * 12 if kind_of(ref, specs) == "years" else value


def kind_of(ref: m.ParamRef, specs: dict) -> str:
    """The declared kind of the parameter ``ref`` refers to ("" when it is not declared)."""
    name = name_of(ref, specs)
    return specs[name].kind if name else ""


def months(period: m.Period, params: dict) -> int | None:
    """A period's length in months (its amount a literal or a parameter; None when the parameter has no value)."""
    amount = period.amount
    if isinstance(amount, m.ParamRef):
        name = name_of(amount, params)
        amount = params.get(name) if name else None
    else:
        amount = amount.raw
    if amount is None:
        return None
    return amount * 12 if period.unit == "years" else amount
