"""Structure targets (issue 6): YAML cases through a real store, the CLI on the sample city,
lint diagnostics, what-if comparisons, and the provision register."""
from __future__ import annotations

import doctest
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from cadre_policy.load.policyset import lint, load
from cadre_policy.aggregate import evaluate_structure, load_structure
from cadre_policy.aggregate import candidates, partition, results
from cadre_policy.aggregate import sql as aggregates
from cadre_policy.testing.aggregate import load_structure_cases, run_case
from cadre_policy.store.fact_store import FactStore

from conftest import SAMPLE, invoke

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
CASES_FILE = POLICIES / "structure.tests.yaml"
CASES, CASE_PROBLEMS = load_structure_cases(CASES_FILE)
AS_OF = "2017-06-30"


@pytest.fixture(scope="module")
def policy_set():
    return load(POLICIES)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The sample city loaded once into SQLite."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'city.db'}"
    result = invoke(url, "facts", "import", str(SAMPLE))
    assert result.exit_code == 0, result.output
    return url


# ---- YAML cases -----------------------------------------------------------------------
def test_case_file_loads_and_covers_every_rule(policy_set):
    assert CASE_PROBLEMS == []
    rules = {r.id for r in load_structure(policy_set).rules}
    by_rule = {}
    for case in CASES:
        by_rule.setdefault(case.rule, []).append(case)
    assert set(by_rule) == rules, f"rules without cases: {rules - set(by_rule)}"
    for rule, cases in by_rule.items():
        statuses = {s if isinstance(s, str) else s["status"] for c in cases for s in c.expect.values()}
        assert {"met", "not_met", "not_applicable"} <= statuses, f"{rule}: {statuses}"


def _emptied(store: FactStore) -> FactStore:
    """The store with every fact deleted (its schema kept): a case starts from nothing."""
    from cadre_policy.store.models import metadata
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "schema_meta":
                conn.execute(table.delete())
    return store


@pytest.fixture(scope="module")
def case_store(tmp_path_factory):
    """One SQLite store for every case, emptied before each (building a schema per case cost 6.8 s)."""
    with FactStore(f"sqlite:///{tmp_path_factory.mktemp('cases') / 'case.db'}") as store:
        yield store


@pytest.mark.parametrize("case", CASES, ids=[f"{c.line}:{c.name}" for c in CASES])
def test_structure_case_sqlite(case, policy_set, case_store):
    outcome = run_case(policy_set, case, _emptied(case_store))
    assert outcome.passed, f"{case.file}:{case.line}: {case.name}\n  " + "\n  ".join(outcome.differences)


@pytest.mark.slow       # 71 cases replayed on PostgreSQL and MariaDB (30 s); SQLite's run is in the fast suite
def test_structure_cases_on_each_server(server_url, policy_set):
    """Every case on PostgreSQL and MariaDB (when configured), one store emptied between cases."""
    failures = []
    with FactStore(server_url) as store:
        for case in CASES:
            outcome = run_case(policy_set, case, _emptied(store))
            if not outcome.passed:
                failures.append(f"{case.line}: {case.name}: {outcome.differences}")
    assert not failures, "\n".join(failures)


def test_sample_on_each_backend(store_url, policy_set):
    """The sample city gives the same comparable report on every backend."""
    from cadre_policy.intake.streaming import import_files
    with FactStore(store_url) as store:
        import_files(store, [str(SAMPLE)])
        report = evaluate_structure(policy_set, store, date(2017, 6, 30))
    comparable = report.comparable()
    assert comparable[("structure.county_team_township_principal", "东湖区")] == ("2/3", "≥ 60%", "met")
    assert comparable[("structure.county_team_township_principal", "白河县")] == ("2/5", "≥ 60%", "not_met")
    # 清江县 lies in 江苏省, outside the 宜昌 plan's jurisdiction: none of its targets are counted
    assert not [key for key in comparable if key[1] == "清江县"]
    assert comparable[("structure.middle_level_rotation", "JL-FIN")] == ("2/3", "≥ 50%", "met")
    assert comparable[("structure.middle_level_rotation", "JL-EDU")] == ("0/1", "≥ 50%", "not_met")


# ---- what-if: a draft changing a target or band ------------------------------------------------
def test_a_draft_target_shows_which_instances_change(policy_set, sample_db):
    with FactStore(sample_db) as store:
        base = evaluate_structure(policy_set, store, date(2017, 6, 30))
        from fractions import Fraction
        draft = evaluate_structure(policy_set, store, date(2017, 6, 30),
                                   overrides={"structure.township_principal_share": Fraction(4, 5),
                                              "structure.young_section_from": 10})
        again = evaluate_structure(policy_set, store, date(2017, 6, 30))
    changes = {(rule, key): (old[2], new[2]) for rule, key, old, new in base.changes(draft)}
    assert changes[("structure.county_team_township_principal", "白河县")] == ("not_met", "not_met")  # target text
    assert changes[("structure.young_section_cadres", "东湖区")] == ("not_met", "not_met")    # 8–12 -> 10–12
    moved = {(rule, key): (a, b) for rule, key, a, b in base.status_changes(draft)}
    assert moved == {("structure.county_team_township_principal", "东湖区"): ("met", "not_met")}
    assert again.comparable() == base.comparable(), "the baseline is untouched by the draft"


# ---- CLI -----------------------------------------------------------------------------------------
def test_cli_structure_text(sample_db):
    result = invoke(sample_db, "--lang", "zh", "structure", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "县市区党政班子成员有乡镇（街道）党政正职任职经历的达到60%以上" in out
    assert "✓ 达到  东湖区  2/3  目标 ≥ 60%" in out and "清江县" not in out
    assert "✗ 未达到  白河县  2/5  目标 ≥ 60%  township_principal_share_below_target" in out
    assert "✓C0034 潘志刚" in out and "✗C0064 严立新" in out and "✗C0019 罗建" in out
    assert "✗ 未达到  宜昌市教育局（JL-EDU）  0/1  目标 ≥ 50%  rotation_share_below_target" in out


def test_cli_structure_json(sample_db):
    result = invoke(sample_db, "structure", "--as-of", AS_OF, "--format", "json", "--region", "白河县")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == AS_OF and data["region"] == "白河县"
    team = next(r for r in data["results"] if r["rule"] == "structure.county_team_township_principal")
    assert (team["figure"], team["target"], team["status"], team["finding"]) == \
        ("2/5", "≥ 60%", "not_met", "township_principal_share_below_target")
    assert [m["id"] for m in team["listed"] if m["counted"] == "yes"] == ["C0018", "C0020"]
    assert team["source"]["quote"].startswith("五年期间,争取县市区党政班子成员")
    assert {r["region"] for r in data["results"]} == {"白河县"}


def test_cli_structure_html_is_self_contained(sample_db, tmp_path):
    out = tmp_path / "structure.html"
    result = invoke(sample_db, "--lang", "zh", "structure", "--as-of", AS_OF, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "白河县" in page and "未达到" in page
    assert "http" not in page.replace('xmlns="http', "") and "<script src" not in page and "<link" not in page


def test_cli_structure_user_errors(sample_db):
    result = invoke(sample_db, "structure", "--as-of", AS_OF, "--region", "火星")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["Error: unknown region: 火星 (known: 东湖区, 宜昌市, 江苏省, 清江县, 湖北省, 白河县)"]


def test_cli_check_unit_adds_structure_findings(sample_db):
    result = invoke(sample_db, "check", "--all", "--unit", "BH-GOV", "--as-of", AS_OF, "--engine", "python")
    assert result.exit_code == 0, result.output
    # said once for the unit, before the cadres
    assert result.stdout.startswith("Team structure of BH-GOV: ")
    assert result.stdout.count("township_principal_share_below_target") == 1
    assert "白河县 2/5" in result.stdout
    result = invoke(sample_db, "check", "--all", "--unit", "BH-GOV", "--as-of", AS_OF, "--engine", "python",
                    "--format", "json")
    doc = json.loads(result.stdout)
    assert "age_structure_below_target" in {f["finding"] for f in doc["unit"]["structure"]}
    result = invoke(sample_db, "check", "--all", "--unit", "BH-GOV", "--as-of", AS_OF, "--engine", "python",
                    "--format", "jsonl")
    first = json.loads(result.stdout.splitlines()[0])
    assert "age_structure_below_target" in {f["finding"] for f in first["structure"]}


# ---- the policy language: diagnostics --------------------------------------------------------------
def _policy_dir(tmp_path, structure_text: str) -> Path:
    target = tmp_path / "policies"
    target.mkdir()
    for name in ("outcomes.yaml", "provisions.yaml", "common.yaml", "yichang_exchange.yaml",
                 "yichang_grassroots.yaml"):
        if (POLICIES / name).exists():
            shutil.copy(POLICIES / name, target / name)
    (target / "structure.yaml").write_text(structure_text, encoding="utf-8")
    return target


def test_lint_reports_structure_mistakes_with_positions(tmp_path):
    text = (POLICIES / "structure.yaml").read_text(encoding="utf-8")
    text = text.replace("group: county_team\n    share: {held", "group: county_teem\n    share: {held", 1)
    text = text.replace("{fact: cadre.gender, eq: female}", "{fact: cadre.gendr, eq: female}", 1)
    text = text.replace("{fact: cadre.party, eq: non_cpc}", "{fact: cadre.party, eq: noncpc}", 1)
    text = text.replace("finding: reserve_count_below_target", "finding: reserve_count_low", 1)
    _, diagnostics = lint(_policy_dir(tmp_path, text))
    lines = [str(d) for d in diagnostics if d.severity == "error"]
    assert any("E208 unknown group 'county_teem' (did you mean 'county_team'?)" in x for x in lines), lines
    assert any("E201 unknown fact 'cadre.gendr' (did you mean 'cadre.gender'?)" in x for x in lines), lines
    assert any("E302 'noncpc' is not a value of 'cadre.party' (cpc | non_cpc)" in x for x in lines), lines
    assert any("E203 unknown finding code 'reserve_count_low'" in x for x in lines), lines
    assert all(x.split(":")[0].endswith("structure.yaml") and x.split(":")[1].isdigit() for x in lines), lines


def test_lint_reports_schema_and_type_errors(tmp_path):
    text = (POLICIES / "structure.yaml").read_text(encoding="utf-8")
    text = text.replace("    以上: {param: township_principal_share}", "    以上: {param: reserve_count}", 1)
    text = text.replace("    per: region\n  municipal_organ_team", "    per: county\n  municipal_organ_team", 1)
    _, diagnostics = lint(_policy_dir(tmp_path, text))
    lines = [str(d) for d in diagnostics if d.severity == "error"]
    assert any("E302 'county' is not one of" in x for x in lines), lines


def test_lint_type_error_in_target(tmp_path):
    text = (POLICIES / "structure.yaml").read_text(encoding="utf-8")
    text = text.replace("    以上: {param: township_principal_share}", "    以上: {param: reserve_count}", 1)
    _, diagnostics = lint(_policy_dir(tmp_path, text))
    lines = [str(d) for d in diagnostics if d.severity == "error"]
    assert any("E301 parameter 'structure.reserve_count' is a count; ratio is needed here" in x for x in lines), lines


def test_policies_without_structure_are_ignored(tmp_path, sample_db):
    target = _policy_dir(tmp_path, (POLICIES / "yichang_exchange.yaml").read_text(encoding="utf-8")
                         .replace("id: yichang_exchange", "id: other", 1).replace("yichang_exchange.", "other."))
    (target / "structure.yaml").unlink()
    policy_set = load(target)
    assert load_structure(policy_set).rules == ()
    with FactStore(sample_db) as store:
        assert evaluate_structure(policy_set, store, date(2017, 6, 30)).results == []


def test_the_library_lints_clean():
    _, diagnostics = lint(POLICIES)
    assert [str(d) for d in diagnostics if "structure" in d.location.file] == []


# ---- the register --------------------------------------------------------------------------------
def test_every_t_and_p_provision_is_accounted_for(policy_set):
    register = yaml.safe_load((POLICIES / "provisions.yaml").read_text(encoding="utf-8"))["provisions"]
    encoded = {r.provision for r in load_structure(policy_set).rules}
    for entry in register:
        if set(entry["kind"]) & {"T", "P"}:
            assert entry["id"] in encoded or entry.get("not_encoded"), entry["id"]
            assert entry.get("pending") != "structure", f"{entry['id']} is no longer pending"
    for rule in load_structure(policy_set).rules:
        quote = rule.quote.replace(" ", "")
        seed = ROOT.parent / "shared" / "seeds" / "003_c8359c0cff5d4964.txt"
        if seed.exists():
            assert quote in seed.read_text(encoding="utf-8"), rule.id


# ---- doctests of the small pure modules --------------------------------------------------------------
@pytest.mark.parametrize("module", [candidates, partition, results, aggregates])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0
