"""Snapshots of derived partitions (run/columnar/snapshot.py): a second what-if over an unchanged
store reads none of it again and reports the same; any write, an unreadable file or
``POLICY_CACHE=off`` and the partition is derived from the store again."""
from datetime import date
from pathlib import Path

import pytest

from cadre_policy.store import columns
from cadre_policy.generate.population import generate
from cadre_policy.store.fact_store import FactStore
from cadre_policy.load.drafts import load_draft
from cadre_policy.load.policyset import load
from cadre_policy.whatif.run import Job, run_whatif

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2017, 6, 30)
DRAFT = ROOT / "drafts" / "grassroots_3y.yaml"      # the draft derives otherwise: two sides saved


@pytest.fixture()
def store_url(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_CACHE_DIR", str(tmp_path / "cache"))
    url = f"sqlite:///{tmp_path / 'pop.db'}"
    units, cadres = generate(1200, 4, AS_OF)
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    return url


def _whatif(url):
    baseline = load(ROOT / "policies")
    draft_set, _, _ = load_draft(DRAFT, baseline)
    with FactStore(url) as store:
        result = run_whatif(Job(url, AS_OF, "columnar", baseline, draft_set), store, workers=1)
    changes = list(result.changes())
    result.close()
    return (result.cadres, result.counts, result.units, changes)


def _files(tmp_path):
    """The derived tables saved (the baseline's firings beside them: ``_firings``)."""
    return sorted(f for f in (tmp_path / "cache" / "snapshots").rglob("*.npz") if not f.name.endswith(".fired.npz"))


def _firings(tmp_path):
    return sorted((tmp_path / "cache" / "snapshots").rglob("*.fired.npz"))


def _reading_refused(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the store was read in columns again")
    monkeypatch.setattr(columns, "read_population", refuse)


def test_a_second_run_reads_the_snapshots_and_reports_the_same(store_url, tmp_path, monkeypatch):
    first = _whatif(store_url)
    assert len(_files(tmp_path)) == 2 and len(_firings(tmp_path)) == 1 and first[3]
    _reading_refused(monkeypatch)
    assert _whatif(store_url) == first


def test_a_second_draft_evaluates_only_its_own_side(store_url, tmp_path, monkeypatch):
    """The baseline's firings are kept: a second draft derives and evaluates its side alone."""
    from cadre_policy.run.columnar.derive import ColumnarDeriver
    from cadre_policy.run.columnar.engine import ColumnarEngine
    first = _whatif(store_url)
    for path in _files(tmp_path):           # the baseline's table too: only the firings are left
        path.unlink()
    derived, runs = [], []
    derive, run_table = ColumnarDeriver.derive, ColumnarEngine.run_table
    monkeypatch.setattr(ColumnarDeriver, "derive", lambda self, pop, *a, **k: derived.append(
        (self.compiled.name, pop.n)) or derive(self, pop, *a, **k))
    monkeypatch.setattr(ColumnarEngine, "run_table",
                        lambda self, table: runs.append(self.compiled.name) or run_table(self, table))
    assert _whatif(store_url) == first
    changed = len(first[3])
    # the baseline is derived again only for the changed cadres, to explain them; never evaluated
    assert changed and sorted(derived) == [("baseline", changed), ("draft", 1200)], derived
    assert runs == ["draft"]


def test_a_write_to_the_store_makes_new_snapshots(store_url, tmp_path):
    first = _whatif(store_url)
    before = _files(tmp_path)
    units, cadres = generate(30, 9, AS_OF)
    with FactStore(store_url) as store:
        store.bulk_load([], [dict(c, id=f"NEW{c['id']}") for c in cadres])
    second = _whatif(store_url)
    assert second[0] == first[0] + 30
    after = _files(tmp_path)
    assert len(after) == 2 and not set(after) & set(before)     # the old generation's files are gone


def test_an_unreadable_snapshot_is_derived_again(store_url, tmp_path):
    first = _whatif(store_url)
    for path in _files(tmp_path):
        path.write_bytes(b"not an archive")
    assert _whatif(store_url) == first


def test_no_snapshots_when_the_cache_is_off(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_CACHE", "off")
    _whatif(store_url)
    assert _files(tmp_path) == []


def test_snapshots_beyond_the_limit_are_removed_least_recently_used_first(store_url, tmp_path, monkeypatch):
    first = _whatif(store_url)
    older, newer = sorted(_files(tmp_path), key=lambda f: f.stat().st_mtime)
    size = newer.stat().st_size
    for path in [older, *_firings(tmp_path)]:
        path.unlink()
    monkeypatch.setenv("POLICY_SNAPSHOT_MB", str(size * 1.5 / 2 ** 20))   # room for one of the two
    assert _whatif(store_url) == first          # the missing side derived again and saved: the other goes
    assert _files(tmp_path) == [older]
