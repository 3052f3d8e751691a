"""Literal values of the policy language, typed: fractions, dates, periods, ranks."""
from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

from cadre_policy.language import types as t

FRACTION_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_fraction(raw) -> Fraction:
    """An exact fraction from ``"1/3"``; never from a decimal.

    >>> parse_fraction("16/48")
    Fraction(1, 3)
    """
    if isinstance(raw, str):
        match = FRACTION_RE.match(raw)
        if match and int(match.group(2)):
            return Fraction(int(match.group(1)), int(match.group(2)))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Fraction(raw)
    raise ValueError(f"'{raw}' is not an exact fraction such as 1/3")


def literal_type(raw) -> str:
    """The natural type name of a YAML literal."""
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, int):
        return "integer"
    if isinstance(raw, str) and FRACTION_RE.match(raw):
        return "fraction"
    if isinstance(raw, str) and DATE_RE.match(raw):
        return "date"
    if isinstance(raw, list):
        return "list"
    return "text"


PARAMETER_TYPES = {"ratio": "fraction", "years": "period", "months": "period", "count": "integer",
                   "date": "date", "enum": "text", "rank": "rank"}


def parse_parameter(kind: str, raw):
    """A parameter's raw value as a Python value of its kind; ValueError when it does not fit."""
    if raw is None:
        return None
    if kind == "ratio":
        return parse_fraction(raw)
    if kind in ("years", "months", "count"):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(f"'{raw}' is not a whole number of {kind}")
        return raw
    if kind == "date":
        return date.fromisoformat(str(raw))
    if kind == "rank":
        if raw not in t.RANKS:
            raise ValueError(f"'{raw}' is not a rank ({', '.join(t.RANKS)})")
        return raw
    if kind == "enum":
        if isinstance(raw, list):
            return tuple(str(x) for x in raw)
        return str(raw)
    raise ValueError(f"unknown parameter kind '{kind}'")


def format_value(value) -> str:
    """A value as an officer reads it."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(format_value(v) for v in value)
    return str(value)
