"""What the durable engine cannot do is refused or rewritten at compile time; both engines agree."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from cadre_policy.load.policyset import load
from cadre_policy.run.evaluate import PolicyRunner
from policy_builder import write_set

AS_OF = date(2017, 6, 30)
ENGINES = ["durable", "python"]
BIG = 2**31 - 1     # the largest count the store holds

RATIO_SET = """\
parameters:
  threshold:
    kind: ratio
    title: 比例
    values: {2008-01-01: 1/3}
derived:
  last_review: {title: 最近一次评议, latest: reviews}
rules:
  - id: r.param
    title: 超过参数
    provision: P004-5
    quote: 原文
    when: {ratio: [last_review.dissatisfied, last_review.total], 超过: {param: threshold}}
    finding: admonishment_talk
  - id: r.literal
    title: 不低于字面值
    provision: P004-5
    quote: 原文
    when: {ratio: [last_review.dissatisfied, last_review.total], 以上: %s}
    finding: demotion_or_removal
"""


def _cadre(dissatisfied: int, total: int) -> dict:
    doc = {"id": "X1", "name": "测试", "gender": "male", "birth_date": date(1975, 1, 1), "party": "cpc"}
    for key in ("posts", "appraisals", "nominations", "polls", "opinions", "assessments"):
        doc[key] = []
    doc["reviews"] = [{"date": date(2017, 1, 1), "total": total, "dissatisfied": dissatisfied}]
    return doc


VOTES = [(0, 1), (1, 1), (1, 3), (2, 3), (1, BIG), (0, BIG), (BIG - 1, BIG), (BIG, BIG), (BIG // 2, BIG),
         (BIG // 2 + 1, BIG), (1, 10), (7, 45)]
FRACTIONS = [Fraction(1, 10**19), Fraction(10**19 - 1, 10**19), Fraction(1, 10**29), Fraction(BIG // 2, BIG),
             Fraction(BIG - 1, BIG - 2), Fraction(10**20, 3), Fraction(1, 3), Fraction(BIG, BIG - 1)]


@pytest.mark.parametrize("frac", FRACTIONS, ids=[f"{f.numerator}/{f.denominator}" for f in FRACTIONS])
def test_huge_fractions_compare_exactly_on_every_engine(tmp_path, frac):
    literal = f"{frac.numerator}/{frac.denominator}"
    policy_set = load(write_set(tmp_path / "p", {"ratio": RATIO_SET % literal}))
    runners = {engine: PolicyRunner(policy_set, AS_OF, engine, overrides={"ratio.threshold": frac})
               for engine in ENGINES}
    for dissatisfied, total in VOTES:
        share = Fraction(dissatisfied, total)
        expected = sorted([code for code, holds in (("admonishment_talk", share > frac),
                                                    ("demotion_or_removal", share >= frac)) if holds])
        for engine, runner in runners.items():
            assert runner.evaluate(_cadre(dissatisfied, total), {}).active_codes() == expected, \
                (engine, dissatisfied, total)


CHAIN_LINK = """\
  - id: s.{i}
    title: 第{i}层
    provision: P004-5
    quote: 原文
    when: {{{cond}}}
    derive: d{i}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_seventy_strata_in_reverse_order_are_no_cycle(tmp_path, engine):
    # d0 holds; d_i holds when d_(i-1) does not: a chain of 70 negations, written last link first
    links = [CHAIN_LINK.format(i=0, cond="fact: cadre.age, 以上: 0")]
    links += [CHAIN_LINK.format(i=i, cond=f"not: {{derived: d{i - 1}}}") for i in range(1, 70)]
    final = """\
  - id: s.end
    title: 结论
    provision: P004-5
    quote: 原文
    when: {derived: d69}
    finding: admonishment_talk
"""
    policy_set = load(write_set(tmp_path / "p", {"chain": "rules:\n" + final + "".join(reversed(links))}))
    runner = PolicyRunner(policy_set, AS_OF, engine)
    assert len(runner.compiled.strata) == 70
    # d0, d2, d4 ... hold; d69 (odd) does not
    assert runner.evaluate(_cadre(0, 1), {}).active_codes() == []


def _rule(name: str, when: str, outcome: str) -> str:
    return (f"  - id: r.{name}\n    title: 规则\n    provision: P004-5\n    quote: 原文\n"
            f"    when: {when}\n    {outcome}\n")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("joined", [16, 64])
def test_a_rule_joining_many_derived_facts_runs_on_every_engine(tmp_path, engine, joined):
    # durable_rules refused the fact from 16 joined facts (SIGABRT at 63-64): the compiler moves
    # such a rule one stratum later, where it reads the facts as flags
    rules = [_rule(f"d{i}", "{fact: cadre.age, 以上: %d}" % i, f"derive: d{i}") for i in range(joined)]
    rules.append(_rule("end", "{all: [%s]}" % ", ".join(f"{{derived: d{i}}}" for i in range(joined)),
                       "finding: admonishment_talk"))
    policy_set = load(write_set(tmp_path / "p", {"joins": "rules:\n" + "".join(rules)}))
    runner = PolicyRunner(policy_set, AS_OF, engine)
    assert len(runner.compiled.strata) == 2
    young, old = _cadre(0, 1), dict(_cadre(0, 1), birth_date=date(1900, 1, 1))
    assert runner.evaluate(old, {}).active_codes() == ["admonishment_talk"]       # aged 117: every d_i
    assert runner.evaluate(young, {}).active_codes() == ([] if joined > 42 else ["admonishment_talk"])


def test_a_condition_that_expands_beyond_the_engine_is_a_lint_error_with_its_place(tmp_path):
    from cadre_policy.validate.policy import MAX_DNF_TERMS
    from cadre_policy.load.policyset import lint
    pairs = ", ".join("{any: [{fact: cadre.age, 以上: %d}, {fact: cadre.age, 以下: %d}]}" % (i, 200 - i)
                      for i in range(13))
    write_set(tmp_path / "p", {"wide": "rules:\n" + _rule("wide", "{all: [%s]}" % pairs, "finding: admonishment_talk")})
    _, diagnostics = lint(tmp_path / "p")
    [error] = [d for d in diagnostics if d.code == "E406"]
    assert (error.location.line, error.location.column) == (8, 5) and "8,192 alternatives" in error.message
    assert f"at most {MAX_DNF_TERMS:,}" in error.message
