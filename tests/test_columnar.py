"""The columnar engine agrees with durable_rules and the plain-Python oracle, cadre by cadre:
on a generated population and on hypothesis-generated cadres at the boundaries (exact
thirds and halves, anniversaries, month-ends)."""
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numpy as np

from cadre_policy.generate.population import generate
from cadre_policy.language import periods
from cadre_policy.load.policyset import load
from cadre_policy.run.columnar import ColumnarEngine, FactTable
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.record.columns import from_documents
from cadre_policy.run.evaluate import PolicyRunner, normalise_units

POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = date(2017, 6, 30)
POPULATION = 10_000


@pytest.fixture(scope="module")
def policy_set():
    return load(POLICIES)


@pytest.fixture(scope="module")
def runners(policy_set):
    return {engine: PolicyRunner(policy_set, AS_OF, engine, name=f"columnar_test_{engine}")
            for engine in ("durable", "python")}


def assert_same_tables(expected: FactTable, got: FactTable, docs) -> None:
    """The same columns: presence, numbers and text, cadre by cadre (the first difference named)."""
    for path in sorted(set(expected.columns) | set(got.columns)):
        a, b = expected.column(path), got.column(path)
        assert a is not None and b is not None, f"{path}: only in {'derived in columns' if a is None else 'per cadre'}"
        rows = np.flatnonzero(a.present != b.present)
        assert not len(rows), f"{path} present for {docs[rows[0]]['id']}: {a.present[rows[0]]} / {b.present[rows[0]]}"
        for kind in ("num", "text"):
            va, ma, vb, mb = getattr(a, kind), getattr(a, kind + "_mask"), getattr(b, kind), getattr(b, kind + "_mask")
            assert (va is None) == (vb is None), f"{path}: {kind} values on one side only"
            if va is None:
                continue
            differs = np.flatnonzero((ma != mb) | (ma & (va != vb)))
            assert not len(differs), (f"{path} ({kind}) for {docs[differs[0]]['id']}: "
                                      f"{va[differs[0]] if ma[differs[0]] else None} / "
                                      f"{vb[differs[0]] if mb[differs[0]] else None}")


def _agree(runners, docs, units):
    """Every cadre: the same derived facts in columns as one by one, and the same firings on all
    three engines (findings and requirements are assembled from the firings alone, so the same
    firings give the same results; test_policy_cases compares the assembled results too)."""
    python, durable = runners["python"], runners["durable"]
    facts = [python.facts(doc, units)[1] for doc in docs]
    assert_same_tables(FactTable.from_facts(facts), ColumnarDeriver(python).table(from_documents(docs), units), docs)
    matrix = ColumnarEngine(python.compiled).run_facts(facts)
    for row, (doc, fact) in enumerate(zip(docs, facts)):
        assert matrix.firings(row) == python.engine.run(fact) == durable.engine.run(fact), doc["id"]
    return matrix


def test_three_engines_agree_on_a_generated_population(runners):
    units, cadres = generate(POPULATION, 5, AS_OF)
    units = normalise_units({u["id"]: u for u in units})
    matrix = _agree(runners, list(cadres), units)
    fired_tests = {matrix.tests[j] for j in range(len(matrix.tests)) if matrix.fired[:, j].any()}
    assert len(fired_tests) > 20     # the population reaches most of the rules, not a trivial few


@pytest.mark.parametrize("as_of", [date(2013, 12, 31), date(2016, 2, 29), date(2019, 12, 31)])
def test_derivation_in_columns_at_other_dates(policy_set, as_of):
    """Other rules in force, windows ending on a leap day, the 2019 regulation's quantities."""
    units, cadres = generate(3_000, 8, date(2019, 12, 31))
    units = normalise_units({u["id"]: u for u in units})
    _agree({engine: PolicyRunner(policy_set, as_of, engine, name=f"dated_{engine}") for engine in ("durable", "python")},
           list(cadres), units)


# ---- hypothesis: cadres at the boundaries -----------------------------------------------------------
UNITS, _ = generate(40, 3, AS_OF)
UNIT_BY_ID = normalise_units({u["id"]: u for u in UNITS})
UNIT_IDS = sorted(UNIT_BY_ID)
RANKS = ["clerk", "deputy_section", "section", "deputy_county", "county"]
MONTH_ENDS = [date(2017, 2, 28), date(2016, 2, 29), date(2017, 6, 30), date(2016, 12, 31), date(2017, 1, 31)]


@st.composite
def boundary_day(draw, as_of):
    """A day at an anniversary (whole years or months before ``as_of``), or the day either side."""
    years = draw(st.integers(0, 8))
    months = draw(st.sampled_from([0, 3, 6]))
    day = periods.add_months(as_of, -(years * 12 + months))
    return day + timedelta(days=draw(st.sampled_from([-1, 0, 1])))


@st.composite
def votes(draw):
    """(part, total) at exactly a third or a half of the total, or one vote either side."""
    total = draw(st.integers(1, 20)) * 6
    share = draw(st.sampled_from([3, 2]))
    return max(0, total // share + draw(st.sampled_from([-1, 0, 1]))), total


@st.composite
def cadre(draw, as_of, n):
    posts = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(boundary_day(as_of))
        post = {"start": start, "rank": draw(st.sampled_from(RANKS)), "unit": draw(st.sampled_from(UNIT_IDS)),
                "title": "职务", "principal": draw(st.booleans()), "leadership": draw(st.booleans()),
                "middle_level": draw(st.booleans())}
        grassroots = draw(st.sampled_from([None, True, False]))
        if grassroots is not None:
            post["grassroots"] = grassroots
        if draw(st.booleans()):
            post["end"] = draw(boundary_day(as_of))
            if post["end"] <= start:
                del post["end"]
        posts.append(post)
    posts.sort(key=lambda p: p["start"])
    reviews = []
    for _ in range(draw(st.integers(0, 2))):
        day = draw(boundary_day(as_of))
        dissatisfied, total = draw(votes())
        checks = [{"stage": stage, "date": periods.add_months(day, months),
                   "result": draw(st.sampled_from(["effective", "ineffective"]))}
                  for stage, months in (("three_month", 3), ("six_month", 6)) if draw(st.booleans())]
        reviews.append({"date": day, "dissatisfied": dissatisfied, "total": total, "rectification": checks})
    appraisals = [{"year": year, "date": date(year + 1, 1, 15),
                   "grade": draw(st.sampled_from(["excellent", "competent", "basically_competent", "incompetent"]))}
                  for year in range(as_of.year - draw(st.integers(0, 4)), as_of.year)]
    approve, total = draw(votes())
    polls = [{"date": draw(boundary_day(as_of)), "approve": total - approve, "total": total}] if draw(st.booleans()) else []
    nominations = [{"date": draw(boundary_day(as_of)), "target_rank": draw(st.sampled_from(RANKS)),
                    "target_unit": draw(st.sampled_from(UNIT_IDS)), **({"exceptional": True} if draw(st.booleans()) else {})}
                   for _ in range(draw(st.integers(0, 2)))]
    nominations.sort(key=lambda n: n["date"])
    doc = {"id": f"H{n:03d}", "name": "测试", "gender": draw(st.sampled_from(["male", "female"])),
           "birth_date": periods.add_months(draw(boundary_day(as_of)), -12 * draw(st.sampled_from([30, 40, 45, 50]))),
           "management": draw(st.sampled_from(["county", "city"])), "posts": posts, "reviews": reviews,
           "appraisals": appraisals, "polls": polls, "opinions": [], "assessments": [], "nominations": nominations}
    if draw(st.booleans()):
        doc["recruitment"] = {"date": draw(boundary_day(as_of)), "unit": draw(st.sampled_from(UNIT_IDS)),
                              "fresh_graduate": draw(st.booleans())}
    return doc


@st.composite
def population(draw):
    as_of = draw(st.sampled_from(MONTH_ENDS))
    return as_of, [draw(cadre(as_of, n)) for n in range(draw(st.integers(1, 12)))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(population())
def test_three_engines_agree_at_the_boundaries(policy_set, population):
    as_of, docs = population
    runners = _RUNNERS.get(as_of)
    if runners is None:
        runners = _RUNNERS[as_of] = {engine: PolicyRunner(policy_set, as_of, engine, name=f"boundary_{engine}")
                                     for engine in ("durable", "python")}
    _agree(runners, docs, UNIT_BY_ID)


_RUNNERS: dict = {}


def test_exact_fractions_beyond_int64():
    """Cross-multiplication stays exact where int64 would overflow (Python ints are used)."""
    from cadre_policy.compile import ir
    big = 2 ** 62
    formula = ir.Linear("r.n", 3, "r.d", 1, ">")
    compiled = ir.CompiledSet("t", AS_OF, [ir.Stratum((ir.RuleTest("x", "fire", formula, "finding:x"),))],
                              {}, [], {}, {})
    facts = [{"r": {"n": big + 1, "d": 3 * big + 2}}, {"r": {"n": big + 1, "d": 3 * big + 3}},
             {"r": {"n": 5, "d": 14}}, {"r": {"n": 5, "d": 15}}]
    matrix = ColumnarEngine(compiled).run_facts(facts)
    assert [bool(matrix.fired[i, 0]) for i in range(4)] == [True, False, True, False]


@pytest.mark.parametrize("name", sorted(p.stem for p in (POLICIES.parent / "drafts").glob("*.yaml")))
def test_a_draft_derives_again_only_what_it_changes(policy_set, name):
    """A draft's derivation that reuses the baseline's (``derive(reuse=…)``) lays out the same table as
    its own from scratch; the quantities whose definition and parameters are the same are taken, not
    derived again."""
    from cadre_policy.load.drafts import load_draft
    draft_set, _, _ = load_draft(POLICIES.parent / "drafts" / f"{name}.yaml", policy_set)
    base = ColumnarDeriver(PolicyRunner(policy_set, AS_OF, "python", name="reuse_base"))
    draft = ColumnarDeriver(PolicyRunner(draft_set, AS_OF, "python", name="reuse_draft"))
    units, cadres = generate(1500, 17, AS_OF)
    units = normalise_units({u["id"]: u for u in units})
    docs = list(cadres)
    pop = from_documents(docs)
    derived_b = base.derive(pop, units)
    reused = draft.derive(pop, units, reuse=derived_b)
    assert_same_tables(draft.table(from_documents(docs), units), reused.table(), docs)
    same = {n for n, key in draft.keys().items() if base.keys().get(n) == key}
    for spec in draft.compiled.derived:
        for found, theirs in ((reused.values, derived_b.values), (reused.refs, derived_b.refs)):
            if spec.name in found:
                assert (found[spec.name] is theirs.get(spec.name)) == (spec.name in same), spec.name
    if name == "grassroots_3y":     # one parameter read inside one `some … satisfies`: few derived again
        assert 0 < len(set(draft.keys()) - same) < len(same)
