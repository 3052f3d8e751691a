"""Every policy test case (policies/*.tests.yaml) runs on all three engines under pytest."""
from pathlib import Path

import pytest

from cadre_policy.load.policyset import load
from cadre_policy.run.columnar import ColumnarEngine
from cadre_policy.testing.cases import CaseRunner, load_cases, case_files

POLICIES = Path(__file__).resolve().parent.parent / "policies"
CASES = [case for path in case_files([POLICIES]) for case in load_cases(path)[0]]
assert len(CASES) > 100, "the policy library's test cases were not found"
RUNNERS = {}


def runner(engine: str) -> CaseRunner:
    if engine not in RUNNERS:
        RUNNERS[engine] = CaseRunner(load(POLICIES), engine)
    return RUNNERS[engine]


def test_case_files_load_without_problems():
    for path in case_files([POLICIES]):
        assert load_cases(path)[1] == [], path


@pytest.mark.parametrize("engine", ["durable", "python", "columnar"])
@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.file).name}:{c.line}:{c.name}" for c in CASES])
def test_policy_case(case, engine):
    result = runner(engine).run(case)
    assert result.passed, f"{case.file}:{case.line}: {case.name}\n  " + "\n  ".join(result.differences)


def test_engines_agree_on_every_case_including_traces():
    durable, python, columnar = runner("durable"), runner("python"), runner("columnar")
    for case in CASES:
        a = durable.engine_for(case.as_of).evaluate(case.cadre, case.units)
        b = python.engine_for(case.as_of).evaluate(case.cadre, case.units)
        c = columnar.engine_for(case.as_of).evaluate(case.cadre, case.units)
        assert a.signature() == b.signature() == c.signature(), f"{case.file}:{case.line}: {case.name}"


def test_columnar_engine_on_all_cases_of_a_date_at_once():
    """The cases of one evaluation date as one table: each row fires as the oracle does for that cadre."""
    python = runner("python")
    by_date = {}
    for case in CASES:
        by_date.setdefault(case.as_of, []).append(case)
    for as_of, cases in by_date.items():
        pe = python.engine_for(as_of)
        facts = [pe.facts(case.cadre, case.units)[1] for case in cases]
        matrix = ColumnarEngine(pe.compiled).run_facts(facts)
        for row, (case, fact) in enumerate(zip(cases, facts)):
            assert matrix.firings(row) == pe.engine.run(fact), f"{case.file}:{case.line}: {case.name}"
