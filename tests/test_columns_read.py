"""The population read in columns (store/columns.py) is what the documents say, on every backend,
and a damaged stored value is a one-line error, not a traceback."""
import sqlite3
from datetime import date

import numpy as np
import pytest

from cadre_policy.store import columns
from cadre_policy.store.errors import StoreCorruptError
from cadre_policy.generate.population import generate
from cadre_policy.store.fact_store import FactStore
from cadre_policy.record.columns import from_documents
from conftest import ROOT, SAMPLE, invoke

AS_OF = date(2017, 6, 30)


def _same(got, expected):
    assert list(got.ids) == list(expected.ids)
    for name, vec in expected.cadre.items():
        if name != "name":                 # names are not read: no rule reads them
            _same_vec(got.cadre[name], vec, f"cadre.{name}")
    for name, records in expected.lists.items():
        mine = got.lists[name]
        assert np.array_equal(mine.cadre, records.cadre), name
        for field, vec in records.fields.items():
            _same_vec(mine.fields[field], vec, f"{name}.{field}")
    assert np.array_equal(got.lists["rectification"].parent, expected.lists["rectification"].parent)


def _same_vec(got, expected, label):
    assert np.array_equal(got.mask, expected.mask), label
    assert list(got.values[got.mask]) == list(expected.values[expected.mask]), label


def _filled(url):
    store = FactStore(url)
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    units, cadres = generate(400, 3, AS_OF)
    store.bulk_load(units, cadres)
    return store


def test_the_columns_are_the_documents_on_every_backend(store_url):
    store = _filled(store_url)
    docs = [doc for chunk in store.iter_cadre_chunks() for doc in chunk]
    population, generation = columns.read_population(store)
    assert generation == store.generation() and population.n == len(docs) == 464
    _same(population, from_documents(docs))
    ids = list(population.ids)
    part, _ = columns.read_population(store, ids[10], ids[99])
    _same(part, from_documents(docs[10:100]))


def test_sqlite_read_through_sqlalchemy_gives_what_adbc_gives(sqlite_url, monkeypatch):
    store = _filled(sqlite_url)
    through_adbc, _ = columns.read_population(store)
    monkeypatch.setattr(columns, "_arrow_source", lambda _store: None)
    through_sqlalchemy, _ = columns.read_population(store)
    _same(through_adbc, through_sqlalchemy)


@pytest.mark.parametrize("adbc", [True, False])
def test_a_damaged_date_names_the_table(sqlite_url, monkeypatch, adbc):
    store = _filled(sqlite_url)
    db = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE posts SET start_date = 'not a date' WHERE seq = 0 AND cadre_id = "
                     "(SELECT min(cadre_id) FROM posts)")
    if not adbc:
        monkeypatch.setattr(columns, "_arrow_source", lambda _store: None)
    with pytest.raises(StoreCorruptError, match="table posts"):
        columns.read_population(store)
    result = invoke(sqlite_url, "whatif", "--draft", str(ROOT / "drafts" / "admonish_30pct.yaml"), "--as-of", "2017-06-30",
                    "--engine", "columnar", "-q")
    assert result.exit_code == 2 and "posts" in result.output and "Traceback" not in result.output
    assert "row cadre_id=" in result.output            # the damaged row is named, not only the table
    chinese = invoke(sqlite_url, "--lang", "zh", "whatif", "--draft", str(ROOT / "drafts" / "admonish_30pct.yaml"),
                     "--as-of", "2017-06-30", "--engine", "columnar", "-q")
    assert chinese.exit_code == 2 and "已损坏：表 posts，行 cadre_id=" in chinese.output


def test_a_rule_on_names_is_compared_from_documents(sqlite_url, tmp_path):
    """Names are not read in columns: a policy set reading one falls back to documents, same report."""
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.load.policyset import load
    from cadre_policy.whatif.columnar import ColumnarComparer
    from cadre_policy.whatif.run import Job, run_whatif
    store = _filled(sqlite_url)
    name = next(doc for chunk in store.iter_cadre_chunks() for doc in chunk)["name"]
    text = (ROOT / "drafts" / "new_document_township_principal.yaml").read_text(encoding="utf-8")
    text = text.replace("applies: {fact: promotion.target_rank, in: [deputy_county, county]}",
                        f"applies: {{fact: cadre.name, eq: {name}}}")
    draft_path = tmp_path / "names.yaml"
    draft_path.write_text(text, encoding="utf-8")
    baseline = load(ROOT / "policies")
    draft_set, _, diagnostics = load_draft(draft_path, baseline)
    assert draft_set is not None, [str(d) for d in diagnostics]
    results = {}
    for engine in ("columnar", "durable"):
        job = Job(sqlite_url, AS_OF, engine, baseline, draft_set)
        if engine == "columnar":
            assert not ColumnarComparer(job, store).in_columns
        result = run_whatif(job, store, workers=1)
        results[engine] = (result.counts, result.units, list(result.changes()))
        result.close()
    assert results["columnar"] == results["durable"]


def test_a_store_file_name_with_uri_characters_is_read(tmp_path):
    """The ADBC driver opens a URI: '#', '%' and spaces in the file name are quoted, not cut."""
    folder = tmp_path / "odd dir#1"
    folder.mkdir()
    url = f"sqlite:///{folder / 'facts 100%.db'}"
    store = _filled(url)
    population, _ = columns.read_population(store)
    assert population.n == 464
