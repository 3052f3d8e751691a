"""Whom each document binds (issue 22): a 宜昌 cadre is never bound by 清江县's documents (004,
000) and a 清江县 cadre never by the 宜昌 plan (003), in check, check --all, what-if and
structure, on every engine; a nomination into the other jurisdiction is judged by the
target's documents for the promotion requirements and by the current unit's for the rest.

The expected jurisdiction of every cadre is read here by a plain walk up the unit parent
chain, sharing no code with the engine.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cadre_policy.generate.population import generate
from cadre_policy.load.policyset import load
from cadre_policy.record.columns import from_documents
from cadre_policy.run.columnar import ColumnarEngine
from cadre_policy.run.columnar.derive import ColumnarDeriver
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from conftest import ROOT, SAMPLE, invoke

POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = date(2017, 6, 30)
ENGINES = ["durable", "python", "columnar"]
PLAN = {"yichang_grassroots", "yichang_exchange", "yichang_adjustment", "structure"}      # 003: 宜昌市
COUNTY = {"appraisal", "opinion_poll", "supervision", "industrial_park"}                  # 004, 000: 清江县


def region_chain(units: dict, unit_id) -> set:
    found, seen = set(), set()
    while unit_id in units and unit_id not in seen:
        seen.add(unit_id)
        found.add(units[unit_id].get("region"))
        unit_id = units[unit_id].get("parent")
    return found


def held(doc: dict, day: date):
    posts = [p for p in doc.get("posts", ()) if p["start"] <= day and (p.get("end") is None or p["end"] >= day)]
    return max(posts, key=lambda p: (RANKS.index(p["rank"]), p["start"]), default=None)


RANKS = ["clerk", "deputy_section", "section", "deputy_county", "county", "deputy_prefecture", "prefecture"]


def promotion_unit(doc: dict, day: date):
    """The latest nomination's target unit while no post at or above its rank has started since; else the post's."""
    post = held(doc, day)
    nominations = [n for n in doc.get("nominations", ()) if n["date"] <= day]
    if nominations and nominations[-1].get("target_unit"):
        last = nominations[-1]
        target = RANKS.index(last["target_rank"])
        if not any(last["date"] <= p["start"] <= day and RANKS.index(p["rank"]) >= target for p in doc["posts"]):
            return last["target_unit"]
    return post["unit"] if post else None


def check_bound(policy_set, result, doc: dict, units: dict) -> None:
    """Every active finding and every listed requirement comes from a document that binds the cadre."""
    here = region_chain(units, (held(doc, AS_OF) or {}).get("unit"))
    there = region_chain(units, promotion_unit(doc, AS_OF))
    for finding in result.findings:
        policy = finding.rule.policy
        regions = here | there if policy in ("opinion_poll", "industrial_park") else here
        assert policy not in PLAN or "宜昌市" in regions, (doc["id"], finding.rule.id)
        assert policy not in COUNTY or "清江县" in regions, (doc["id"], finding.rule.id)
    for determination in result.determinations.values():
        for requirement in determination["requirements"]:
            policy = requirement.rule.policy
            assert policy not in PLAN or "宜昌市" in there, (doc["id"], requirement.rule.id)
            assert policy not in COUNTY or "清江县" in there, (doc["id"], requirement.rule.id)


@pytest.fixture(scope="module")
def policy_set():
    return load(POLICIES)


@pytest.fixture(scope="module")
def population():
    units, cadres = generate(4_000, 22, AS_OF)
    units = normalise_units({u["id"]: u for u in units})
    return units, list(cadres)


def test_the_generated_population_spans_both_jurisdictions(population):
    units, docs = population
    places = [region_chain(units, (held(doc, AS_OF) or {}).get("unit")) for doc in docs]
    assert sum("宜昌市" in p for p in places) > 1000 and sum("清江县" in p for p in places) > 300
    assert not any("宜昌市" in p and "清江县" in p for p in places)
    assert {"湖北省", "江苏省"} <= set().union(*places)


def test_no_document_binds_outside_its_jurisdiction_on_every_engine(policy_set, population):
    units, docs = population
    runners = {engine: PolicyRunner(policy_set, AS_OF, engine, name=f"jurisdiction_{engine}") for engine in ENGINES}
    bound = {"plan": 0, "county": 0}
    for doc in docs:
        results = [runners[engine].evaluate(doc, units) for engine in ENGINES]
        assert results[0].signature() == results[1].signature() == results[2].signature(), doc["id"]
        check_bound(policy_set, results[0], doc, units)
        codes = {f.rule.policy for f in results[0].findings}
        bound["plan"] += bool(codes & PLAN)
        bound["county"] += bool(codes & COUNTY)
    assert bound["plan"] > 50 and bound["county"] > 20      # both kinds of document do fire


def test_the_columnar_derivation_places_every_cadre_as_the_per_cadre_one(policy_set, population):
    units, docs = population
    python = PolicyRunner(policy_set, AS_OF, "python", name="jurisdiction_columns")
    table = ColumnarDeriver(python).table(from_documents(docs), units)
    for path in ("place.unit.regions.宜昌市", "place.promotion_unit.regions.清江县"):
        column = table.column(path)
        assert column is not None, path
        expected = [path.rsplit(".", 1)[1] in region_chain(
            units, (held(doc, AS_OF) or {}).get("unit") if ".unit." in path else promotion_unit(doc, AS_OF))
            for doc in docs]
        got = [bool(column.present[i] and column.num[i]) for i in range(len(docs))]
        assert got == expected, path
    matrix = ColumnarEngine(python.compiled).run_table(table)
    for row, doc in enumerate(docs):
        assert matrix.firings(row) == python.engine.run(python.facts(doc, units)[1]), doc["id"]


# ---- the sample, through the commands ------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('jurisdiction') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


YICHANG = ("JL-", "BH-", "DH-")


@pytest.mark.parametrize("engine", ENGINES)
def test_check_all_binds_each_cadre_by_its_own_documents(sample_db, engine):
    result = invoke(sample_db, "check", "--all", "--as-of", "2017-06-30", "--engine", engine, "--format", "json")
    assert result.exit_code == 0, result.stderr
    cadres = {c["cadre"]: c for c in json.loads(result.stdout)["cadres"]}
    assert len(cadres) == 64
    from cadre_policy.store.fact_store import FactStore
    with FactStore(sample_db) as store:
        units = store.units()
        docs = {cid: store.cadre(cid) for cid in cadres}
    for cid, out in cadres.items():
        here = region_chain(units, held(docs[cid], AS_OF)["unit"])
        there = region_chain(units, promotion_unit(docs[cid], AS_OF))
        for finding in out["findings"]:
            assert finding["source"]["jurisdiction"] in here | there | {"全国"}, (cid, finding["rule"])
        for requirement in out["promotion"]["requirements"]:
            assert requirement["jurisdiction"] in there | {"全国"}, (cid, requirement["rule"])
    # at the boundaries
    assert [f["code"] for f in cadres["C0062"]["findings"]] == ["admonishment_talk", "promotion_barred"]
    c0063 = cadres["C0063"]
    assert [f["rule"] for f in c0063["findings"]] == ["supervision.admonish"]          # her current unit: 清江县
    def regional(cadre):
        return {(r["code"], r["jurisdiction"]) for r in cadres[cadre]["promotion"]["requirements"]
                if r["jurisdiction"] != "全国"}
    assert regional("C0063") == {("grassroots_two_years", "宜昌市")}                     # the target: 宜昌
    assert regional("C0024") == {("appraisal_excellent", "清江县"), ("no_promotion_bar", "清江县"),
                                 ("opinion_poll_passed", "清江县")}                      # nominated into 清江县
    assert "department_opinions_clear" not in {r["code"] for r in cadres["C0039"]["promotion"]["requirements"]}


def test_the_day_before_the_move_the_cadre_is_still_yichangs(sample_db):
    before = json.loads(invoke(sample_db, "check", "C0062", "--as-of", "2017-06-29", "--format", "json").stdout)
    after = json.loads(invoke(sample_db, "check", "C0062", "--as-of", "2017-06-30", "--format", "json").stdout)
    assert before["findings"] == [] and {r["jurisdiction"] for r in before["promotion"]["requirements"]} == {"宜昌市"}
    assert {f["source"]["jurisdiction"] for f in after["findings"]} == {"清江县"}


def test_check_verbose_lists_the_documents_that_do_not_bind(sample_db):
    out = invoke(sample_db, "--lang", "zh", "check", "C0042", "--as-of", "2017-06-30", "--verbose").stdout
    assert "未适用：《深化干部制度改革 推进又好又快发展》（辖区 清江县）" in out
    assert "未适用：《宜昌市" not in out
    assert "[P003-1 · 宜昌市]" in out
    plain = invoke(sample_db, "--lang", "zh", "check", "C0042", "--as-of", "2017-06-30").stdout
    assert "未适用" not in plain
    county = invoke(sample_db, "--lang", "zh", "check", "C0007", "--as-of", "2017-06-30", "-v").stdout
    assert "未适用：《宜昌市现代化特大城市建设领导班子和干部队伍五年规划(2013—2017年)》（辖区 宜昌市）" in county
    assert "（辖区 清江县）：“对测评" in county
    # C0063 is bound by both: 清江县 where she is, 宜昌 where she is nominated
    both = invoke(sample_db, "--lang", "zh", "check", "C0063", "--as-of", "2017-06-30", "-v").stdout
    assert "未适用" not in both


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_whatif_changes_only_the_cadres_a_document_binds(sample_db, engine):
    with_ratio = invoke(sample_db, "whatif", "--set", "supervision.admonish_ratio=1/5", "--as-of", "2017-06-30",
                        "--engine", engine, "--workers", "1", "--quiet", "--format", "json")
    assert with_ratio.exit_code == 0, with_ratio.stderr
    changed = {c["cadre"] for c in json.loads(with_ratio.stdout)["changes"]}
    assert changed and all(c["unit"].startswith("QJ-") for c in json.loads(with_ratio.stdout)["changes"])
    # C0034 (东湖区, 宜昌) has a review of 12/45: above 1/5, yet 清江县's rule does not reach him
    assert "C0034" not in changed
    young = invoke(sample_db, "whatif", "--set", "yichang_grassroots.grassroots_min=20", "--as-of", "2017-06-30",
                   "--engine", engine, "--workers", "1", "--quiet", "--format", "json")
    assert young.exit_code == 0, young.stderr
    changes = json.loads(young.stdout)["changes"]
    outside = [c["cadre"] for c in changes if not c["unit"].startswith(YICHANG)]
    assert len(changes) > 10 and outside == ["C0063"], outside     # 清江县's C0063 is nominated into 宜昌


def test_structure_counts_the_plan_only_in_yichang(sample_db):
    doc = json.loads(invoke(sample_db, "structure", "--as-of", "2017-06-30", "--format", "json").stdout)
    assert doc["results"] and {r["region"] for r in doc["results"]} <= {"宜昌市", "白河县", "东湖区"}
    listed = {m["id"] for r in doc["results"] for m in r.get("listed", ())}
    assert not {f"C{i:04d}" for i in range(1, 18)} & listed          # 清江县's cadres are never counted


def test_a_draft_jurisdiction_file_is_in_the_library():
    draft = (ROOT / "drafts" / "new_document_township_principal.yaml").read_text(encoding="utf-8")
    assert "jurisdiction:" in draft
