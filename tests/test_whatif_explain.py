"""The columnar what-if explains changed cadres from its columns (run/columnar/scope.py, whatif/columnar.py).

Today's path, the reference: each changed cadre read as a document, derived, run through
durable_rules on both sides and explained. The columnar run gathers the same reasons from its
firing matrices and derivations; durable_rules re-runs a sample of them (every one with
``verify=1``) and the run stops, naming the cadre, when an outcome or a reason differs.
"""
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.generate.population import generate
from cadre_policy.load.drafts import load_draft
from cadre_policy.load.policyset import load
from cadre_policy.run.columnar import scope as gathering
from cadre_policy.store import columns
from cadre_policy.store.fact_store import FactStore
from cadre_policy.whatif.columnar import EngineDisagreement, sample
from cadre_policy.whatif.run import Job, run_whatif

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2017, 6, 30)
DRAFTS = sorted(p.stem for p in (ROOT / "drafts").glob("*.yaml"))


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explain') / 'pop.db'}"
    units, cadres = generate(2500, 23, AS_OF)
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    return url


@pytest.fixture(scope="module")
def baseline():
    return load(ROOT / "policies")


def whatif(url, baseline, name, engine="columnar", workers=2, **job):
    draft_set, _, diagnostics = load_draft(ROOT / "drafts" / f"{name}.yaml", baseline)
    assert draft_set is not None, [str(d) for d in diagnostics]
    with FactStore(url) as store:
        result = run_whatif(Job(url, AS_OF, engine, baseline, draft_set, **job), store, workers=workers,
                            chunk_size=700)
    lines = list(result.lines())
    result.close()
    return result, lines


@pytest.mark.parametrize("name", DRAFTS)
def test_the_reasons_from_the_columns_are_todays_bytes(store_url, baseline, name, tmp_path, monkeypatch):
    """Every changed cadre checked by durable_rules, cold and from the snapshots: the same lines as today's path."""
    monkeypatch.setenv("POLICY_CACHE_DIR", str(tmp_path / "cache"))
    today, today_lines = whatif(store_url, baseline, name, engine="durable", workers=1)
    cold, cold_lines = whatif(store_url, baseline, name, verify=1.0)
    assert cold_lines == today_lines
    assert cold.verified == cold.changed == today.changed
    assert cold.counts == today.counts

    reads = []
    read_population = columns.read_population

    def counted(*args, **kwargs):
        reads.append(args[1:3])
        return read_population(*args, **kwargs)
    monkeypatch.setattr(columns, "read_population", counted)
    cached, cached_lines = whatif(store_url, baseline, name, workers=1, verify=1.0)
    assert cached_lines == today_lines and cached.verified == today.changed
    # a partition is read again (in columns, not as documents) only where many of its cadres changed
    assert len(reads) <= -(-2500 // 700) and (reads or today.changed * 30 < 2500)


def test_by_default_durable_rules_checks_a_sample_of_at_least_a_hundred(store_url, baseline):
    # the new document reaches hundreds of 宜昌 cadres (replace_and_disable, since P004-7 is due only
    # after five years and binds 清江县 alone, reaches a few dozen)
    result, lines = whatif(store_url, baseline, "new_document_township_principal")
    assert result.changed > 100
    assert 100 <= result.verified < result.changed
    few, _ = whatif(store_url, baseline, "admonish_30pct")
    assert 0 < few.changed < 100 and few.verified == few.changed


def test_the_sample_is_the_same_whatever_the_order():
    ids = [f"C{i:05d}" for i in range(1000)]
    picked = sample(ids, 0.01, 20)
    assert len(picked) == 20 and picked == sorted(picked)
    backwards = ids[::-1]
    assert sorted(backwards[i] for i in sample(backwards, 0.01, 20)) == sorted(ids[i] for i in picked)
    assert len(sample(ids, 0.05, 20)) == 50 and sample(ids[:7], 0.01, 20) == list(range(7))


def test_a_reason_that_differs_from_durable_rules_stops_the_run_naming_the_cadre(store_url, baseline, monkeypatch):
    """A wrong value gathered from the columns (here: every cadre's latest review lost) is caught."""
    scopes = gathering.Gatherer.scopes

    def lose_the_review(self, rows):
        out = scopes(self, rows)
        for scope in out:
            scope.pop("latest_review", None)
        return out
    monkeypatch.setattr(gathering.Gatherer, "scopes", lose_the_review)
    with pytest.raises(EngineDisagreement, match=r"^cadre C\d+: the reasons gathered from the columns differ"):
        whatif(store_url, baseline, "admonish_30pct", workers=1)


def test_the_report_says_how_many_durable_rules_checked(store_url):
    args = ["--lang", "en", "--db", store_url, "whatif", "--policies", str(ROOT / "policies"), "--draft",
            str(ROOT / "drafts" / "grassroots_3y.yaml"), "--engine", "columnar", "--workers", "1", "--quiet"]
    text = CliRunner().invoke(main, args + ["--verify"])
    assert text.exit_code == 0, text.output
    changed = int(text.output.split(" changed")[0].split()[-1])
    assert f"; {changed} changed cadres checked again with durable_rules" in text.output
    zh = CliRunner().invoke(main, args[2:] + ["--format", "json"])
    assert zh.exit_code == 0, zh.output
    assert f'"durable_rules_checked": {min(changed, 100)}' in zh.output


@pytest.mark.parametrize("name", DRAFTS)
def test_a_second_draft_from_the_baselines_firings_gives_todays_bytes(store_url, baseline, name, tmp_path,
                                                                      monkeypatch):
    """After another draft, the baseline's firings come from its cache and only this draft's side is
    derived (its changed cadres' baseline scopes derived for them alone): the same lines as today's path."""
    monkeypatch.setenv("POLICY_CACHE_DIR", str(tmp_path / "cache"))
    other = next(d for d in DRAFTS if d != name)
    whatif(store_url, baseline, other, workers=1)
    assert list((tmp_path / "cache").rglob("*.fired.npz"))
    today, today_lines = whatif(store_url, baseline, name, engine="durable", workers=1)
    second, second_lines = whatif(store_url, baseline, name, verify=1.0)
    assert second_lines == today_lines and second.verified == today.changed
    assert second.counts == today.counts
