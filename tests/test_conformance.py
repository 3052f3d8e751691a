"""The conformance corpus (tests/conformance/): edge data by name, run on every engine and derivation.

Each case of ``conformance/cases/*.yaml`` gives a cadre, an evaluation date and what the language
means for it: the value of facts (``expect.facts``: a derived quantity or built-in fact by path;
``null`` = not on record; a mapping = the fields of the record it is) and whether named
conditions hold (``expect.holds``: true / false / unknown). It runs on

- the per-cadre derivation (``run/derive.py``): the facts are compared with the expectation;
- durable_rules, the Python engine and the columnar engine for one cadre, and the Kleene
  evaluator that reasons and `where` filters use (``language/kleene.py``): the probes;
- the columnar derivation and engine for the population of all cases of one date at once
  (``run/columnar``): the derived table must equal the per-cadre one, column by column, and the
  firings those of the expectation.

``conformance/exceptions.yaml`` names a (case, runner) that is known to differ, each with its
reason; an exception that no longer differs fails too, so the file stays true.
"""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from cadre_policy.language.kleene import Evaluator, Ratio, lookup
from cadre_policy.load.policyset import load
from cadre_policy.record.canonical import RECORD_LISTS, canonical_cadre
from cadre_policy.record.columns import from_documents
from cadre_policy.run.columnar import ColumnarEngine, FactTable
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from test_columnar import assert_same_tables

HERE = Path(__file__).resolve().parent / "conformance"
OUTCOMES = "determinations: {promotion: {title: 提拔任用资格}}\nfindings: {}\nrequirements: {}\n"
ENGINES = ("durable", "python", "columnar")
RULE = {"provision": "T-1", "section": "—", "quote": "—"}


def probe_policy() -> tuple[dict, list[str]]:
    """The probes file as a policy: each named condition becomes two `derive:` rules."""
    doc = yaml.safe_load((HERE / "probes.yaml").read_text(encoding="utf-8"))
    conditions = doc.pop("conditions")
    doc["rules"] = [dict(RULE, id=f"conformance.{name}_{side}", title=f"{name} {side}", derive=f"{name}_{side}",
                         when=cond if side == "true" else {"not": cond})
                    for name, cond in conditions.items() for side in ("true", "false")]
    # a quantity is derived only when a rule reads it: one rule reads each
    doc["rules"] += [dict(RULE, id=f"conformance.seen_{name}", title=f"{name} seen", derive=f"seen_{name}",
                          when={"present": name}) for name in doc["derived"]]
    return doc, list(conditions)


@pytest.fixture(scope="module")
def policy_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conformance")
    (folder / "outcomes.yaml").write_text(OUTCOMES, encoding="utf-8")   # probes conclude no outcome
    doc, _ = probe_policy()
    (folder / "conformance.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    return load(folder)


def load_corpus() -> list[dict]:
    cases = []
    units = yaml.safe_load((HERE / "units.yaml").read_text(encoding="utf-8"))["units"]
    units = normalise_units({u["id"]: u for u in units})
    for path in sorted((HERE / "cases").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            cadre = {"id": f"K{len(cases):04d}", "name": "测试", "gender": "female", "party": "cpc",
                     **(raw.get("cadre") or {})}
            for name, _ in RECORD_LISTS:
                cadre.setdefault(name, [])
            cases.append({"id": f"{path.stem}: {raw['name']}", "as_of": raw.get("as_of", data.get("as_of")),
                          "cadre": canonical_cadre(cadre), "units": units, "expect": raw.get("expect") or {}})
    return cases


CASES = load_corpus()
EXCEPTIONS = yaml.safe_load((HERE / "exceptions.yaml").read_text(encoding="utf-8")) or {}
_RUNNERS: dict = {}


def runner(policy_set, as_of: date, engine: str) -> PolicyRunner:
    key = (as_of, engine)
    if key not in _RUNNERS:
        _RUNNERS[key] = PolicyRunner(policy_set, as_of, engine, name=f"conformance_{engine}")
    return _RUNNERS[key]


def _expected_matches(expected, got) -> bool:
    if expected is None:
        return got is None
    if isinstance(expected, dict) and isinstance(got, dict):
        return all(_expected_matches(v, lookup(got, k)) for k, v in expected.items())
    if isinstance(expected, dict) and set(expected) <= {"months", "days"}:       # a duration
        return got == expected.get("months", 0) * 32 + expected.get("days", 0)
    if isinstance(got, Ratio):
        return got.fraction == Fraction(str(expected))
    if isinstance(got, dict) and isinstance(expected, (str, int)):               # a unit reference
        return got.get("id") == expected
    return got == expected


def _holds(firings, probe: str) -> str:
    yes, no = f"derived:{probe}_true" in firings.asserted, f"derived:{probe}_false" in firings.asserted
    assert not (yes and no), f"{probe} both holds and fails"
    return "true" if yes else "false" if no else "unknown"


def _expect_or_excepted(case_id: str, where: str, differences: list[str]) -> None:
    reason = EXCEPTIONS.get(f"{case_id} @ {where}")
    if reason:
        assert differences, f"exception '{case_id} @ {where}' ({reason}) no longer differs: remove it"
    else:
        assert not differences, f"{case_id} @ {where}:\n  " + "\n  ".join(differences)


def test_the_corpus_is_read():
    assert len(CASES) >= 50
    names = [c["id"] for c in CASES]
    assert len(names) == len(set(names)), "case names are unique within a file"
    assert all(c["expect"] for c in CASES), "every case expects something"
    _, probes = probe_policy()
    used = {p for c in CASES for p in c["expect"].get("holds", {})}
    assert used == set(probes), f"probes without a case: {sorted(set(probes) - used)}"


def test_every_form_of_derived_quantity_has_a_probe():
    from cadre_policy.language.model import RECORD_FORMS
    doc, _ = probe_policy()
    forms = {next(k for k in spec if k not in ("title", "note", "where", "within", "since", "distinct", "at",
                                                 "satisfies", "step", "level"))
             for spec in doc["derived"].values()}
    assert forms >= set(RECORD_FORMS) | {"elapsed", "ratio", "age", "rank", "steps"}, forms


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_per_cadre_derivation(policy_set, case):
    scope, _fact = runner(policy_set, case["as_of"], "python").facts(case["cadre"], case["units"])
    differences = [f"{path}: expected {want!r}, derived {lookup(scope, path)!r}"
                   for path, want in case["expect"].get("facts", {}).items()
                   if not _expected_matches(want, lookup(scope, path))]
    _expect_or_excepted(case["id"], "derive", differences)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_kleene_evaluator_for_one_cadre(policy_set, case):
    """language/kleene.py, which reasons and `where` filters use, on the probes' own conditions."""
    pe = runner(policy_set, case["as_of"], "python")
    scope = pe.facts(case["cadre"], case["units"])[0]
    evaluator = Evaluator(pe.catalogue.resolve, pe.compiled.parameters, case["as_of"], frozenset(),
                          policy_set.parameters)
    words = {True: "true", False: "false", None: "unknown"}
    differences = []
    for probe, want in case["expect"].get("holds", {}).items():
        got = words[evaluator.holds(policy_set.rule(f"conformance.{probe}_true").when, scope)]
        if got != want:
            differences.append(f"{probe}: expected {want}, got {got}")
    _expect_or_excepted(case["id"], "kleene", differences)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_engine_for_one_cadre(policy_set, case, engine):
    pe = runner(policy_set, case["as_of"], engine)
    firings = pe.engine.run(pe.facts(case["cadre"], case["units"])[1])
    differences = [f"{probe}: expected {want}, got {_holds(firings, probe)}"
                   for probe, want in case["expect"].get("holds", {}).items() if _holds(firings, probe) != want]
    _expect_or_excepted(case["id"], engine, differences)


def test_columnar_derivation_and_engine_over_each_date(policy_set):
    """All cases of one date as one population: the derivation in columns equals the per-cadre one
    column by column, and the columnar engine over that table fires what the cases expect."""
    by_date: dict = {}
    for case in CASES:
        by_date.setdefault(case["as_of"], []).append(case)
    for as_of, cases in sorted(by_date.items()):
        python = runner(policy_set, as_of, "python")
        units = cases[0]["units"]
        docs = [case["cadre"] for case in cases]
        per_cadre = FactTable.from_facts([python.facts(doc, units)[1] for doc in docs])
        in_columns = ColumnarDeriver(python).table(from_documents(docs), units)
        assert_same_tables(per_cadre, in_columns, docs)
        matrix = ColumnarEngine(python.compiled).run_table(in_columns)
        for row, case in enumerate(cases):
            differences = [f"{probe}: expected {want}, got {_holds(matrix.firings(row), probe)}"
                           for probe, want in case["expect"].get("holds", {}).items()
                           if _holds(matrix.firings(row), probe) != want]
            _expect_or_excepted(case["id"], "population", differences)


@pytest.mark.parametrize("as_of", [date(2017, 6, 30), date(2017, 2, 28), date(2016, 2, 29), date(2017, 3, 1),
                                   date(2016, 12, 31)])
def test_sql_ages_mean_completed_years(as_of):
    """Structure counts compare ages in SQL through a birth-date bound (aggregate/sql.py ``born_by``):
    the bound is the last birth date with the completed years of ``language.periods``, on the day
    and the day after, leap days and month-ends included."""
    from datetime import timedelta

    from cadre_policy.aggregate.sql import born_by
    from cadre_policy.language import periods
    for years in range(1, 70):      # ages are of people already born
        bound = born_by(as_of, years)
        assert periods.completed_years(bound, as_of) >= years, (as_of, years)
        assert periods.completed_years(bound + timedelta(days=1), as_of) < years, (as_of, years)
