"""Near misses: how far a cadre is from each threshold that decides a rule.

For every rule in force, each threshold comparison that *alone* decides the rule's
outcome (flipping it flips the rule) is measured in its own unit: votes for a share
of votes, years for an age, months for a duration, days for a date. "One more
dissatisfied vote would exceed 1/3"; "5 months more grassroots experience needed".
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language.jurisdiction import binding
from cadre_policy.run.evaluate import CadreResult, PolicyRunner
from cadre_policy.run.reasons import display
from cadre_policy.language.walk import walk
from cadre_policy.language.kleene import Evaluator, Ratio, compare, lookup, sort_key

SEARCH_LIMIT = 600     # no threshold in these documents is further than this many units away


@dataclass(frozen=True)
class NearMiss:
    rule: str
    provision: str
    outcome: str           # the finding or requirement code
    now: str               # fires | does not fire | met | unmet
    fact: str
    value: str
    op: str
    threshold: str
    distance: int          # in `unit`, always positive
    unit: str              # votes | years | months | days | units
    text: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class _Forced(Evaluator):
    """An evaluator that reads one leaf as forced to a given truth value."""

    def __init__(self, base: Evaluator, leaf, value: bool):
        self.__dict__.update(base.__dict__)
        self._leaf, self._value = leaf, value

    def holds(self, cond, scope):
        if cond is self._leaf:
            return self._value
        return super().holds(cond, scope)


def _leaves(cond):
    return (node for node in walk(cond) if isinstance(node, (m.Compare, m.Within)))


def _decisive(cond, leaf, scope, evaluator) -> bool:
    # a rule whose condition is unknown does not fire: compare "holds for certain" on both sides
    current = evaluator.holds(leaf, scope)
    if current is None:
        return False
    now = evaluator.holds(cond, scope) is True
    return (_Forced(evaluator, leaf, not current).holds(cond, scope) is True) != now


def _first_flip(test, start: int, low: int, high: int) -> int | None:
    """Smallest |k| > 0 with start + k in [low, high] for which test(start + k) differs from test(start)."""
    base = test(start)
    for k in range(1, SEARCH_LIMIT + 1):
        for signed in (k, -k):
            if low <= start + signed <= high and test(start + signed) != base:
                return signed
    return None


def _measure(leaf, scope: dict, evaluator: Evaluator):
    """(distance, unit, sentence) for one threshold leaf, or None when it cannot be measured."""
    if isinstance(leaf, m.Within):
        start = lookup(scope, leaf.subject)
        if start is None:
            return None
        end = periods.add_months(start, evaluator.months(leaf.period))
        days = (end - evaluator.as_of).days
        if days > 0:
            return days, "days", f"{days}天后届满（{end.isoformat()}）"
        return None
    value, kind = evaluator.subject(leaf, scope)
    if value is None or isinstance(leaf.value, m.FactRef):
        return None
    threshold = evaluator.value_of(leaf, scope, kind)
    if threshold is None:
        return None
    if kind.name == "fraction" and isinstance(value, Ratio):
        n, d = value
        target = threshold if isinstance(threshold, Fraction) else Fraction(threshold)
        k = _first_flip(lambda x: compare(leaf.op, Fraction(x, d), target), n, 0, d)
        if k is None:
            return None
        part = leaf.ratio_of[0] if leaf.ratio_of else leaf.subject
        verb = "多" if k > 0 else "少"
        return abs(k), "votes", f"{part} 再{verb}{abs(k)}票即为 {n + k}/{d}"
    if kind.name == "duration":
        k = _first_flip(lambda x: compare(leaf.op, x, threshold), value, 0, value + SEARCH_LIMIT * 32)
        if k is None:
            return None
        months = -(-abs(k) // periods.DAYS_PER_MONTH_SLOT)
        return months, "months", f"{'再满' if k > 0 else '少'}约{months}个月即越过 {display(threshold, kind)}"
    if kind.name == "integer":
        k = _first_flip(lambda x: compare(leaf.op, x, threshold), value, -10**9, 10**9)
        if k is None:
            return None
        unit = "years" if leaf.subject.endswith("age") else "units"
        return abs(k), unit, f"{leaf.subject} 为 {value + k} 时结论即改变"
    if kind.name == "date":
        current = sort_key(value, kind)
        k = _first_flip(lambda x: compare(leaf.op, periods.from_day_number(x), threshold),
                        periods.day_number(current), -10**7, 10**7)
        if k is None:
            return None
        return abs(k), "days", f"{leaf.subject} 相差{abs(k)}天结论即改变"
    return None


def near_misses(runner: PolicyRunner, result: CadreResult, margin: int | None = None) -> list[NearMiss]:
    """The threshold comparisons that decide each rule for this cadre, with the distance to flip them.

    Args:
        runner: the compiled policy set the result came from.
        result: one cadre's evaluation.
        margin: keep only those at most this many units away.
    """
    scope = result.scope
    # what the rules asserted, derived facts included: a rule chained through `derive:` reads them
    evaluator = Evaluator(runner.catalogue.resolve, runner.compiled.parameters, runner.as_of, result.asserted,
                          runner.policy_set.parameters)
    fired = {f.rule.id for f in result.findings}
    requirement_results = {r.rule.id: r.result for det in result.determinations.values()
                           for r in det["requirements"]}
    out = []
    for rule in sorted(runner.compiled.rules.values(), key=lambda r: r.order):
        if rule.kind == "finding":
            # a document that does not bind the cadre decides nothing for it: no threshold of it is near
            cond = m.All((binding(runner.policy_set, rule), rule.when))
            now = "fires" if rule.id in fired else "does not fire"
        elif rule.kind == "requirement" and requirement_results.get(rule.id) in ("met", "unmet"):
            cond, now = rule.met, requirement_results[rule.id]
        else:
            continue
        for leaf in _leaves(cond):
            if not _decisive(cond, leaf, scope, evaluator):
                continue
            measured = _measure(leaf, scope, evaluator)
            if measured is None:
                continue
            distance, unit, text = measured
            if margin is not None and distance > margin:
                continue
            value, kind = evaluator.subject(leaf, scope)
            if isinstance(leaf, m.Compare):
                threshold = str(display(evaluator.value_of(leaf, scope, kind), kind))
            else:
                threshold = periods.describe_duration(periods.threshold(evaluator.months(leaf.period)))
            out.append(NearMiss(rule.id, rule.provision, rule.code, now, leaf.subject, str(display(value, kind)),
                                getattr(leaf, "word", "within"), threshold, distance, unit, text))
    return out
