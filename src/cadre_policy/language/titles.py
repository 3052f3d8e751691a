"""Titles and notes that follow their parameters: ``不足{grassroots_min}年`` reads "不足两年"
under the policy set in force and "不足三年" under a draft that raises the minimum.

A ``{name}`` in a rule's title or note, or in an outcome's title, names a parameter: in a
rule, its own policy's short name or a qualified ``policy.name``; in ``outcomes.yaml``,
a qualified name. It shows the value in force on the evaluation date, in Chinese
numerals when the text is Chinese and the number is at most ten (两 before a measure
word: 两年, 两名; 二 otherwise; 45岁 stays in digits, as the documents write it), and
fractions as 三分之一. ``{{`` and ``}}`` are literal braces. Unknown names are E211 at lint.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import date
from fractions import Fraction

from cadre_policy.language import model as m

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")
_DIGITS = "零一二三四五六七八九"
_MEASURE_WORDS = ("年", "个", "名", "人", "次", "届", "岁", "周")


def placeholders(text: str) -> list[str]:
    """The parameter names a text refers to.

    >>> placeholders("不足{grassroots_min}年，{{字面}}")
    ['grassroots_min']
    """
    return [match.group(1) for match in PLACEHOLDER.finditer(text or "") if match.group(1)]


def chinese_number(n: int, before: str = "") -> str:
    """An integer in Chinese numerals; 2 is 两 before a measure word.

    >>> chinese_number(2, "年"), chinese_number(2), chinese_number(15), chinese_number(40), chinese_number(105)
    ('两', '二', '十五', '四十', '一百零五')
    """
    if n < 0:
        return "负" + chinese_number(-n)
    if n == 2 and before.startswith(_MEASURE_WORDS):
        return "两"
    if n < 10:
        return _DIGITS[n]
    if n >= 10000:
        return str(n)
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for size, word in units:
        digit, n = divmod(n, size)
        if digit:
            if zero:
                out += "零"
            out += ("" if (size == 10 and digit == 1 and not out) else _DIGITS[digit]) + word
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + _DIGITS[n]
    return out


def show_value(value, chinese: bool, before: str = "") -> str:
    """A parameter value as it reads inside a title.

    >>> show_value(Fraction(1, 3), True), show_value(3, True, "年"), show_value(3, False), show_value(45, True)
    ('三分之一', '三', '3', '45')
    """
    if isinstance(value, bool):
        return ("是" if value else "否") if chinese else str(value).lower()
    if isinstance(value, int):
        return chinese_number(value, before) if chinese and 0 <= value <= 10 else str(value)
    if isinstance(value, Fraction):
        if not chinese:
            return f"{value.numerator}/{value.denominator}"
        if value.denominator == 1:
            return show_value(value.numerator, chinese, before)
        return f"{chinese_number(value.denominator)}分之{chinese_number(value.numerator)}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(show_value(v, chinese) for v in value)
    return str(value)


def fill(text: str, lookup) -> str:
    """``text`` with each ``{name}`` replaced by ``lookup(name)`` (None leaves it as written)."""
    if not text or "{" not in text and "}" not in text:
        return text
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)

    def replace(match):
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        value = lookup(match.group(1))
        if value is None:
            return match.group(0)
        return show_value(value, chinese, text[match.end():match.end() + 2])
    return PLACEHOLDER.sub(replace, text)


def resolve(name: str, scope: str, parameters) -> str | None:
    """The qualified name a placeholder refers to, or None."""
    return next((c for c in m.ParamRef(name, scope=scope).candidates() if c in parameters), None)


def titled(policy_set: m.PolicySet, as_of: date, overrides: dict | None = None) -> m.PolicySet:
    """A copy of the set whose rule titles and notes and outcome titles show the parameter
    values in force on ``as_of`` (with ``--set`` overrides; the set itself when no text
    names a parameter)."""
    from cadre_policy.language.parameters import parameters_on
    values = parameters_on(policy_set, as_of, overrides)

    def lookup_in(scope):
        return lambda name: values.get(resolve(name, scope, values) or "")

    changed = False
    policies = []
    for policy in policy_set.policies:
        rules = []
        for rule in policy.rules:
            title, note = fill(rule.title, lookup_in(rule.policy)), fill(rule.note, lookup_in(rule.policy))
            if (title, note) != (rule.title, rule.note):
                changed = True
                rule = dataclasses.replace(rule, title=title, note=note)
            rules.append(rule)
        policies.append(dataclasses.replace(policy, rules=tuple(rules)))
    outcomes = policy_set.outcomes
    tables = {}
    for kind in ("findings", "requirements"):
        table = {}
        for code, entry in getattr(outcomes, kind).items():
            title = fill(entry.get("title", ""), lookup_in(""))
            changed |= title != entry.get("title", "")
            table[code] = {**entry, "title": title} if "title" in entry else entry
        tables[kind] = table
    if not changed:
        return policy_set
    return dataclasses.replace(policy_set, policies=tuple(policies),
                               outcomes=dataclasses.replace(outcomes, **tables))
