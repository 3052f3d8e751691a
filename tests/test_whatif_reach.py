"""The reach of a draft (issue 23 §5): per requirement and per finding, the cadres whose result moves,
whatever becomes of their conclusion; the same from columns as cadre by cadre, merged over partitions.

The age-limit draft (drafts/age_limits.yaml) is the case of the issue: a cadre already ineligible for
another reason who now also fails the limit keeps the conclusion 不符合 but counts in the reach.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cadre_policy.generate.population import generate
from cadre_policy.load.drafts import load_draft
from cadre_policy.load.policyset import load
from cadre_policy.store.fact_store import FactStore
from cadre_policy.whatif.run import Job, run_whatif
from conftest import invoke

ROOT = Path(__file__).resolve().parent.parent
AGE = ROOT / "drafts" / "age_limits.yaml"
AS_OF = date(2017, 6, 30)
NEWLY = "requirement:age_limit:not applicable:unmet"


@pytest.fixture(scope="module")
def baseline():
    return load(ROOT / "policies")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('reach') / 'pop.db'}"
    units, cadres = generate(2500, 5, AS_OF)
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    return url


def _reach(url, baseline, draft=AGE, engine="columnar", workers=1, listing=True, chunk_size=400):
    draft_set, _draft, diagnostics = load_draft(draft, baseline)
    assert draft_set is not None, [str(d) for d in diagnostics]
    with FactStore(url) as store:
        result = run_whatif(Job(url, AS_OF, engine, baseline, draft_set, reach_cadres=listing), store,
                            workers=workers, chunk_size=chunk_size)
    changes = list(result.changes())
    result.close()
    return result, changes


@pytest.mark.parametrize("store", ["sample", "generated"])
def test_the_reach_from_columns_is_the_reach_cadre_by_cadre(store, sample_db, generated, baseline):
    """Columnar (the outcome pairs of a partition's distinct firings) against the python and durable_rules
    engines, which decide each cadre's outcome on its own: the same counts and the same cadres."""
    url = sample_db if store == "sample" else generated
    columnar, _ = _reach(url, baseline)
    for engine in ("python", "durable"):
        other, _ = _reach(url, baseline, engine=engine)
        assert other.reach.counts == columnar.reach.counts, engine
        assert other.reach.cadres == columnar.reach.cadres, engine
    # the sample's ten nominees are all within the limits; a tenth of the generated ones are not
    assert columnar.reach.totals()["requirement:age_limit:not applicable:met"] > 0
    assert columnar.reach.totals()[NEWLY] > 0 or store == "sample"


def test_the_reach_counts_cadres_whose_conclusion_does_not_change(generated, baseline):
    """Newly failing the limit: those whose promotion conclusion changes are among the changed cadres;
    the others were already ineligible (or pending) and are counted all the same."""
    result, changes = _reach(generated, baseline)
    moved, unchanged = result.reach.counts[(NEWLY, True)], result.reach.counts[(NEWLY, False)]
    assert moved > 0 and unchanged > 0
    changed_ids = {c["cadre"] for c in changes}
    listed = {cadre for cadre, _name, _unit in result.reach.cadres[NEWLY]}
    assert len(listed) == moved + unchanged            # all listed (fewer than reach.LISTED)
    assert len(listed & changed_ids) == moved           # the rest keep their conclusion
    for change in changes:
        if change["cadre"] in listed:
            assert change["draft"]["promotion"] == "ineligible"
    with FactStore(generated) as store:
        for doc in store.read(("ids", tuple(sorted(listed - changed_ids)[:20]))):
            assert doc["nominations"]        # the limit applies only to nominated cadres


def test_partitions_on_worker_processes_merge_to_the_single_process_reach(generated, baseline):
    one, _ = _reach(generated, baseline, workers=1, chunk_size=2500)
    two, _ = _reach(generated, baseline, workers=2, chunk_size=300)
    assert two.reach.counts == one.reach.counts and two.reach.cadres == one.reach.cadres


def test_a_parameter_draft_reaches_findings_and_requirements(sample_db, baseline):
    """grassroots_3y on the sample: the requirement newly unmet and the development target newly found."""
    result, _ = _reach(sample_db, baseline, draft=ROOT / "drafts" / "grassroots_3y.yaml")
    totals = result.reach.totals()
    assert totals["finding:grassroots_development_needed:absent:active"] > 0
    assert any(key.startswith("requirement:grassroots_two_years:") and key.endswith(":unmet") for key in totals)


def test_cli_text_json_and_html_state_both_numbers(generated, tmp_path):
    text = invoke(generated, "--lang", "zh", "whatif", "--draft", AGE, "--workers", "1", "-q", "--limit", "0")
    assert text.exit_code == 0, text.output
    out = invoke(generated, "--lang", "zh", "whatif", "--draft", AGE, "--workers", "1", "-q", "--format", "json", "--reach-cadres")
    doc = json.loads(out.stdout)
    newly = next(r for r in doc["reach"]["transitions"] if r["key"] == NEWLY)
    assert f"结论改变 {doc['changed']:,} 名；新不满足“提拔时年龄不超过拟任职务层次的上限” {newly['cadres']:,} 名" \
        in text.stdout
    assert doc["reach"]["sentence"] in text.stdout and newly["cadres"] > doc["changed"] // 2
    assert len(newly["listed"]) == newly["cadres"] and {"cadre", "name", "unit", "unit_name"} <= set(newly["listed"][0])
    assert newly["baseline_word"] == "不适用" and newly["draft_word"] == "不符合"
    plain = json.loads(invoke(generated, "whatif", "--draft", AGE, "--workers", "1", "-q", "--format", "json").stdout)
    assert "listed" not in plain["reach"]["transitions"][0]          # listed only on request
    html = tmp_path / "age.html"
    assert invoke(generated, "--lang", "zh", "whatif", "--draft", AGE, "--workers", "1", "-q", "--format", "html", "-o", html,
                  "--reach-cadres").exit_code == 0
    page = html.read_text(encoding="utf-8")
    assert doc["reach"]["sentence"] in page and 'id="reach"' in page and '<details class="listed">' in page
    assert newly["listed"][0]["cadre"] in page


@pytest.mark.slow
def test_the_age_limit_draft_on_50000_cadres_reports_both_numbers(tmp_path):
    """Issue 23's done-when: the changed conclusions and the cadres newly failing each limit, at 50,000."""
    url = f"sqlite:///{tmp_path / 'pop.db'}"
    units, cadres = generate(50_000, 1, AS_OF)
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    out = invoke(url, "whatif", "--draft", AGE, "-q", "--format", "json")
    doc = json.loads(out.stdout)
    newly = next(r for r in doc["reach"]["transitions"] if r["key"] == NEWLY)
    assert doc["cadres"] == 50_000 and 0 < doc["changed"] < newly["cadres"]
    assert newly["conclusion_unchanged"] == newly["cadres"] - sum(
        1 for c in doc["changes"] if any(r.get("requirement") == "age_limit" and r["draft"] == "unmet"
                                         for item in c["changes"] for r in item["rules"]))


def test_a_recorded_whatif_with_its_cadres_listed_is_reproduced(sqlite_url):
    """The record keeps that the reach's cadres were asked for, so `records verify` re-runs the same document."""
    from conftest import SAMPLE
    assert invoke(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    asked = invoke(sqlite_url, "whatif", "--draft", AGE, "-q", "--workers", "1", "--reach-cadres", "--record",
                   "--format", "json")
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.stdout)["reach"]["transitions"][0]["listed"]
    verified = invoke(sqlite_url, "records", "verify", "1")
    assert verified.exit_code == 0, verified.output


def test_the_reach_lists_the_same_cadres_on_every_database(store_url, baseline):
    """The names of the listed cadres are read from the store the partition was read from."""
    from conftest import SAMPLE
    assert invoke(store_url, "facts", "import", SAMPLE).exit_code == 0
    columnar, _ = _reach(store_url, baseline, draft=ROOT / "drafts" / "grassroots_3y.yaml", workers=2, chunk_size=20)
    python, _ = _reach(store_url, baseline, draft=ROOT / "drafts" / "grassroots_3y.yaml", engine="python")
    assert columnar.reach.cadres == python.reach.cadres and columnar.reach.cadres
    assert all(name for who in columnar.reach.cadres.values() for _id, name, _unit in who)


def test_a_code_takes_the_worst_result_of_its_rules_and_the_lists_keep_the_first_ids(monkeypatch):
    from cadre_policy.run.outcome import Outcome
    from cadre_policy.whatif import reach as reach_module
    from cadre_policy.whatif.reach import Reach, transitions

    def outcome(results, findings=()):
        return Outcome(tuple((rule, code, None) for rule, code in findings),
                       tuple(("promotion", rule, code, result, None) for rule, code, result in results), ())
    before = outcome([("a.1", "grassroots", "met"), ("b.1", "grassroots", "met"), ("c.1", "age", "unknown")],
                     [("f.1", "admonishment_talk")])
    after = outcome([("a.1", "grassroots", "met"), ("b.1", "grassroots", "unmet"), ("c.1", "age", "met")],
                    [("g.1", "rotation_due")])
    assert transitions(before, after) == ("requirement:age:unknown:met", "requirement:grassroots:met:unmet",
                                          "finding:admonishment_talk:active:absent",
                                          "finding:rotation_due:absent:active")
    assert transitions(before, before) == ()
    monkeypatch.setattr(reach_module, "LISTED", 3)
    whole, parts = Reach(listing=True), [Reach(listing=True) for _ in range(2)]
    for i, cadre in enumerate(["C9", "C2", "C7", "C1", "C5"]):
        parts[i % 2].add(("requirement:age:met:unmet",), i % 2 == 0, who=[(cadre, "", "U")])
    for part in reversed(parts):
        whole.merge(part)
    assert whole.cadres["requirement:age:met:unmet"] == [("C1", "", "U"), ("C2", "", "U"), ("C5", "", "U")]
    assert whole.totals()["requirement:age:met:unmet"] == 5 and whole.rows()[0]["conclusion_unchanged"] == 2
    assert whole.headline() == [("newly_unmet", "age", 5)]
