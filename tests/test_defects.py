"""The fidelity defects of issue 22, each at its boundary, through the commands a user runs."""
from __future__ import annotations

import json
from datetime import date

import pytest

from conftest import SAMPLE, invoke


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('defects') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


# ---- 7. no determination without a post ---------------------------------------------------------
@pytest.mark.parametrize("engine", ["durable", "python", "columnar"])
def test_no_post_and_no_nomination_is_no_determination(sample_db, engine):
    # C0001 starts work in 1994 (no post on 1993-12-31), C0050 joins on 2015-07-15
    before = json.loads(invoke(sample_db, "check", "C0050", "--as-of", "2015-07-14", "--engine", engine,
                               "--format", "json").stdout)
    assert before["promotion"] is None
    first_day = json.loads(invoke(sample_db, "check", "C0050", "--as-of", "2015-07-15", "--engine", engine,
                                  "--format", "json").stdout)
    assert first_day["promotion"] is not None and first_day["promotion"]["target_rank"] == "deputy_section"
    text = invoke(sample_db, "--lang", "zh", "check", "C0050", "--as-of", "2015-07-14", "--engine", engine).stdout
    assert "提拔任用资格: 不适用（无现任职务，也无提名）" in text and "待定" not in text


def test_check_all_counts_no_eligibility_for_a_person_without_a_post(sample_db):
    doc = json.loads(invoke(sample_db, "check", "--all", "--as-of", "2015-07-14", "--format", "json").stdout)
    none = [c["cadre"] for c in doc["cadres"] if c["promotion"] is None]
    assert "C0050" in none
    pending = [c["cadre"] for c in doc["cadres"] if c["promotion"] and c["promotion"]["eligibility"] == "pending"]
    assert doc["summary"]["promotion"]["pending"] == len(pending) and "C0050" not in pending


# ---- 1. an audit reads the parameters of each record's own date ------------------------------------
def _promoted_on(day, grassroots_from):
    """A 宜昌 cadre promoted to 副县 on ``day``, with grassroots experience from ``grassroots_from``."""
    from datetime import timedelta
    return {"id": f"A{day:%Y%m%d}", "name": "审计", "gender": "male", "birth_date": date(1975, 1, 1), "party": "cpc",
            "posts": [{"unit": "DS-T1", "title": "镇长", "rank": "section", "principal": True, "leadership": True,
                       "start": grassroots_from, "end": day - timedelta(days=1)},
                      {"unit": "JC-FIN", "title": "副局长", "rank": "deputy_county", "principal": False,
                       "leadership": True, "start": day}],
            "appraisals": [], "reviews": [], "nominations": [], "polls": [], "opinions": [], "assessments": []}


@pytest.mark.parametrize("engine", ["durable", "python", "columnar"])
def test_a_dated_draft_audits_each_promotion_by_the_rule_of_its_day(tmp_path, engine):
    from cadre_policy import data
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.load.policyset import load
    from cadre_policy.record.columns import from_documents
    from cadre_policy.run.columnar import ColumnarEngine
    from cadre_policy.run.columnar.derive import ColumnarDeriver
    from cadre_policy.run.evaluate import PolicyRunner, normalise_units
    draft = tmp_path / "d.yaml"
    draft.write_text("id: d3\ntitle: 2016年起三年\nparameters:\n  yichang_grassroots.grassroots_min: {2016-01-01: 3}\n",
                     encoding="utf-8")
    draft_set, _, problems = load_draft(draft, load(data.POLICIES))
    assert draft_set is not None, problems
    import yaml
    units = normalise_units({u["id"]: u for u in yaml.safe_load(
        (data.POLICIES / "test_units.yaml").read_text(encoding="utf-8"))["units"]})
    # two years and a half of grassroots experience on the day of each promotion
    docs = [_promoted_on(date(2015, 1, 1), date(2012, 7, 1)),      # the 2-year rule: sufficient
            _promoted_on(date(2015, 12, 31), date(2013, 7, 1)),    # the day before the 3-year rule: sufficient
            _promoted_on(date(2016, 1, 1), date(2013, 7, 2)),      # its first day: insufficient
            _promoted_on(date(2016, 6, 1), date(2013, 6, 1))]      # exactly three years: sufficient
    runner = PolicyRunner(draft_set, date(2017, 6, 30), "python" if engine == "columnar" else engine,
                          name=f"dated_{engine}")
    if engine == "columnar":
        table = ColumnarDeriver(runner).table(from_documents(docs), units)
        matrix = ColumnarEngine(runner.compiled).run_table(table)
        flagged = [("yichang_grassroots.promotion_audit", "fire") in matrix.firings(i).fired for i in range(len(docs))]
    else:
        flagged = ["grassroots_experience_insufficient" in runner.evaluate(doc, units).active_codes() for doc in docs]
    assert flagged == [False, False, True, False]
