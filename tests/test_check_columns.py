"""`policy check --all` in columns on the worker pool (render/population.py, run/columnar/results.py):
the same bytes as the cadre-by-cadre check from documents, in every format, on any worker count."""
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.generate.population import generate
from cadre_policy.run import population
from cadre_policy.store.fact_store import FactStore

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2017, 6, 30)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('check') / 'pop.db'}"
    units, cadres = generate(1800, 31, AS_OF)
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    return url


def check_all(url, tmp_path, fmt, *extra):
    out = tmp_path / f"out-{fmt}-{'-'.join(extra) or 'default'}.{fmt}"
    result = CliRunner().invoke(main, ["--db", url, "check", "--all", "--as-of", AS_OF.isoformat(), "--policies",
                                       str(ROOT / "policies"), "--format", fmt, "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "text"])
def test_the_columns_give_the_documents_bytes(store_url, tmp_path, fmt, monkeypatch):
    columns = check_all(store_url, tmp_path, fmt, "--workers", "2")
    assert check_all(store_url, tmp_path, fmt, "--workers", "1") == columns
    # the reference: every cadre read as a document, derived and run one at a time
    documents = check_all(store_url, tmp_path, fmt, "--engine", "durable")
    assert columns == documents and columns.count(b"C0") >= 1800


def test_the_columns_give_the_documents_workbook(store_url, tmp_path):
    """XLSX: the same cells in the cadres' and the summary sheets (the 说明 sheet says when it was made)."""
    from io import BytesIO

    from openpyxl import load_workbook

    def sheets(data):
        book = load_workbook(BytesIO(data), read_only=True)
        return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets[:2]]
    columns = sheets(check_all(store_url, tmp_path, "xlsx", "--workers", "2"))
    assert columns == sheets(check_all(store_url, tmp_path, "xlsx", "--engine", "durable"))
    assert len(columns[0]) > 1800


def test_the_columnar_check_reads_no_document(store_url, tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("a cadre was read as a document")
    monkeypatch.setattr(population, "check_all", refuse)
    monkeypatch.setattr(FactStore, "read", refuse)
    assert check_all(store_url, tmp_path, "jsonl", "--workers", "1").count(b"\n") == 1800


def test_cadres_share_a_line_only_when_their_results_are_equal(store_url):
    """The memo of ``ColumnarResults.grouped``: cadres with the same firings but other values at
    the facts their results read (reasons, ``until``, the target rank) are other groups."""
    from collections import defaultdict

    from cadre_policy.load.policyset import load
    from cadre_policy.render.check import to_json
    from cadre_policy.run.evaluate import PolicyRunner
    from cadre_policy.run.results import ColumnarResults
    from cadre_policy.store.columns import read_population

    policy_set = load(ROOT / "policies")
    runner = PolicyRunner(policy_set, AS_OF, "python", name="check")
    results = ColumnarResults(runner)

    def rest(result):           # all but the cadre's own id and name
        return {k: v for k, v in to_json(result, policy_set).items() if k not in ("cadre", "name")}
    with FactStore(store_url) as store:
        units = population.units_for(runner, store)
        (task,) = store.chunks(None, None, 10_000)
        pop, _ = read_population(store, task[1], task[2], names=True)
        documents = {r.cadre_id: rest(r) for r in population.check_all(runner, store, units)}
    grouped = results.grouped(pop, units)
    _, pattern = results.engine.run_table(results.deriver.derive(pop, units).table()).patterns()
    groups_of = defaultdict(set)
    for row, cadre in enumerate(grouped.ids):
        groups_of[pattern[row]].add(grouped.group[row])
        assert rest(grouped.results[grouped.group[row]]) == documents[cadre], cadre
    # the population has cadres of one pattern in several groups: a memo by pattern alone would fail above
    assert sum(len(groups) > 1 for groups in groups_of.values()) >= 10
    assert len(grouped.results) < len(grouped.ids) / 2
