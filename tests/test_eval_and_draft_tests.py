"""`policy eval` (one expression, one cadre, its value and why) and `policy test --draft`."""
from __future__ import annotations

import json
from datetime import date as D
from pathlib import Path

import pytest
import yaml

from conftest import SAMPLE
from cadre_policy import data

UNITS = str(data.POLICIES / "test_units.yaml")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from conftest import invoke
    url = f"sqlite:///{tmp_path_factory.mktemp('eval') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


def test_eval_a_fact_a_derived_quantity_and_a_condition(run_cli, sample):
    result = run_cli(sample, "eval", "cadre.age", "--cadre", "C0001", "--as-of", "2017-06-30")
    assert result.exit_code == 0 and result.stdout.startswith("cadre.age = ")
    age = int(result.stdout.split("=")[1])
    held = run_cli(sample, "eval", f"{{fact: cadre.age, 超过: {age - 1}}}", "--cadre", "C0001", "--as-of",
                   "2017-06-30")
    assert held.exit_code == 0 and " = true" in held.stdout and str(age) in held.stdout
    not_held = run_cli(sample, "eval", f"{{fact: cadre.age, 超过: {age}}}", "--cadre", "C0001",
                       "--as-of", "2017-06-30", "--format", "json")
    answer = json.loads(not_held.stdout)
    assert answer["value"] == "false" and answer["because"][0]["fact"] == "cadre.age"
    derived = run_cli(sample, "eval", "time_in_current_post", "--cadre", "C0001", "--as-of", "2017-06-30",
                      "--format", "json")
    answer = json.loads(derived.stdout)
    assert answer["form"] == "elapsed" and answer["reads"][0]["fact"] == "current_post.start"


def test_eval_refuses_an_unknown_fact_with_a_suggestion(run_cli, sample):
    result = run_cli(sample, "eval", "{fact: cadre.agee, 超过: 45}", "--cadre", "C0001")
    assert result.exit_code == 2 and "cadre.age" in result.output
    result = run_cli(sample, "eval", "cadre.age", "--cadre", "NOPE")
    assert result.exit_code == 2 and "NOPE" in result.output


def test_eval_reads_the_new_forms(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    units = yaml.safe_load(open(UNITS, encoding="utf-8"))["units"]
    cadre = {"id": "N1", "name": "王强", "gender": "male", "birth_date": "1975-01-01", "party": "cpc",
             "status": "公务员",
             "posts": [{"unit": "DS-T1", "title": "镇长", "rank": "正科", "principal": True, "leadership": True,
                        "start": "2012-01-01"}],
             "appraisals": [{"year": 2015, "grade": "不称职", "date": "2016-01-20"},
                            {"year": 2016, "grade": "不称职", "date": "2017-01-20"}],
             "sanctions": [{"date": "2016-03-01", "kind": "严重警告"}]}
    path = tmp_path / "n.yaml"
    path.write_text(yaml.safe_dump({"units": units, "cadres": [cadre]}, allow_unicode=True), encoding="utf-8")
    assert run_cli(url, "facts", "import", path).exit_code == 0
    result = run_cli(url, "eval", "consecutive_incompetent.year", "--cadre", "N1", "--as-of", "2017-09-01")
    assert result.stdout.startswith("consecutive_incompetent.year = 2016")
    for day, count in (("2017-09-01", 1), ("2017-09-02", 0)):
        result = run_cli(url, "eval", "sanctions_barring_promotion", "--cadre", "N1", "--as-of", day)
        assert result.stdout.startswith(f"sanctions_barring_promotion = {count}"), result.output


def _draft(tmp_path: Path, cases: bool) -> Path:
    draft = tmp_path / "admonish_12m.yaml"
    national = yaml.safe_load((data.POLICIES / "national.yaml").read_text(encoding="utf-8"))
    table = dict(next(iter(national["parameters"]["bar_months"]["values"].values())), admonishment=12)
    draft.write_text(yaml.safe_dump({"id": "admonish_12m", "title": "草案：诫勉的影响期改为十二个月",
                                     "in_force": {"from": D(2017, 1, 1)},
                                     "parameters": {"national.bar_months": table}}, allow_unicode=True),
                     encoding="utf-8")
    if cases:
        case = {"name": "草案下诫勉（2017-03-01）到 2017-09-02 仍在影响期内",
                "cadre": {"birth_date": D(1975, 1, 1),
                          "posts": [{"unit": "DS-T1", "title": "镇长", "rank": "section", "principal": True,
                                     "leadership": True, "start": D(2012, 1, 1)}],
                          "appraisals": [{"year": y, "grade": "competent", "date": D(y + 1, 1, 20)}
                                         for y in (2014, 2015, 2016)],
                          "nominations": [{"date": D(2017, 8, 1), "target_rank": "deputy_county",
                                           "target_unit": "DS-GOV"}],
                          "sanctions": [{"date": D(2017, 3, 1), "kind": "admonishment"}]},
                "expect": {"requirements": {"no_sanction_in_effect": "unmet"}}}
        (tmp_path / "admonish_12m.tests.yaml").write_text(yaml.safe_dump(
            {"policy": "national", "as_of": D(2017, 9, 2), "units": UNITS, "cases": [case]}, allow_unicode=True),
            encoding="utf-8")
    return draft


def test_test_with_a_draft_runs_the_library_and_the_drafts_own_cases(run_cli, sqlite_url, tmp_path):
    plain = run_cli(sqlite_url, "test", "-k", "诫勉")
    total = int(plain.stdout.rsplit("/", 1)[1])
    assert plain.exit_code == 0 and total >= 2
    result = run_cli(sqlite_url, "test", "--draft", _draft(tmp_path, cases=True), "-k", "诫勉")
    assert result.exit_code == 1                      # the library's 6-month case now fails: what the draft changes
    assert "诫勉（2017-03-01）六个月：2017-09-02 已满，符合" in result.stdout
    assert result.stdout.strip().endswith(f"{total}/{total + 1}")     # and the draft's own case passes


def test_test_with_a_draft_with_errors_is_refused(run_cli, sqlite_url, tmp_path):
    draft = _draft(tmp_path, cases=False)
    draft.write_text(draft.read_text(encoding="utf-8").replace("national.bar_months", "national.bar_monthz"),
                     encoding="utf-8")
    result = run_cli(sqlite_url, "test", "--draft", draft)
    assert result.exit_code == 2 and "bar_months" in result.output


def test_whatif_of_a_draft_changing_a_table_parameter(run_cli, tmp_path):
    """A table read per record in the derivation: the what-if derives both sides, and finds the change."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    units = yaml.safe_load(open(UNITS, encoding="utf-8"))["units"]
    cadre = {"id": "W1", "name": "王强", "gender": "male", "birth_date": D(1975, 1, 1), "party": "cpc",
             "posts": [{"unit": "DS-T1", "title": "镇长", "rank": "section", "principal": True, "leadership": True,
                        "start": D(2012, 1, 1)}],
             "appraisals": [{"year": y, "grade": "excellent", "date": D(y + 1, 1, 20)} for y in (2014, 2015, 2016)],
             "nominations": [{"date": D(2017, 8, 1), "target_rank": "deputy_county", "target_unit": "DS-GOV"}],
             "sanctions": [{"date": D(2017, 3, 1), "kind": "admonishment"}]}
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"units": units, "cadres": [cadre]}, allow_unicode=True), encoding="utf-8")
    assert run_cli(url, "facts", "import", path).exit_code == 0
    draft = _draft(tmp_path, cases=False)
    for engine in ("python", "columnar"):
        result = run_cli(url, "whatif", "--draft", draft, "--as-of", "2017-09-02", "--engine", engine,
                         "--format", "json", "-q", "--workers", "1")
        report = json.loads(result.stdout)
        assert [c.get("id", c.get("cadre")) for c in report["changes"]] == ["W1"], (engine, report["changes"])


def test_a_table_read_by_lookup_is_part_of_the_derivation(tmp_path):
    """The what-if shares the baseline's derivation only when no parameter it reads changed: a table
    read by `lookup` (or by {param:, key: {fact:}}) is one of them."""
    import shutil

    from cadre_policy.load.policyset import load
    from cadre_policy.run.evaluate import PolicyRunner
    from cadre_policy.whatif.compare import derivation_key
    folder = tmp_path / "policies"
    shutil.copytree(data.POLICIES, folder)
    national = folder / "national.yaml"
    text = national.read_text(encoding="utf-8")
    text = text.replace("parameters:\n", "parameters:\n  age_limit_by_rank: {kind: table, title: 年龄上限, "
                                         "values: {2000-01-01: {section: 45}}}\n", 1)
    text = text.replace("rules:\n", "rules:\n  - {id: national.over_age, title: 超龄, provision: NAT-2, section: 考察对象, "
                                    "quote: 近三年年度考核结果中有被确定为基本称职以下等次的, derive: over_age, "
                                    "when: {fact: cadre.age, 超过: {param: age_limit_by_rank, key: {fact: current_post.rank}}}}\n", 1)
    national.write_text(text, encoding="utf-8")
    policy_set = load(folder)
    day = D(2017, 6, 30)
    base = PolicyRunner(policy_set, day, "python", name="lookup_base")
    draft = PolicyRunner(policy_set, day, "python", {"national.age_limit_by_rank": {"section": 50}}, name="lookup_draft")
    assert derivation_key(base) != derivation_key(draft)


def test_a_draft_reads_a_table_entry_in_its_conditions(tmp_path):
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.load.policyset import load
    from cadre_policy.run.evaluate import PolicyRunner
    draft = tmp_path / "age_by_rank.yaml"
    draft.write_text(yaml.safe_dump({
        "id": "age_by_rank", "title": "草案：按职务层次的年龄上限", "in_force": {"from": D(2017, 1, 1)},
        "parameters": {"national.age_limit_by_rank": {"kind": "table", "title": "年龄上限",
                                                      "values": {D(2017, 1, 1): {"section": 45}}}},
        "add": {"national": [{"id": "national.over_age", "title": "超龄", "provision": "NAT-2", "section": "考察对象",
                              "quote": "近三年年度考核结果中有被确定为基本称职以下等次的", "derive": "over_age",
                              "when": {"fact": "cadre.age",
                                       "超过": {"param": "age_limit_by_rank", "key": {"fact": "current_post.rank"}}}}]},
    }, allow_unicode=True), encoding="utf-8")
    draft_set, _draft, diagnostics = load_draft(draft, load(data.POLICIES))
    assert draft_set is not None, [str(d) for d in diagnostics]
    runner = PolicyRunner(draft_set, D(2017, 6, 30), "python", name="age_by_rank")
    cadre = {"id": "O1", "name": "甲", "gender": "male", "birth_date": D(1970, 1, 1), "party": "cpc",
             "posts": [{"unit": "DS-T1", "title": "镇长", "rank": "section", "principal": True, "leadership": True,
                        "start": D(2010, 1, 1)}]}
    assert "derived:over_age" in runner.evaluate(cadre, {}).asserted                # 47 > 45 for a 正科
    younger = dict(cadre, birth_date=D(1975, 1, 1))
    assert "derived:over_age" not in runner.evaluate(younger, {}).asserted
