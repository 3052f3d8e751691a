"""Policy tests as data: ``*.tests.yaml`` beside each policy file.

Each case gives a cadre (import format, with defaults for the required fields), an
evaluation date, and the expected outcome: the exact set of active findings, the
superseded ones, requirement results, and the eligibility. One loader serves
``policy test`` and pytest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from cadre_policy.i18n import _
from cadre_policy.diagnostics import Diagnostic, Location
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.language.model import PolicySet
from cadre_policy.parse.positioned import load_yaml
from cadre_policy.record import canonical

DEFAULT_CADRE = {"id": "T0001", "name": "测试干部", "gender": "male", "birth_date": date(1975, 1, 1), "party": "cpc"}
# What a case may write for a requirement's result: met, unmet, unknown, and "not applicable"
# (the rule does not apply to the cadre; also spelt not_applicable, as structure statuses are).
RESULT_SPELLINGS = {"not_applicable": "not applicable"}
NOT_ASSESSED = "not assessed"     # the eligibility of a case no determination speaks of
RECORD_LISTS = tuple(key for key, _kind in canonical.RECORD_LISTS)


@dataclass
class Case:
    file: str
    name: str
    line: int
    as_of: date
    cadre: dict
    units: dict
    expect: dict


@dataclass
class CaseResult:
    case: Case
    differences: list = field(default_factory=list)
    fired: set = field(default_factory=set)

    @property
    def passed(self) -> bool:
        return not self.differences


def case_files(paths) -> list[Path]:
    """The ``*.tests.yaml`` files under the given files or directories."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(path.glob("*.tests.yaml"))
        elif path.name.endswith(".tests.yaml"):
            found.append(path)
        elif path.suffix == ".yaml":   # a policy file: its tests beside it
            beside = path.with_name(path.stem + ".tests.yaml")
            if beside.exists():
                found.append(beside)
    return found


def _units(spec, base: Path) -> dict:
    if spec is None:
        spec = "test_units.yaml" if (base / "test_units.yaml").exists() else []
    if isinstance(spec, str):
        spec = (yaml.safe_load((base / spec).read_text(encoding="utf-8")) or {}).get("units", [])
    return normalise_units({u["id"]: u for u in spec})


def load_cases(path: Path) -> tuple[list[Case], list[Diagnostic]]:
    """The cases of one tests file, with any problem reading it."""
    data, positions, problems = load_yaml(path.read_text(encoding="utf-8"), str(path))
    if isinstance(data, dict) and data.get("kind") == "structure":
        return [], problems   # aggregate-rule cases: testing.aggregate runs them
    if problems or not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return [], problems or [Diagnostic("E101", _("a tests file has 'cases:' (a list)"), Location(str(path), 1, 1))]
    units = _units(data.get("units"), path.parent)
    default_as_of = data.get("as_of")
    cases = []
    for i, raw in enumerate(data["cases"]):
        loc = positions.at(("cases", i))
        cadre = dict(DEFAULT_CADRE, **(raw.get("cadre") or {}))
        for name in RECORD_LISTS:
            cadre.setdefault(name, [])
        extra = _units(raw["units"], path.parent) if "units" in raw else {}
        as_of = raw.get("as_of", default_as_of)
        if not isinstance(as_of, date):
            problems.append(Diagnostic("E101", _("case '{get}' has no as_of date").format(get=raw.get('name', i)), loc))
            continue
        cases.append(Case(str(path), str(raw.get("name", f"case {i + 1}")), loc.line, as_of, cadre,
                          {**units, **extra}, raw.get("expect") or {}))
    return cases, problems


class CaseRunner:
    """Runs cases against one policy set with one engine, compiling once per date."""

    def __init__(self, policy_set: PolicySet, engine: str = "durable"):
        self.policy_set = policy_set
        self.engine = engine
        self._engines: dict[date, PolicyRunner] = {}

    def engine_for(self, as_of: date) -> PolicyRunner:
        if as_of not in self._engines:
            self._engines[as_of] = PolicyRunner(self.policy_set, as_of, self.engine, name=f"test_{self.engine}")
        return self._engines[as_of]

    def run(self, case: Case) -> CaseResult:
        result = self.engine_for(case.as_of).evaluate(case.cadre, case.units)
        outcome = CaseResult(case, fired={rule_id for rule_id, *_rest in result.trace})
        expect = case.expect
        diffs = outcome.differences
        if "findings" in expect:
            _diff_set(diffs, "findings", expect["findings"] or [], result.active_codes())
        if "superseded" in expect:
            _diff_set(diffs, "superseded", expect["superseded"] or [], result.superseded_codes())
        reqs = {}
        for det in result.determinations.values():
            for req in det["requirements"]:
                reqs[req.code] = req.result if req.code not in reqs or req.result == "unmet" else reqs[req.code]
        for code, wanted in (expect.get("requirements") or {}).items():
            wanted = RESULT_SPELLINGS.get(wanted, wanted)
            got = reqs.get(code, "not applicable")
            if got != wanted:
                diffs.append(f"requirement {code}: expected {wanted}, got {got}")
        if "eligibility" in expect:
            got = result.determinations.get("promotion", {}).get("eligibility", NOT_ASSESSED)
            if got != expect["eligibility"]:
                diffs.append(f"eligibility: expected {expect['eligibility']}, got {got}")
        return outcome


def _diff_set(diffs: list, label: str, expected, got) -> None:
    expected, got = set(expected), set(got)
    if expected != got:
        missing, extra = sorted(expected - got), sorted(got - expected)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra)}"] if extra else [])
        diffs.append(f"{label}: {'; '.join(parts)} (expected [{', '.join(sorted(expected))}], "
                     f"got [{', '.join(sorted(got))}])")


def uncovered_rules(policy_set: PolicySet, results: list[CaseResult]) -> list:
    """Rules no case made fire (or, for a requirement, gave a result other than unknown)."""
    fired = set().union(*(r.fired for r in results)) if results else set()
    return [rule for rule in policy_set.rules if rule.id not in fired]


def _is_structure_file(path: Path) -> bool:
    data, _positions, _issues = load_yaml(path.read_text(encoding="utf-8"), str(path))
    return isinstance(data, dict) and data.get("kind") == "structure"


def run_files(policy_set: PolicySet, paths, engine: str = "durable", select=None) -> tuple[list, list[Diagnostic]]:
    """Run every case of the tests files under ``paths``: individual cases on ``engine``, and
    aggregate-rule cases (``kind: structure``) each in a fresh SQLite store of their own.

    Returns:
        The outcomes (each with ``case``, ``passed``, ``differences``) and the problems
        reading the files. ``select`` (a predicate on case names) runs only some cases.
    """
    import tempfile

    from cadre_policy.store.fact_store import FactStore

    from cadre_policy.testing.aggregate import load_structure_cases, run_case
    runner = CaseRunner(policy_set, engine)
    outcomes, problems = [], []
    for path in case_files(paths):
        if _is_structure_file(path):
            cases, found = load_structure_cases(path)
            problems += found
            for case in cases:
                if select is not None and not select(case.name):
                    continue
                with tempfile.TemporaryDirectory() as tmp, FactStore(f"sqlite:///{tmp}/case.db") as store:
                    outcomes.append(run_case(policy_set, case, store))
            continue
        cases, found = load_cases(path)
        problems += found
        outcomes += [runner.run(case) for case in cases if select is None or select(case.name)]
    return outcomes, problems


def uncovered(policy_set: PolicySet, outcomes: list, policies: set | None = None) -> list[tuple[str, str, str]]:
    """(location, rule id, provision) of every rule, individual or aggregate, no case exercises.

    Args:
        policies: only the rules of these policy ids (None: every rule of the set).
    """
    from cadre_policy.aggregate import load_structure
    out = [(str(rule.loc), rule.id, rule.provision)
           for rule in uncovered_rules(policy_set, [o for o in outcomes if isinstance(o, CaseResult)])
           if policies is None or rule.policy in policies]
    named = {o.case.rule for o in outcomes if not isinstance(o, CaseResult)}
    out += [(str(rule.loc), rule.id, rule.provision) for rule in load_structure(policy_set).rules
            if rule.id not in named and (policies is None or rule.policy in policies)]
    return out


def coverage_scope(policy_set: PolicySet, paths) -> set | None:
    """The policies whose coverage the given paths speak for: a directory, every policy (None);
    a tests file, the policy it names (``policy:``, else its name: ``supervision.tests.yaml``);
    a policy file, itself."""
    by_file = {Path(p.file).resolve(): p.id for p in policy_set.policies}
    scope = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            return None
        if path.name.endswith(".tests.yaml"):
            data, _positions, _issues = load_yaml(path.read_text(encoding="utf-8"), str(path))
            named = data.get("policy") if isinstance(data, dict) else None
            scope.add(named or path.name[:-len(".tests.yaml")])
        elif path.resolve() in by_file:
            scope.add(by_file[path.resolve()])
    return scope
