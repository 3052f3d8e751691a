"""`policy lint` over every file kind of a policy set: each authoring mistake gets one exact
diagnostic line (place, code, message, suggestion) and an exit status, never a traceback."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadre_policy import data
from cadre_policy.cli import main

DRAFT_HEAD = "# yaml-language-server: $schema=../schemas/draft.schema.json\nid: dx\ntitle: 草案\n"
RULE_HEAD = "  - id: dx.r\n    title: 标题\n    provision: P004-5\n    quote: 原文\n"


def run(*args, cwd: Path | None = None):
    """(exit code, stdout lines, stderr) of one `policy` command."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout.splitlines(), result.stderr


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    """A copy of the shipped policy set to break."""
    target = tmp_path / "policies"
    shutil.copytree(data.POLICIES, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def lint_draft(tmp_path, body: str):
    path = tmp_path / "d.yaml"
    path.write_text(DRAFT_HEAD + body, encoding="utf-8")
    return path, run("lint", str(path))


# ---- drafts: as precise as policy files --------------------------------------------------
DRAFT_CASES = [
    ("unknown operator", "add:\n" + RULE_HEAD + "    when: {fact: cadre.age, 大于: 40}\n    finding: admonishment_talk\n",
     "9:29: E102 unknown operator '大于' (did you mean '超过'?)"),
    ("missing provision", "add:\n  - id: dx.r\n    title: 标题\n    quote: 原文\n"
     "    when: {fact: cadre.age, 以上: 40}\n    finding: admonishment_talk\n", "5:5: E101 'provision' is required"),
    ("mistyped key", "add:\n" + RULE_HEAD + "    wehn: {fact: cadre.age, 以上: 40}\n    finding: admonishment_talk\n",
     "9:5: E102 unknown key 'wehn' (did you mean 'when'?)"),
    ("when on a requirement", "add:\n" + RULE_HEAD + "    when: {fact: cadre.age, 以上: 40}\n"
     "    requirement: no_promotion_bar\n",
     "9:5: E101 a requirement states its condition in 'met' (and where it applies in 'applies'), not 'when' "
     "(did you mean 'met'?)"),
    ("rules by policy", "add:\n  supervision:\n" + RULE_HEAD.replace("  ", "    ", 1).replace("\n    ", "\n      ")
     + "      when: {fact: cadre.age, 大于: 40}\n      finding: admonishment_talk\n",
     "10:31: E102 unknown operator '大于' (did you mean '超过'?)"),
    ("calendar date", "in_force: {from: 2019-02-30}\n", "4:18: E104 '2019-02-30' is not a calendar date"),
    ("bad date key", "parameters:\n  supervision.admonish_ratio: {2019-13-01: 3/10}\n",
     "5:32: E104 '2019-13-01' is not a calendar date"),
    ("not a date key", "parameters:\n  supervision.admonish_ratio: {from: 3/10}\n",
     "5:32: E104 'from' is not a date (YYYY-MM-DD)"),
    ("short parameter name", "parameters:\n  admonish_ratio: 3/10\n",
     "5:3: E202 unknown parameter 'admonish_ratio': a draft names parameters as policy.name "
     "(did you mean 'supervision.admonish_ratio'?)"),
    ("reversed in_force", "in_force: {from: 2019-02-01, to: 2018-01-01}\n",
     "4:34: E405 in_force ends (2018-01-01) before it starts (2019-02-01)"),
]


@pytest.mark.parametrize("body,expected", [c[1:] for c in DRAFT_CASES], ids=[c[0] for c in DRAFT_CASES])
def test_draft_mistakes_have_one_exact_line(tmp_path, body, expected):
    path, (code, out, err) = lint_draft(tmp_path, body)
    assert out == [f"{path}:{expected}"], out
    assert code == 1
    assert err.strip() == "1 error(s), 0 warning(s)"


def test_whatif_with_a_calendar_invalid_date_is_exit_2(tmp_path, sqlite_url):
    path = tmp_path / "d.yaml"
    path.write_text(DRAFT_HEAD + "in_force: {from: 2019-02-30}\nparameters:\n  supervision.admonish_ratio: 3/10\n",
                    encoding="utf-8")
    code, _, err = run("--db", sqlite_url, "whatif", "--draft", str(path))
    assert code == 2
    assert f"{path}:4:18: E104 '2019-02-30' is not a calendar date" in err.splitlines()


def test_policy_file_dates_and_periods(policy_copy):
    edit(policy_copy / "supervision.yaml", "in_force: {from: 2008-01-01", "in_force: {from: 2019-02-30")
    code, out, _ = run("lint", str(policy_copy / "supervision.yaml"))
    assert code == 1
    assert out == [f"{policy_copy / 'supervision.yaml'}:9:18: E104 '2019-02-30' is not a calendar date"]
    edit(policy_copy / "supervision.yaml", "in_force: {from: 2019-02-30, to: null}",
         "in_force: {from: 2019-02-01, to: '2018-02-30'}")
    code, out, _ = run("lint", str(policy_copy / "supervision.yaml"))
    assert out == [f"{policy_copy / 'supervision.yaml'}:9:34: E104 '2018-02-30' is not a calendar date"]


@pytest.mark.parametrize("path,message", [
    ("polcies/", "polcies: no such file or directory"),
    ("{empty}", "{empty}: no policy file (*.yaml) in this directory"),
    ("{data}", "{data}: no policy file in this directory (only outcomes.yaml)"),
])
def test_a_path_with_nothing_to_lint_is_exit_2(tmp_path, path, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "outcomes.yaml").write_text("findings: {}\n", encoding="utf-8")
    places = {"empty": tmp_path / "empty", "data": tmp_path / "data"}
    code, out, err = run("lint", path.format(**places))
    assert code == 2
    assert err.strip() == "Error: " + message.format(**places)


# ---- test files -----------------------------------------------------------------------
TESTS_CASES = [
    ("syntax", "appraisal.tests.yaml", "cases:", "cases: [", "appraisal.tests.yaml:10:3: E001 yaml syntax: while "
     "parsing a flow node expected the node content, but found '-'"),
    ("mistyped finding", "supervision.tests.yaml", "findings: [admonishment_talk]", "findings: [admonishment_tlak]",
     "supervision.tests.yaml:16:18: E203 unknown finding code 'admonishment_tlak' (did you mean 'admonishment_talk'?)"),
    ("unknown requirement", "opinion_poll.tests.yaml", "opinion_poll_passed: not applicable",
     "opinion_pol_passed: not applicable", "opinion_poll.tests.yaml:59:22: E203 unknown requirement code "
     "'opinion_pol_passed' (did you mean 'opinion_poll_passed'?)"),
    ("yes for a result", "opinion_poll.tests.yaml", "opinion_poll_passed: not applicable",
     "opinion_poll_passed: yes", "opinion_poll.tests.yaml:59:43: E302 'yes' is not one of met, unmet, unknown, "
     "waived, not applicable, not_applicable"),
    ("unknown cadre field", "supervision.tests.yaml", "birth_date: 1965-03-01", "birthdate: 1965-03-01",
     "supervision.tests.yaml:11:7: E102 unknown key 'birthdate' (did you mean 'birth_date'?)"),
    ("unknown unit", "supervision.tests.yaml", "unit: QJ-T1", "unit: QJ-T9",
     "supervision.tests.yaml:13:22: E210 unknown unit 'QJ-T9' (not among the file's units) (did you mean 'QJ-T2'?)"),
    ("bad eligibility", "yichang_grassroots.tests.yaml", "eligibility: ineligible", "eligibility: not_eligible",
     None),
    ("unknown aggregate rule", "structure.tests.yaml", "rule: structure.middle_level_rotation",
     "rule: structure.middle_level_rotaton", "structure.tests.yaml:40:11: E204 unknown aggregate rule id "
     "'structure.middle_level_rotaton' (did you mean 'structure.middle_level_rotation'?)"),
]


@pytest.mark.parametrize("file,old,new,expected", [c[1:] for c in TESTS_CASES], ids=[c[0] for c in TESTS_CASES])
def test_test_file_mistakes_have_one_exact_line(policy_copy, file, old, new, expected):
    edit(policy_copy / file, old, new)
    code, out, _ = run("lint", str(policy_copy))
    assert code == 1
    if expected is None:      # the line number depends on the file: check code and suggestion
        assert len(out) == 1 and "E302 'not_eligible' is not one of eligible, pending, exception_required, ineligible, not assessed " \
                                 "(did you mean 'ineligible'?)" in out[0], out
    else:
        assert out == [f"{policy_copy}/{expected}"], out


def test_policy_test_refuses_test_files_with_errors(policy_copy):
    edit(policy_copy / "supervision.tests.yaml", "findings: [admonishment_talk]", "findings: [admonishment_tlak]")
    code, _, err = run("test", "--policies", str(policy_copy), str(policy_copy / "supervision.tests.yaml"))
    assert code == 2
    assert err.splitlines() == [f"{policy_copy}/supervision.tests.yaml:16:18: E203 unknown finding code "
                                "'admonishment_tlak' (did you mean 'admonishment_talk'?)",
                                "Error: the test files have errors; run `policy lint`"]


def test_outcomes_and_register_are_checked(policy_copy):
    edit(policy_copy / "outcomes.yaml", "    kind: action\n    title: 诫勉谈话", "    kind: acton\n    title: 诫勉谈话")
    edit(policy_copy / "provisions.yaml", "    kind: I\n", "    knd: I\n")
    code, out, _ = run("lint", str(policy_copy))
    assert code == 1
    assert f"{policy_copy}/outcomes.yaml:21:11: E302 'acton' is not one of action, bar, flag, target, exception " \
           "(did you mean 'action'?)" in out
    assert f"{policy_copy}/provisions.yaml:14:5: E102 unknown key 'knd' (did you mean 'kind'?)" in out


def test_not_applicable_in_both_spellings_passes(policy_copy):
    edit(policy_copy / "opinion_poll.tests.yaml", "opinion_poll_passed: not applicable",
         "opinion_poll_passed: not_applicable")
    assert run("lint", str(policy_copy))[0] == 0
    assert run("test", "--policies", str(policy_copy), str(policy_copy / "opinion_poll.tests.yaml"))[0] == 0


def test_shipped_library_lints_clean():
    code, out, err = run("lint", str(data.POLICIES), str(data.DRAFTS))
    assert (code, out) == (0, []), out
    assert err.strip() == "0 error(s), 0 warning(s)"


# ---- machine output -------------------------------------------------------------------------
def test_lint_json_and_sarif(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(DRAFT_HEAD + "parameters:\n  admonish_ratio: 3/10\n", encoding="utf-8")
    code, out, _ = run("lint", "--format", "json", str(path))
    doc = json.loads("\n".join(out))
    assert code == 1
    assert doc == {"diagnostics": [{"code": "E202", "severity": "error", "file": str(path), "line": 5, "column": 3,
                                    "message": "unknown parameter 'admonish_ratio': a draft names parameters as "
                                               "policy.name", "suggestion": "supervision.admonish_ratio"}],
                   "errors": 1, "warnings": 0}
    code, out, _ = run("lint", "--format", "sarif", str(path))
    sarif = json.loads("\n".join(out))
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "E202" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "startColumn": 3}
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == [{"id": "E202",
                                                            "shortDescription": {"text": "unknown parameter"}}]


def test_test_selection_formats_and_scoped_coverage():
    code, out, _ = run("test", "-k", "诫勉 and not 恰为", "--format", "json")
    doc = json.loads("\n".join(out))
    assert code == 0 and doc["total"] == len(doc["cases"]) > 0
    assert all("诫勉" in c["name"] and "恰为" not in c["name"] for c in doc["cases"])
    code, out, _ = run("test", "-k", "恰为", "--format", "junit")
    from xml.etree import ElementTree as ET
    root = ET.fromstring("\n".join(out))
    assert root.tag == "testsuites" and int(root.get("tests")) == len(root.findall(".//testcase")) >= 2
    supervision = str(data.POLICIES / "supervision.tests.yaml")
    code, out, _ = run("test", "--coverage", supervision)
    uncovered = [line for line in out if line.startswith("UNCOVERED")]
    assert all(": supervision." in line for line in uncovered), uncovered
    code, _, err = run("test", "-k", "(诫勉 and")
    assert code == 2 and "-k '(诫勉 and': expected a name at the end" in err
    code, _, err = run("test", "-k", "没有这个名字")
    assert code == 2 and "no case matches -k '没有这个名字'" in err


def test_show_structure_rule_and_parameter_units():
    code, out, _ = run("show", "structure.county_team_age", "--as-of", "2016-01-01")
    assert code == 0 and out[0] == "structure.county_team_age — 县市区党政领导班子以40—50岁干部为主体"
    code, out, _ = run("show", "yichang_grassroots.two_years", "--as-of", "2016-01-01")
    assert "以上 2年（2016-01-01 时的取值）〔参数 yichang_grassroots.grassroots_min〕（含本数）" in "\n".join(out)
    code, out, _ = run("show", "yichang_grassroots.two_years", "--as-of", "2000-01-01")
    assert "以上 〔参数 yichang_grassroots.grassroots_min：2000-01-01 时尚无取值〕" in "\n".join(out)
    assert "None" not in "\n".join(out)


def test_reversed_periods_in_policy_files_and_rules(policy_copy):
    path = policy_copy / "appraisal.yaml"
    edit(path, "in_force: {from: 2008-01-01, to: null}", "in_force: {from: 2008-01-01, to: 2007-12-31}")
    edit(path, "  - id: appraisal.excellent\n", "  - id: appraisal.excellent\n    in_force: {from: 2010-01-01, to: 2009-01-01}\n")
    code, out, _ = run("lint", str(path))
    assert code == 1
    assert out == [f"{path}:9:34: E405 in_force ends (2007-12-31) before it starts (2008-01-01)",
                   f"{path}:27:38: E405 in_force ends (2009-01-01) before it starts (2010-01-01)"]


@pytest.mark.parametrize("name", ["cadre_policy.diagnostics", "cadre_policy.testing.select",
                                  "cadre_policy.language.titles", "cadre_policy.editor.server"])
def test_doctests_of_the_authoring_modules(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
