"""`policy check`, `policy test`, `policy show`, `policy facts fields` through the CLI."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT

AS_OF = "2017-06-30"


def test_check_json_is_the_documented_contract(run_cli, sample_db):
    result = run_cli(sample_db, "check", "C0001", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"cadre", "as_of", "policy_set", "findings", "promotion"}
    assert out["cadre"] == "C0001" and out["as_of"] == AS_OF
    assert out["policy_set"]["digest"].startswith("sha256:")
    for finding in out["findings"]:
        assert set(finding) >= {"code", "status", "rule", "provision", "title", "because", "source"}
        assert finding["status"] in ("active", "superseded")
        assert finding["source"]["quote"]
    promotion = out["promotion"]
    assert promotion["eligibility"] in ("eligible", "ineligible", "pending")
    for requirement in promotion["requirements"]:
        assert requirement["result"] in ("met", "unmet", "unknown")
        assert requirement["provision"].startswith("P")


def test_check_text_names_values_thresholds_and_source(run_cli, sample_db):
    # the sample's 16/45 review: admonishment with the vote share against 1/3, and the quote
    ids = json.loads(run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()[0])
    assert ids["cadre"]
    lines = run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()
    admonished = next(json.loads(line) for line in lines
                      if any(f["code"] == "admonishment_talk" and f["status"] == "active"
                             and f["rule"] == "supervision.admonish" for f in json.loads(line)["findings"]))
    text = run_cli(sample_db, "--lang", "zh", "check", admonished["cadre"], "--as-of", AS_OF).stdout
    assert "诫勉谈话" in text and "，超过 1/3" in text and "对测评" in text and "\x1b[" not in text


def test_superseded_finding_is_reported_not_dropped(run_cli, sample_db):
    lines = run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()
    results = [json.loads(line) for line in lines]
    demoted = [r for r in results if any(f["code"] == "demotion_or_removal" for f in r["findings"])]
    assert demoted
    assert any(f["status"] == "superseded" and f["superseded_by"] == "supervision.demote"
               for r in demoted for f in r["findings"])


def test_check_all_summary(run_cli, sample_db):
    result = run_cli(sample_db, "check", "--all", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "Summary: 64 cadres on 2017-06-30" in result.stdout and "admonishment_talk" in result.stdout


def test_every_individual_finding_code_fires_on_the_sample(run_cli, sample_db):
    lines = run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()
    codes = {f["code"] for line in lines for f in json.loads(line)["findings"]}
    assert codes >= {"admonishment_talk", "demotion_or_removal", "removal_from_leadership", "promotion_barred",
                     "promotion_vetoed", "grassroots_experience_insufficient", "grassroots_development_needed",
                     "supervision_review_due", "exchange_required", "exchange_recommended", "rotation_due",
                     "position_adjustment", "recruitment_exception"}


def test_both_engines_give_the_same_json(run_cli, sample_db):
    for cadre in ("C0001", "C0010", "C0020", "C0030"):
        a = run_cli(sample_db, "check", cadre, "--as-of", AS_OF, "--format", "json", "--engine", "durable").stdout
        b = run_cli(sample_db, "check", cadre, "--as-of", AS_OF, "--format", "json", "--engine", "python").stdout
        assert a == b


def test_check_all_is_the_same_on_the_three_engines(run_cli, sample_db):
    outputs = {engine: run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "json",
                               "--engine", engine).stdout for engine in ("durable", "python", "columnar")}
    assert outputs["durable"] == outputs["python"] == outputs["columnar"]
    assert run_cli(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "json").stdout == outputs["columnar"]


def _near(run_cli, sample_db, cadre, *args):
    out = json.loads(run_cli(sample_db, "check", cadre, "--as-of", AS_OF, "--format", "json", "--near", *args).stdout)
    return [(m["rule"], m["now"], m["fact"], m["value"], m["op"], m["threshold"], m["distance"], m["unit"], m["text"])
            for m in out["near_misses"]]


def test_near_misses(run_cli, sample_db):
    assessment = ("yichang_adjustment.assessment", "does not fire", "recent_problem_assessments", "0", "以上", "1",
                  1, "units", "recent_problem_assessments 为 1 时结论即改变")
    assert _near(run_cli, sample_db, "C0018") == [assessment]             # 白河县, in the 宜昌 plan's jurisdiction
    assert _near(run_cli, sample_db, "C0001") == []     # 清江县: no threshold of the 宜昌 plan is near for him
    # C0034 (宜昌) has a review of 12/45: 清江县's ratios are not near for him either
    assert _near(run_cli, sample_db, "C0034") == [assessment]
    # 袁刚 23/45: one dissatisfied vote fewer is exactly 1/2, no longer more than half
    ratio = "latest_review.dissatisfied/latest_review.total"
    assert _near(run_cli, sample_db, "C0028", "--margin", "1") == [
        ("supervision.demote", "fires", ratio, "23/45", "超过", "1/2", 1, "votes", "latest_review.dissatisfied 再少1票即为 22/45")]
    everything = _near(run_cli, sample_db, "C0028")
    assert ("supervision.admonish", "fires", ratio, "23/45", "超过", "1/3", 8, "votes",
            "latest_review.dissatisfied 再少8票即为 15/45") in everything
    # the measures hold for the review's five-year cycle: 2016-06-01 + 5 years
    assert ("supervision.demote", "fires", "latest_review.date", "2016-06-01", "within", "5年", 1432, "days",
            "1432天后届满（2021-06-01）") in everything


@pytest.mark.parametrize("args,needle", [
    (["check", "C9999", "--as-of", AS_OF], "unknown cadre id: C9999"),
    (["check", "C0001", "--as-of", "2017-13-01"], "2017-13-01"),
    (["check", "C0001", "--policies", "/nonexistent"], "policy"),
    (["check"], "CADRE_ID"),
    (["show", "supervision.admonsh"], "did you mean 'supervision.admonish'"),
])
def test_bad_input_exits_2_without_traceback(run_cli, sample_db, args, needle):
    result = run_cli(sample_db, *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_policy_test_passes_on_the_library_and_reports_a_failure(run_cli, tmp_path, sample_db):
    result = run_cli(sample_db, "test", "--coverage")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("PASS: ")
    assert "UNCOVERED" not in result.stdout
    broken = tmp_path / "broken.tests.yaml"
    text = (ROOT / "policies" / "supervision.tests.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("units: test_units.yaml", f"units: {ROOT / 'policies' / 'test_units.yaml'}")
                      .replace("findings: [admonishment_talk]", "findings: [demotion_or_removal]", 1),
                      encoding="utf-8")
    failed = run_cli(sample_db, "test", str(broken))
    assert failed.exit_code == 1
    assert f"FAIL {broken}:" in failed.stdout
    assert "missing demotion_or_removal" in failed.stdout and "unexpected admonishment_talk" in failed.stdout


def test_show_prints_a_chinese_sentence_with_parameters_in_force(run_cli, sample_db):
    result = run_cli(sample_db, "show", "supervision.admonish", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "如果" in result.stdout and "超过 1/3" in result.stdout and "P004-5" in result.stdout
    assert "原文" in result.stdout


def test_facts_fields_catalogue(run_cli, sample_db):
    result = run_cli(sample_db, "facts", "fields")
    assert result.exit_code == 0
    for name in ("cadre.age", "latest_review.dissatisfied", "grassroots_experience", "promotion.target_rank"):
        assert name in result.stdout
