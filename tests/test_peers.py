"""The peers' whole what-if job (benchmarks/peers/job.py) lists the product's changed cadres.

floor_bench.py measures the product against these hand-written jobs; a peer that listed other
cadres would make its figures meaningless. numpy runs wherever the product does; DuckDB and polars
(the ``bench`` extra) only where installed.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from cadre_policy.generate.population import generate
from cadre_policy.store.fact_store import FactStore
from conftest import invoke

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from peers import agree, job  # noqa: E402

AS_OF = date(2017, 6, 30)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("peers") / "pop.db"
    units, cadres = generate(6000, 1, AS_OF)
    with FactStore(f"sqlite:///{path}") as store:
        store.bulk_load(units, cadres)
    return path


@pytest.fixture(scope="module")
def reports(generated, tmp_path_factory):
    """The product's what-if report of each draft the peers know."""
    out = {}
    for draft in job.DRAFTS:
        out[draft] = tmp_path_factory.mktemp("reports") / f"{draft}.json"
        result = invoke(f"sqlite:///{generated}", "whatif", "--draft", ROOT / "drafts" / f"{draft}.yaml",
                        "--as-of", AS_OF.isoformat(), "--format", "json", "--output", out[draft], "--quiet")
        assert result.exit_code == 0, result.stderr
    return out


def _run(peer: str, db: Path, draft: str, out: Path) -> Path:
    module = pytest.importorskip(f"peers.{peer}_peer", exc_type=ImportError)
    tables = job.read(db)
    changed = module.job(tables, job.spec(tables, draft, AS_OF))
    out.write_text("".join(line + "\n" for line in job.lines(changed)), encoding="utf-8")
    return out


@pytest.mark.parametrize("draft", sorted(job.DRAFTS))
@pytest.mark.parametrize("peer", ["numpy", "duckdb", "polars"])
def test_a_peer_lists_the_products_changed_cadres(peer, draft, generated, reports, tmp_path):
    listed = _run(peer, generated, draft, tmp_path / "peer.jsonl")
    assert json.loads(reports[draft].read_text(encoding="utf-8"))["changes"], "nothing to compare"
    assert agree.disagreements(reports[draft], listed) == []


def test_the_check_names_a_missing_cadre_and_a_wrong_deciding_value(generated, reports, tmp_path):
    listed = _run("numpy", generated, "replace_and_disable", tmp_path / "peer.jsonl")
    rows = [json.loads(line) for line in listed.read_text(encoding="utf-8").splitlines()]
    voted = next(r for r in rows if r["added"])          # a demotion added: the product states the ratio
    dropped = next(r for r in rows if r is not voted)
    voted["values"]["dissatisfied"] += 1
    listed.write_text("".join(json.dumps(r) + "\n" for r in rows if r is not dropped), encoding="utf-8")
    found = agree.disagreements(reports["replace_and_disable"], listed)
    assert sorted(line.split(":")[0] for line in found) == sorted([dropped["cadre"], voted["cadre"]])
    assert any("latest_review.dissatisfied/latest_review.total" in line for line in found)
