"""The engine: forward chaining, order independence, isolation, boundaries, both engines agree."""
import random
from datetime import date
from pathlib import Path

import pytest

from cadre_policy.run.columnar import ColumnarEngine
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.load.policyset import load
from cadre_policy.generate.population import generate
from policy_builder import write_set

POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = date(2017, 6, 30)
ENGINES = ["durable", "python", "columnar"]

CHAIN_RULES = [
    """\
  - id: chain.weak
    title: 基本称职
    provision: P004-2
    quote: 考评中确定为"基本称职"的干部
    when: {fact: latest_appraisal.grade, eq: basically_competent}
    derive: weak_appraisal
""",
    """\
  - id: chain.flag
    title: 需要处理
    provision: P004-2
    quote: 进行诫勉谈话
    when: {derived: weak_appraisal}
    derive: needs_action
""",
    """\
  - id: chain.bar
    title: 一年内不得提拔
    provision: P004-2
    quote: 一年内不得提拔使用
    when: {all: [{derived: needs_action}, {fact: latest_appraisal.date, within: {years: 1}}]}
    finding: promotion_barred
""",
    """\
  - id: chain.no_bar
    title: 无提拔限制
    provision: P004-2
    quote: 一年内不得提拔使用
    requirement: no_promotion_bar
    met: {not: {finding: promotion_barred}}
""",
]
DERIVED = """\
derived:
  latest_appraisal: {title: 最近一次年度考核, latest: appraisals}
"""


def chain_set(directory: Path, order) -> Path:
    rules = "rules:\n" + "".join(CHAIN_RULES[i] for i in order)
    return write_set(directory, {"chain": DERIVED + rules})


def cadre(**records):
    # a clerk since 2010: a promotion is in view, so the promotion requirements are determined
    doc = {"id": "X1", "name": "测试", "gender": "male", "birth_date": date(1975, 1, 1), "party": "cpc",
           "posts": [{"unit": "U", "title": "科员", "rank": "clerk", "start": date(2010, 1, 1)}],
           "appraisals": [], "reviews": [], "nominations": [], "polls": [], "opinions": [], "assessments": []}
    doc.update(records)
    return doc


@pytest.mark.parametrize("engine", ENGINES)
def test_forward_chaining_over_three_steps_then_stratified_negation(tmp_path, engine):
    policy_set = load(chain_set(tmp_path, [0, 1, 2, 3]))
    evaluator = PolicyRunner(policy_set, AS_OF, engine)
    result = evaluator.evaluate(cadre(appraisals=[{"year": 2016, "grade": "basically_competent",
                                                   "date": date(2016, 7, 1)}]), {})
    assert result.active_codes() == ["promotion_barred"]
    fired = [(rule, test) for rule, test, *_ in result.trace]
    assert ("chain.weak", "fire") in fired and ("chain.flag", "fire") in fired and ("chain.bar", "fire") in fired
    requirement = result.determinations["promotion"]["requirements"][0]
    assert (requirement.code, requirement.result) == ("no_promotion_bar", "unmet")
    assert len(evaluator.compiled.strata) == 2   # the negation reads the bar after it is final

    # the last day of the year (2017-07-01) still counts; the day after, the chain stops at the last step
    later = PolicyRunner(policy_set, date(2017, 7, 2), engine).evaluate(
        cadre(appraisals=[{"year": 2016, "grade": "basically_competent", "date": date(2016, 7, 1)}]), {})
    assert later.active_codes() == []
    assert later.determinations["promotion"]["requirements"][0].result == "met"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_chained_through_derived_facts_reports_its_near_miss(tmp_path, engine):
    # chain.bar reads {derived: needs_action}: its window closes one day after the evaluation date
    from cadre_policy.explain.near import NearMiss, near_misses
    runner = PolicyRunner(load(chain_set(tmp_path, [0, 1, 2, 3])), AS_OF, engine)
    doc = cadre(appraisals=[{"year": 2016, "grade": "basically_competent", "date": date(2016, 7, 1)}])
    result = runner.evaluate(doc, {})
    assert result.asserted == {"derived:weak_appraisal", "derived:needs_action", "finding:promotion_barred"}
    assert near_misses(runner, result) == [
        NearMiss("chain.bar", "P004-2", "promotion_barred", "fires", "latest_appraisal.date", "2016-07-01",
                 "within", "1年", 1, "days", "1天后届满（2017-07-01）")]
    assert near_misses(runner, result, margin=0) == []
    # the day the window closes: the bar no longer fires and nothing is near
    later = PolicyRunner(runner.policy_set, date(2017, 7, 1), engine)
    assert near_misses(later, later.evaluate(doc, {})) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_rule_order_does_not_change_results(tmp_path, engine):
    doc = cadre(appraisals=[{"year": 2016, "grade": "basically_competent", "date": date(2016, 7, 1)}])
    results = []
    orders = [[0, 1, 2, 3], [3, 2, 1, 0]] + [random.Random(seed).sample(range(4), 4) for seed in range(4)]
    for n, order in enumerate(orders):
        result = PolicyRunner(load(chain_set(tmp_path / f"o{n}", order)), AS_OF, engine).evaluate(doc, {})
        findings, reqs, elig, trace = result.signature()
        results.append((findings, reqs, elig, sorted(trace)))
    assert all(r == results[0] for r in results)


def test_two_policy_sets_in_one_process_do_not_touch_each_other():
    from fractions import Fraction
    policy_set = load(POLICIES)
    doc = cadre(management="county", reviews=[{"date": date(2017, 3, 1), "total": 45, "dissatisfied": 14}],
                posts=[{"unit": "DS-T1", "title": "镇党委书记", "rank": "section", "principal": True,
                        "leadership": True, "start": date(2012, 1, 1)}])
    units = normalise_units({"DS-T1": {"id": "DS-T1", "name": "镇", "kind": "township", "level": "township",
                                       "region": "清江县"}})
    baseline = PolicyRunner(policy_set, AS_OF, "durable", name="baseline")
    draft = PolicyRunner(policy_set, AS_OF, "durable", name="draft",
                         overrides={"supervision.admonish_ratio": Fraction(3, 10)})
    first = baseline.evaluate(doc, units).signature()
    assert "admonishment_talk" in draft.evaluate(doc, units).active_codes()   # 14/45 > 3/10
    assert baseline.evaluate(doc, units).signature() == first                 # 14/45 is not > 1/3
    assert "admonishment_talk" not in baseline.evaluate(doc, units).active_codes()


def test_states_are_deleted_after_each_evaluation():
    # durable_rules allows 1024 live states per ruleset: 3,000 evaluations prove none is left behind
    policy_set = load(POLICIES)
    evaluator = PolicyRunner(policy_set, AS_OF, "durable", name="leak")
    units, cadres = generate(3000, 7, AS_OF)
    units = normalise_units({u["id"]: u for u in units})
    cadres = list(cadres)
    ids = [evaluator.evaluate(doc, units).cadre_id for doc in cadres]
    assert ids == [doc["id"] for doc in cadres] and len(set(ids)) == 3000


@pytest.mark.parametrize("dissatisfied,expected", [(15, []), (16, ["admonishment_talk"])])
def test_one_third_is_exclusive(dissatisfied, expected):
    doc = cadre(reviews=[{"date": date(2017, 3, 1), "total": 45, "dissatisfied": dissatisfied}],
                posts=[{"unit": "QJ-T1", "title": "副镇长", "rank": "deputy_section", "start": date(2010, 1, 1)}])
    units = normalise_units({"QJ-T1": {"id": "QJ-T1", "name": "清江县龙泉镇", "kind": "township", "level": "township",
                                       "region": "清江县"}})
    for engine in ENGINES:
        result = PolicyRunner(load(POLICIES), AS_OF, engine).evaluate(doc, units)
        assert result.active_codes() == expected


@pytest.mark.slow       # a random population; the conformance corpus holds the edges in the fast suite
@pytest.mark.parametrize("as_of,size", [(AS_OF, 10000), (date(2020, 6, 30), 3000)])
def test_engines_agree_on_a_seeded_population_of_10000(as_of, size):
    """On the Yichang plan period, and under 条例（2019） (exceptions, 一般应当, rank arithmetic)."""
    policy_set = load(POLICIES)
    durable = PolicyRunner(policy_set, as_of, "durable", name="agree_d")
    python = PolicyRunner(policy_set, as_of, "python", name="agree_p")
    units, cadres = generate(size, 20261122, as_of)
    units = normalise_units({u["id"]: u for u in units})
    fired_codes, results = set(), set()
    docs = list(cadres)
    facts = [durable.facts(doc, units) for doc in docs]
    columnar = ColumnarEngine(python.compiled).run_facts([fact for _, fact in facts])
    for row, (doc, (scope, fact)) in enumerate(zip(docs, facts)):
        firings = python.engine.run(fact)
        a = durable.assemble(doc, scope, fact, durable.engine.run(fact))
        b = python.assemble(doc, scope, fact, firings)
        assert a.signature() == b.signature(), doc["id"]
        assert columnar.firings(row) == firings, doc["id"]
        fired_codes.update(a.active_codes())
        results.update(f"{r.code}:{r.result}" for d in a.determinations.values() for r in d["requirements"])
        results.update(d["eligibility"] for d in a.determinations.values())
    assert len(fired_codes) >= (8 if as_of == AS_OF else 3)   # the population exercises most of the library
    if as_of.year >= 2019:      # and the regulation's forms: waived, 一般应当, 越级
        assert {"exception_required", "two_lower_level_posts:unmet", "rank_tenure:met",
                "exceptional_allowed:met"} <= results
        assert any(r.endswith(":waived") for r in results)
        assert "skip_level_promotion" in fired_codes


def test_rulesets_split_across_partitions_still_chain(monkeypatch):
    # durable_rules allows 64 alpha branches per fact; a stratum with more rules is split into
    # several rulesets run to a fixed point. Force tiny partitions and compare with the oracle.
    from cadre_policy.run.backends import durable
    from cadre_policy.testing.cases import CaseRunner, case_files, load_cases
    monkeypatch.setattr(durable, "MAX_RULES_PER_RULESET", 3)
    policy_set = load(POLICIES)
    split, oracle = CaseRunner(policy_set, "durable"), CaseRunner(policy_set, "python")
    assert len(split.engine_for(AS_OF).engine.strata[0]) > 3
    for path in case_files([POLICIES]):
        for case in load_cases(path)[0]:
            a = split.engine_for(case.as_of).evaluate(case.cadre, case.units)
            b = oracle.engine_for(case.as_of).evaluate(case.cadre, case.units)
            assert a.signature() == b.signature(), case.name
