"""Literal values of the policy language, typed: fractions, dates, periods, ranks."""
from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

from cadre_policy.i18n import _
from cadre_policy.language import types as t

# ASCII digits only: `int()` and `\d` also take Arabic-Indic and full-width digits
FRACTION_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$", re.ASCII)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
WHOLE_RE = re.compile(r"^[+-]?\d+$", re.ASCII)

#: Every date the program computes with lies in this range (evaluation dates, record dates,
#: parameter dates), so that date arithmetic with bounded periods never leaves the calendar.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)
#: The largest whole number a record or a parameter may hold: it fits every database's INTEGER
#: column, and the product of two stays inside the rules engine's 64-bit integers.
COUNT_MAX = 2**31 - 1
#: The largest period or count a parameter may hold; periods stay far inside DATE_MIN..DATE_MAX.
PARAMETER_MAX = {"years": 200, "months": 2400, "count": COUNT_MAX}
#: Numerator and denominator of a literal fraction: at most this many digits.
FRACTION_DIGITS = 30


def parse_date(raw) -> date:
    """A calendar date from ``YYYY-MM-DD`` (ASCII digits) between DATE_MIN and DATE_MAX.

    Python's ``date.fromisoformat`` also takes ``20170101`` and week dates; we do not.

    Raises:
        ValueError: with a message an officer can act on.
    """
    if isinstance(raw, date):
        day = raw
    else:
        text = str(raw)
        if not DATE_RE.match(text):
            raise ValueError(_("'{value}' is not a date (YYYY-MM-DD)").format(value=raw))
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("'{value}' is not a calendar date").format(value=raw)) from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(_("{day} is outside {low}..{high}").format(day=day.isoformat(), low=DATE_MIN.isoformat(),
                                                                 high=DATE_MAX.isoformat()))
    return day


def parse_whole(raw: str) -> int:
    """A whole number from text in ASCII digits (``int()`` also takes ``'٣'`` and ``'1_000'``)."""
    if not WHOLE_RE.match(raw.strip()):
        raise ValueError(f"'{raw}' is not a whole number")
    return int(raw)


def parse_fraction(raw) -> Fraction:
    """An exact fraction from ``"1/3"``; never from a decimal.

    >>> parse_fraction("16/48")
    Fraction(1, 3)
    """
    if isinstance(raw, str):
        match = FRACTION_RE.match(raw)
        if match and max(len(match.group(1)), len(match.group(2))) > FRACTION_DIGITS:
            raise ValueError(_("'{value}': numerator and denominator have at most {n} digits").format(
                value=raw, n=FRACTION_DIGITS))
        if match and int(match.group(2)):
            return Fraction(int(match.group(1)), int(match.group(2)))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Fraction(raw)
    raise ValueError(_("'{value}' is not an exact fraction such as 1/3").format(value=raw))


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
                   "date": "date", "enum": "text", "rank": "rank", "table": "table"}


def parse_parameter(kind: str, raw):
    """A parameter's raw value as a Python value of its kind; ValueError when it does not fit."""
    if raw is None:
        return None
    if kind == "ratio":
        return parse_fraction(raw)
    if kind in ("years", "months", "count"):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(_("'{value}' is not a whole number of {kind}").format(value=raw, kind=_(kind)))
        if raw > PARAMETER_MAX[kind]:
            raise ValueError(_("{value} is more than {n} {kind}").format(value=raw, n=PARAMETER_MAX[kind], kind=_(kind)))
        return raw
    if kind == "date":
        return parse_date(raw)
    if kind == "rank":
        if raw not in t.RANKS:
            raise ValueError(f"'{raw}' is not a rank ({', '.join(t.RANKS)})")
        return raw
    if kind == "table":
        # a table parameter: an entry per key (a rank, a sanction kind, a number of years), whole numbers
        if not isinstance(raw, dict) or not raw:
            raise ValueError(f"'{raw}' is not a table (a mapping from keys to whole numbers)")
        out = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"the entry '{key}': '{value}' is not a whole number")
            out[str(key)] = value
        return out
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
