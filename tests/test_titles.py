"""Titles and notes that name a parameter show its value in force (language/titles.py)."""
from datetime import date
from fractions import Fraction

from cadre_policy import data
from cadre_policy.language.titles import fill, show_value, titled
from cadre_policy.load.drafts import load_draft
from cadre_policy.load.policyset import lint, load
from policy_builder import HEADER, write_set

DAY = date(2017, 6, 30)


def test_a_draft_that_raises_the_minimum_retitles_the_finding():
    baseline = load(data.POLICIES)
    draft_set, _, _ = load_draft(data.DRAFTS / "grassroots_3y.yaml", baseline)
    before, after = titled(baseline, DAY), titled(draft_set, DAY)
    code = "grassroots_experience_insufficient"
    assert before.outcomes.findings[code]["title"] == "新提拔副县级以上干部基层工作经历不足两年"
    assert after.outcomes.findings[code]["title"] == "新提拔副县级以上干部基层工作经历不足三年"
    assert after.rule("yichang_grassroots.two_years").title == "提拔副县级以上职务，须有三年以上基层工作经历"
    assert baseline.rule("yichang_grassroots.two_years").title == "提拔副县级以上职务，须有{grassroots_min}年以上基层工作经历"


def test_numbers_in_chinese_text():
    assert fill("不足{n}年", {"n": 2}.get) == "不足两年"
    assert fill("第{n}条", {"n": 2}.get) == "第二条"
    assert fill("超过{r}", {"r": Fraction(1, 3)}.get) == "超过三分之一"
    assert fill("{a}岁以下", {"a": 45}.get) == "45岁以下"
    assert fill("at least {n} years", {"n": 3}.get) == "at least 3 years"
    assert fill("字面 {{n}}", {"n": 3}.get) == "字面 {n}"
    assert show_value(Fraction(3, 10), True) == "十分之三"


def test_an_unknown_parameter_in_a_title_is_E211(tmp_path):
    body = HEADER.format(id="bad") + """\
parameters:
  min_years: {kind: years, title: 年限, values: {2008-01-01: 2}}
rules:
  - id: bad.r
    title: 不足{min_yeras}年
    provision: P004-5
    quote: 原文
    when: {fact: cadre.age, 以上: {years: {param: min_years}}}
    finding: admonishment_talk
"""
    directory = write_set(tmp_path / "p", {"bad": body})
    _, found = lint(directory)
    lines = [str(d) for d in found if d.code == "E211"]
    assert lines == [f"{directory}/bad.yaml:10:5: E211 unknown parameter 'min_yeras' named in the text "
                     "'不足{min_yeras}年' (did you mean 'min_years'?)"]
