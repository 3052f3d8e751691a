"""Drafts: schema and lint errors at draft-file positions, new policy sets, an untouched baseline."""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from cadre_policy import data
from cadre_policy.load.drafts import DraftError, load_draft, parse_set
from cadre_policy.parse.schemas import validator
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.load.policyset import load
from cadre_policy.generate.population import generate

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
AS_OF = date(2017, 6, 30)
HEAD = "# yaml-language-server: $schema=../schemas/draft.schema.json\n"


@pytest.fixture(scope="module")
def baseline():
    return load(POLICIES)


def draft(tmp_path, body, name="d"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def lines(diagnostics):
    return [str(d) for d in diagnostics]


def test_the_draft_schema_refers_to_the_policy_definitions():
    schema = data.schema("draft")
    assert schema["properties"]["replace"]["items"] == {"$ref": "policy.schema.json#/$defs/rule"}
    errors = list(validator("draft").iter_errors({"id": "d", "title": "t", "replace": [{"id": "x"}]}))
    assert errors and errors[0].absolute_path[0] == "replace"


@pytest.mark.parametrize("path", sorted((ROOT / "drafts").glob("*.yaml")), ids=lambda p: p.name)
def test_sample_drafts_are_clean(path, baseline):
    draft_set, info, diagnostics = load_draft(path, baseline)
    assert draft_set is not None and not diagnostics, lines(diagnostics)


def test_schema_errors_have_draft_positions(tmp_path, baseline):
    path = draft(tmp_path, "id: d1\ntitle: 草案\nparamters: {}\nreplace:\n  - id: supervision.admonish\n"
                           "    title: x\n")
    _, _, diagnostics = load_draft(path, baseline)
    found = lines(diagnostics)
    assert f"{path}:4:1: E102 unknown key 'paramters' (did you mean 'parameters'?)" in found
    assert any(line.startswith(f"{path}:6:5: E101") and "provision" in line for line in found), found


def test_reference_and_value_errors_have_draft_positions(tmp_path, baseline):
    path = draft(tmp_path, """\
id: d2
title: 草案
parameters:
  supervision.admonish_ratoi: 3/10
  supervision.demote_ratio: half
disable: [supervision.duee]
replace:
  - id: supervision.nope
    title: 无
    provision: P004-5
    quote: 无
    finding: admonishment_talk
    when: {fact: cadre.age, gt: 50}
""")
    draft_set, _, diagnostics = load_draft(path, baseline)
    assert draft_set is None
    found = lines(diagnostics)
    assert f"{path}:5:3: E202 unknown parameter 'supervision.admonish_ratoi': a draft names parameters as " \
           f"policy.name (did you mean 'supervision.admonish_ratio'?)" in found
    assert any(line.startswith(f"{path}:6:29: E303") for line in found), found
    assert f"{path}:7:11: E204 unknown rule id 'supervision.duee' in disable (did you mean 'supervision.due'?)" \
        in found
    assert any(line.startswith(f"{path}:9:9: E204 unknown rule id 'supervision.nope'") for line in found), found


def test_checker_errors_in_draft_rules_point_into_the_draft(tmp_path, baseline):
    path = draft(tmp_path, """\
id: d3
title: 草案
add:
  supervision:
    - id: supervision.extra
      title: 新规则
      provision: P004-5
      quote: 新
      finding: admonishment_tlak
      when: {fact: latest_review.disatisfied, gt: 3}
""")
    draft_set, _, diagnostics = load_draft(path, baseline)
    assert draft_set is None
    found = lines(diagnostics)
    assert any(line.startswith(f"{path}:6:7: E203 unknown finding code 'admonishment_tlak'") for line in found), found
    assert any(line.startswith(f"{path}:11:13: E201 unknown fact 'latest_review.disatisfied'")
               and "latest_review.dissatisfied" in line for line in found), found
    # the baseline's own warnings are not repeated as the draft's
    assert all(line.startswith(str(path)) for line in found), found


def test_a_draft_builds_a_new_set_and_leaves_the_baseline_alone(tmp_path, baseline):
    before = (baseline.digest, baseline.rules, baseline.parameters, baseline.derived)
    path = draft(tmp_path, """\
id: d4
title: 草案
in_force: {from: 2017-06-30}
jurisdiction: {regions: [全国]}
parameters:
  supervision.admonish_ratio: 3/10
  yichang_grassroots.grassroots_min: {2017-01-01: 3}
disable: [supervision.due]
add:
  - id: d4.old_principal
    title: 年满55岁的正职
    provision: P004-5
    quote: 测试
    finding: position_adjustment
    when: {fact: cadre.age, 以上: 55}
derived:
  grassroots_experience:
    title: 基层工作经历（借调计入）
    duration: posts
    where: {field: unit.level, in: [county, township, village]}
""")
    draft_set, info, diagnostics = load_draft(path, baseline)
    assert draft_set is not None, lines(diagnostics)
    assert (baseline.digest, baseline.rules, baseline.parameters, baseline.derived) == before
    assert draft_set.digest != baseline.digest
    params = draft_set.parameters
    assert params["supervision.admonish_ratio"].values == ((date(2008, 1, 1), "1/3"), (date(2017, 6, 30), "3/10"))
    assert params["yichang_grassroots.grassroots_min"].raw_on(AS_OF) == 3
    assert params["yichang_grassroots.grassroots_min"].raw_on(date(2016, 1, 1)) == 2
    assert draft_set.rule("supervision.due") is None and baseline.rule("supervision.due") is not None
    added = draft_set.rule("d4.old_principal")
    assert added.policy == "d4" and draft_set.policy_of(added).file == str(path)
    assert draft_set.derived["grassroots_experience"].policy == "common"
    assert draft_set.derived["grassroots_experience"].where != baseline.derived["grassroots_experience"].where
    assert info.disabled == ("supervision.due",) and info.added == ("d4.old_principal",)


def test_baseline_draft_baseline_in_one_process_gives_identical_baseline_results(tmp_path, baseline):
    units, cadres = generate(400, 5, AS_OF)
    units = normalise_units({u["id"]: u for u in units})
    docs = list(cadres)
    first = PolicyRunner(baseline, AS_OF, "durable", name="b1")
    results = [first.evaluate(d, units).signature() for d in docs]
    draft_set, _, diagnostics = load_draft(ROOT / "drafts" / "replace_and_disable.yaml", baseline)
    assert draft_set is not None, lines(diagnostics)
    drafted = PolicyRunner(draft_set, AS_OF, "durable", name="d1",
                           overrides={"supervision.admonish_ratio": Fraction(1, 10)})
    draft_results = [drafted.evaluate(d, units).signature() for d in docs]
    assert draft_results != results
    again = PolicyRunner(baseline, AS_OF, "durable", name="b2")
    assert [again.evaluate(d, units).signature() for d in docs] == results
    assert [first.evaluate(d, units).signature() for d in docs] == results


@pytest.mark.parametrize("text,expected", [
    ("supervision.admonish_ratio=3/10", ("supervision.admonish_ratio", Fraction(3, 10))),
    ("admonish_ratio = 3/10", ("supervision.admonish_ratio", Fraction(3, 10))),
    ("yichang_grassroots.grassroots_min=3", ("yichang_grassroots.grassroots_min", 3)),
    ("common.grassroots_levels=township,village", ("common.grassroots_levels", ("township", "village"))),
])
def test_set_values_are_parsed_by_kind(baseline, text, expected):
    assert parse_set(baseline, text, AS_OF) == expected


@pytest.mark.parametrize("text,message", [
    ("supervision.admonish_ration=3/10", "did you mean 'supervision.admonish_ratio'?"),
    ("supervision.admonish_ratio=0.3", "not an exact fraction"),
    ("yichang_grassroots.grassroots_min=2.5", "not a whole number"),
    ("supervision.admonish_ratio", "NAME=VALUE"),
])
def test_set_errors_are_one_line(baseline, text, message):
    with pytest.raises(DraftError) as error:
        parse_set(baseline, text, AS_OF)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_policy_lint_accepts_a_draft_file(tmp_path):
    from click.testing import CliRunner
    from cadre_policy.cli import main
    good = CliRunner().invoke(main, ["lint", str(ROOT / "drafts" / "admonish_30pct.yaml")])
    assert good.exit_code == 0, good.output
    path = draft(tmp_path, "id: d5\ntitle: 坏\ndisable: [supervision.duee]\n")
    bad = CliRunner().invoke(main, ["lint", str(path)])
    assert bad.exit_code == 1
    assert f"{path}:4:11: E204 unknown rule id 'supervision.duee'" in bad.output


def test_a_draft_may_move_a_document_and_must_place_its_own(tmp_path, baseline):
    """Drafts change jurisdictions too: 004's supervision applied in 宜昌; a new document says where it binds."""
    from cadre_policy.run.evaluate import PolicyRunner, normalise_units
    path = draft(tmp_path, """\
id: d6
title: 草案：宜昌采用清江县的监督评议
jurisdictions:
  supervision: {regions: [宜昌市, 清江县], note: 宜昌市采用}
""")
    draft_set, _, diagnostics = load_draft(path, baseline)
    assert draft_set is not None, lines(diagnostics)
    units = normalise_units({"YC": {"id": "YC", "name": "中共宜昌市委", "kind": "party_committee", "level": "city",
                                    "region": "宜昌市"},
                             "T": {"id": "T", "name": "镇", "kind": "township", "level": "township", "parent": "YC"}})
    doc = {"id": "X", "name": "测", "management": "county", "reviews": [{"date": date(2017, 3, 1), "total": 45,
                                                                       "dissatisfied": 16}],
           "posts": [{"unit": "T", "title": "镇党委书记", "rank": "section", "principal": True, "leadership": True,
                      "start": date(2015, 1, 1)}]}
    day = date(2017, 6, 30)
    assert "admonishment_talk" not in PolicyRunner(baseline, day, "python").evaluate(doc, units).active_codes()
    assert "admonishment_talk" in PolicyRunner(draft_set, day, "python").evaluate(doc, units).active_codes()
    missing = draft(tmp_path, """\
id: d7
title: 草案（新文件）
add:
  - id: d7.r
    title: 年满55岁
    provision: P004-5
    quote: 测试
    finding: position_adjustment
    when: {fact: cadre.age, 以上: 55}
""")
    draft_set, _, diagnostics = load_draft(missing, baseline)
    assert draft_set is None and any(d.code == "E408" for d in diagnostics), lines(diagnostics)
