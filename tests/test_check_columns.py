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


def test_the_columnar_check_reads_no_document(store_url, tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("a cadre was read as a document")
    monkeypatch.setattr(population, "check_all", refuse)
    monkeypatch.setattr(FactStore, "read", refuse)
    assert check_all(store_url, tmp_path, "jsonl", "--workers", "1").count(b"\n") == 1800
