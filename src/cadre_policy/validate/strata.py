"""Stratification: order rules so that a ``not`` over a conclusion reads it only once it is final.

One stratifier for the checker (E402 over every rule of a set) and the compiler (the
strata of the rules in force on a day).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from cadre_policy.language import model as m
from cadre_policy.language.walk import polarised


def conclusion(rule: m.Rule) -> str | None:
    """The fact key a rule asserts when it fires (``finding:CODE`` / ``derived:NAME``).

    None for requirements and exceptions: they assert nothing (the outcome decision reads them).
    """
    if rule.kind not in ("finding", "derive"):
        return None
    return f"{'derived' if rule.kind == 'derive' else 'finding'}:{rule.code}"


def _atoms(cond) -> Iterator[tuple[str, bool]]:
    for node, negative in polarised(cond):
        if isinstance(node, m.Asserted):
            yield f"{node.kind}:{node.name}", negative


def rule_atoms(rule: m.Rule) -> Iterator[tuple[str, bool]]:
    """(fact key, whether the rule reads its absence) for every asserted fact a rule's tests read.

    The tests are those the compiler makes: a finding or derive rule's ``when``; a
    requirement's ``applies`` both ways (applies / not applies), its ``met`` as written,
    and its ``unmet`` as written or, when absent, ``met`` negated.
    """
    if rule.kind != "requirement":
        yield from _atoms(rule.when)
        return
    for key, negative in _atoms(rule.applies):
        yield key, negative
        yield key, not negative
    for key, negative in _atoms(rule.met):
        yield key, negative
        if rule.unmet is None:
            yield key, not negative
    yield from _atoms(rule.unmet)


def stratify(rules: Iterable[m.Rule], max_joined: int | None = None) -> tuple[dict[str, int], list[str]]:
    """(stratum of each rule id, the ids of rules caught in a cycle through ``not``, sorted).

    A rule sits at least as high as each rule whose conclusion it reads, and higher
    than each whose conclusion it reads the absence of. With ``max_joined``, a rule
    joining more asserted facts than that also sits higher than their producers, so it
    reads them as closure flags (durable_rules refuses a join of about 16 facts). Without
    a cycle the levels settle within one pass per rule (a chain of n rules written in
    reverse order needs n passes); the rules still rising after that are reported.
    """
    rules = list(rules)
    producers: dict[str, list[str]] = {}
    for rule in rules:
        key = conclusion(rule)
        if key is not None:
            producers.setdefault(key, []).append(rule.id)
    uses = {rule.id: list(rule_atoms(rule)) for rule in rules}
    lifted = set() if max_joined is None else \
        {rule_id for rule_id, atoms in uses.items() if len({k for k, negative in atoms if not negative}) > max_joined}
    level = dict.fromkeys(uses, 0)
    for _ in range(len(level) + 1):
        changed = False
        for rule_id, atoms in uses.items():
            for key, negative in atoms:
                for producer in producers.get(key, ()):
                    need = level[producer] + (1 if negative or rule_id in lifted else 0)
                    if need > level[rule_id]:
                        level[rule_id], changed = need, True
        if not changed:
            return level, []
    return level, sorted(r for r, v in level.items() if v >= len(level))
