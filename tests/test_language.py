"""The language forms of issue 11: rank arithmetic, per-record quantifiers, first records,
distinct over several fields, exceptions and strength, and drafts carrying a whole document."""
from __future__ import annotations

from datetime import date

import pytest

from cadre_policy import data
from cadre_policy.load.drafts import load_draft
from cadre_policy.load.policyset import lint, load
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from policy_builder import write_set

ENGINES = ["durable", "python", "columnar"]
# 东山县 of 宜昌市 (bound by the 003 plan), and a township of 清江县 (江苏省, bound by 004)
UNITS = normalise_units({
    "YC": {"id": "YC", "name": "中共宜昌市委", "kind": "party_committee", "level": "city", "region": "宜昌市"},
    "T1": {"id": "T1", "name": "青石镇", "kind": "township", "level": "township", "parent": "PC"},
    "CITY": {"id": "CITY", "name": "市财政局", "kind": "department", "level": "city", "parent": "YC"},
    "GOV": {"id": "GOV", "name": "东山县人民政府", "kind": "government", "level": "county", "parent": "PC"},
    "PC": {"id": "PC", "name": "中共东山县委员会", "kind": "party_committee", "level": "county", "region": "东山县",
           "parent": "YC"},
    "QJ-T1": {"id": "QJ-T1", "name": "清江县龙泉镇", "kind": "township", "level": "township", "region": "清江县"}})


def _post(unit, title, rank, start, end=None, principal=False):
    post = {"unit": unit, "title": title, "rank": rank, "principal": principal, "leadership": True, "start": start}
    return dict(post, end=end) if end else post


def _cadre(posts, **extra):
    doc = {"id": "X1", "name": "测试", "gender": "male", "birth_date": date(1965, 3, 1), "party": "cpc",
           "posts": posts, "appraisals": [], "reviews": [], "nominations": [], "polls": [], "opinions": [],
           "assessments": []}
    return dict(doc, **extra)


@pytest.fixture(scope="module")
def library():
    return load(data.POLICIES)


@pytest.mark.parametrize("engine", ENGINES)
def test_audit_finds_an_early_insufficient_promotion_though_a_later_one_is_fine(library, engine):
    posts = [_post("CITY", "预算科科长", "section", date(2005, 1, 1), date(2014, 5, 31)),
             _post("GOV", "副县长", "deputy_county", date(2014, 6, 1), date(2016, 12, 31)),
             _post("PC", "县委书记", "county", date(2017, 1, 1), principal=True)]
    result = PolicyRunner(library, date(2017, 6, 30), engine).evaluate(_cadre(posts), UNITS)
    finding = next(f for f in result.findings if f.code == "grassroots_experience_insufficient")
    # the finding names the failing promotion: its date, unit and title
    assert finding.because == [{"fact": "insufficient_county_promotion", "op": "present",
                                "value": "2014-06-01 东山县人民政府 副县长", "holds": True, "provision": "P003-1"}]
    # the later promotion (2017-01-01, after 2 years 7 months at county level) is fine: with the early
    # one made sufficient (the section post in a township), nothing is found
    fixed = [dict(posts[0], unit="T1")] + posts[1:]
    result = PolicyRunner(library, date(2017, 6, 30), engine).evaluate(_cadre(fixed), UNITS)
    assert "grassroots_experience_insufficient" not in result.active_codes()


def test_rank_arithmetic_distinct_positions_and_first_record(library):
    posts = [_post("T1", "镇长", "section", date(2008, 1, 1), date(2011, 12, 31), principal=True),
             _post("T1", "镇长", "section", date(2012, 1, 1), date(2013, 12, 31), principal=True),
             _post("GOV", "副县长", "deputy_county", date(2014, 1, 1))]
    scope = PolicyRunner(library, date(2020, 6, 30), "python").evaluate(_cadre(posts), UNITS).scope
    assert scope["promotion"]["target_rank"] == "county"
    assert scope["principal_rank_of_target_level"] == "county"
    assert scope["promotion_steps"] == 1
    assert scope["first_post"]["start"] == date(2008, 1, 1)
    # two stints as 镇长 of 青石镇 are one position; the rank below county is deputy_county: one post there
    assert scope["lower_level_positions"] == 1
    assert scope["first_post_at_current_rank"]["start"] == date(2014, 1, 1)


@pytest.mark.parametrize("body,code,fragment", [
    ("""\
rules:
  - {id: p.req, title: 要求, provision: P004-1, quote: 凡选拔, requirement: appraisal_excellent,
     met: {fact: cadre.age, 以下: 50}}
  - {id: p.a, title: 例外甲, provision: P004-1, quote: 凡选拔, exception_to: [p.b, p.req], when: {fact: cadre.age, 以下: 40}}
  - {id: p.b, title: 例外乙, provision: P004-1, quote: 凡选拔, exception_to: [p.a], when: {fact: cadre.age, 以下: 30}}
""", "E407", "exceptions form a cycle: p.a -> p.b -> p.a"),
    ("""\
rules:
  - {id: p.a, title: 例外, provision: P004-1, quote: 凡选拔, exception_to: [p.nothing], when: {fact: cadre.age, 以下: 40}}
""", "E204", "unknown rule id 'p.nothing' in exception_to"),
])
def test_checker_rejects_exception_cycles_and_unknown_targets(tmp_path, body, code, fragment):
    _, diagnostics = lint(write_set(tmp_path / "set", {"p": body}))
    assert any(d.code == code and fragment in d.message for d in diagnostics), [str(d) for d in diagnostics]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exception_to_an_exception_suspends_it(tmp_path, engine):
    body = """\
rules:
  - {id: p.req, title: 要求, provision: P004-1, quote: 凡选拔, requirement: appraisal_excellent,
     met: {fact: cadre.age, 以下: 50}}
  - {id: p.waive, title: 例外, provision: P004-1, quote: 凡选拔, exception_to: [p.req],
     when: {fact: cadre.gender, eq: male}}
  - {id: p.unless, title: 例外的例外, provision: P004-1, quote: 凡选拔, exception_to: [p.waive],
     when: {fact: cadre.party, eq: non_cpc}}
"""
    policy_set = load(write_set(tmp_path / "set", {"p": body}))
    runner = PolicyRunner(policy_set, date(2017, 6, 30), engine)

    def outcome(**extra):
        clerk = [_post("T1", "科员", "clerk", date(2010, 1, 1))]       # a promotion in view: something to determine
        det = runner.evaluate(_cadre(clerk, **extra), UNITS).determinations["promotion"]
        return det["requirements"][0].result, det["eligibility"]

    assert outcome() == ("waived", "exception_required")
    assert outcome(party="non_cpc") == ("unmet", "ineligible")
    assert outcome(gender="female") == ("unmet", "ineligible")
    assert outcome(birth_date=date(1980, 1, 1)) == ("met", "eligible")


def test_a_draft_carries_a_whole_document(library):
    draft_set, draft, diagnostics = load_draft(data.DRAFTS / "new_document_township_principal.yaml", library)
    assert draft_set is not None, [str(d) for d in diagnostics]
    assert "township_principal_experience" in draft_set.outcomes.requirements
    assert "D2017-1" in draft_set.provisions and "D2017-1" not in library.provisions
    assert "township_principal_experience" not in library.outcomes.requirements
    posts = [_post("CITY", "预算科科长", "section", date(2005, 1, 1))]
    doc = _cadre(posts, appraisals=[{"year": 2016, "grade": "excellent", "date": date(2017, 1, 10)}])
    units = dict(UNITS, CITY=dict(UNITS["CITY"], level="county"))   # grassroots, so only the new rule decides
    base = PolicyRunner(library, date(2017, 6, 30), "python").evaluate(doc, units)
    new = PolicyRunner(draft_set, date(2017, 6, 30), "python").evaluate(doc, units)
    assert base.determinations["promotion"]["eligibility"] == "eligible"
    assert new.determinations["promotion"]["eligibility"] == "exception_required"


def test_a_draft_may_not_reuse_a_code_of_the_library(tmp_path, library):
    draft = tmp_path / "d.yaml"
    draft.write_text("""\
# yaml-language-server: $schema=../schemas/draft.schema.json
id: draft_x
title: 草案
outcomes:
  requirements:
    appraisal_excellent: {determination: promotion, title: 重复}
""", encoding="utf-8")
    draft_set, _, diagnostics = load_draft(draft, library)
    assert draft_set is None
    assert any(d.code == "E205" and "appraisal_excellent" in d.message for d in diagnostics)


def test_reasons_list_only_what_decided(library):
    """A true `any` gives the branch that held; a false `all` the part that failed."""
    posts = [_post("QJ-T1", "镇党委书记", "section", date(2012, 1, 1), principal=True)]
    doc = _cadre(posts, reviews=[{"date": date(2017, 3, 1), "total": 45, "dissatisfied": 16}], management="county")
    result = PolicyRunner(library, date(2017, 6, 30), "python").evaluate(doc, UNITS)
    admonish = next(f for f in result.findings if f.rule.id == "supervision.admonish")
    # the review's cycle (within five years) and the ratio that held: the `any` gives only its branch
    assert [e["fact"] for e in admonish.because] == ["latest_review.date", "latest_review.dissatisfied/latest_review.total"]
    excellent = next(r for r in result.determinations["promotion"]["requirements"] if r.code == "appraisal_excellent")
    assert excellent.result == "unknown" and [e["fact"] for e in excellent.because] == ["latest_appraisal.grade"]
