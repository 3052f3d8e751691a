"""``policy test -k EXPR``: select cases by name, as pytest's ``-k`` does.

An expression is names joined by ``and``, ``or``, ``not`` and parentheses; a name
matches a case whose name contains it (case-insensitively). It is parsed here, never
evaluated as code.
"""
from __future__ import annotations

import re

from cadre_policy.errors import UserError

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class SelectionError(UserError):
    """A ``-k`` expression that does not parse."""


def matcher(expression: str):
    """A predicate on case names for ``expression``.

    >>> m = matcher("诫勉 and not 恰为")
    >>> m("不满意票16/45：诫勉谈话"), m("恰为三分之一，诫勉")
    (True, False)
    """
    tokens = _TOKEN.findall(expression)
    if not tokens:
        raise SelectionError("-k needs an expression (names joined by and, or, not)")
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take(expected=None):
        nonlocal position
        token = peek()
        if token is None or (expected and token != expected):
            raise SelectionError(f"-k '{expression}': expected {expected or 'a name'} "
                                 f"{'at the end' if token is None else f'before {token!r}'}")
        position += 1
        return token

    def joined(word, operand, combine):
        """``operand (word operand)*``, left to right: one precedence level."""
        def parse():
            test = operand()
            while peek() == word:
                take()
                test = (lambda a, b: lambda name: combine(a(name), b(name)))(test, operand())
            return test
        return parse

    def disjunction():
        return joined("or", conjunction, lambda a, b: a or b)()

    def conjunction():
        return joined("and", negation, lambda a, b: a and b)()

    def negation():
        if peek() == "not":
            take()
            inner = negation()
            return lambda name: not inner(name)
        if peek() == "(":
            take("(")
            inner = disjunction()
            take(")")
            return inner
        word = take()
        if word in ("and", "or", ")"):
            raise SelectionError(f"-k '{expression}': expected a name before {word!r}")
        word = word.casefold()
        return lambda name: word in name.casefold()

    test = disjunction()
    if peek() is not None:
        raise SelectionError(f"-k '{expression}': unexpected {peek()!r}")
    return test
