"""Decision records from the CLI (`--record`, `policy records`) and the store's unit scope, on every backend."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from sqlalchemy import create_engine

from conftest import ROOT, SAMPLE, invoke

AS_OF = "2017-06-30"


@pytest.fixture
def sample_url(store_url):
    assert invoke(store_url, "facts", "import", SAMPLE).exit_code == 0
    yield store_url
    from cadre_policy.decisions.tables import RecordsBase
    engine = create_engine(store_url)
    RecordsBase.metadata.drop_all(engine)
    engine.dispose()


def test_cli_records_a_check_and_a_whatif_and_verifies_them(sample_url, tmp_path, monkeypatch):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    checked = invoke(sample_url, "check", "C0007", "--as-of", AS_OF, "--record", "--engine", "python",
                     "--policies", policies, "--format", "json")
    assert checked.exit_code == 0 and "纪实 record 1" in checked.stderr
    monkeypatch.chdir(tmp_path)
    asked = invoke(sample_url, "whatif", "--set", "supervision.admonish_ratio=3/10", "--as-of", AS_OF, "--record",
                   "--engine", "python", "--workers", "1", "-q", "--policies", policies, "--format", "json")
    assert asked.exit_code == 0 and "纪实 record 2" in asked.stderr
    listed = invoke(sample_url, "records", "list").stdout.splitlines()
    assert [line.split("\t")[4] for line in listed] == ["what-if", "check"]
    shown = json.loads(invoke(sample_url, "records", "show", "1").stdout)
    assert shown["request"] == {"cadre": "C0007", "as_of": AS_OF, "engine": "python", "lang": "en"}
    assert shown["result"]["cadre"] == "C0007" and shown["channel"] == "cli"
    assert shown["policy_path"] == str(policies)
    for record in ("1", "2"):
        verified = invoke(sample_url, "records", "verify", record)
        assert verified.exit_code == 0 and ": reproduced" in verified.stdout
    exported = [json.loads(line) for line in invoke(sample_url, "records", "export").stdout.splitlines()]
    assert [r["id"] for r in exported] == [1, 2] and exported[1]["kind"] == "whatif"
    # the policy set changes after the decision: the record names the one it was made on
    supervision = policies / "supervision.yaml"
    supervision.write_text(supervision.read_text(encoding="utf-8") + "\n# amended\n", encoding="utf-8")
    changed = invoke(sample_url, "records", "verify", "1")
    assert changed.exit_code == 1 and "policy set changed" in changed.stdout and "NOT reproduced" in changed.stdout
    assert invoke(sample_url, "records", "verify", "99").exit_code == 2


def test_record_needs_one_cadre(sample_url):
    refused = invoke(sample_url, "check", "--all", "--record")
    assert refused.exit_code == 2 and "--record" in refused.stderr


def test_scope_follows_units_below_and_the_date(sample_url):
    from cadre_policy.store.fact_store import FactStore, scope_of
    with FactStore(sample_url) as store:
        units = store.units()
        county = scope_of(units, ["QJ-PC"], dt.date(2017, 6, 30))
        assert {"QJ-PC", "QJ-GOV", "QJ-PSB", "QJ-LQ"} <= county.units and "BH-PC" not in county.units
        assert store.cadre("C0007", county)["name"] == "李娟"
        assert store.cadre("C0018", county) is None and store.in_scope("C0007", county)
        # C0002 held posts in BH-BS (白河县) to 2008-12-31: the end day is the last day held
        assert store.in_scope("C0002", scope_of(units, ["BH-PC"], dt.date(2008, 12, 31)))
        assert not store.in_scope("C0002", scope_of(units, ["BH-PC"], dt.date(2009, 1, 1)))
        hits = store.search("李", scope=county)
        assert hits and all(h["post"]["unit"].startswith("QJ-") for h in hits)
        assert [h["id"] for h in store.search("C001", scope=county)] == [f"C{i:04d}" for i in range(10, 18)]
        assert store.search("100%_", as_of=dt.date(2017, 6, 30)) == []      # LIKE wildcards are literal
        assert [h["id"] for h in store.search("", unit="QJ-TS", as_of=dt.date(2017, 6, 30))] == ["C0028", "C0029", "C0040", "C0062"]


def test_records_tables_of_another_version_are_refused(sqlite_url):
    from sqlalchemy import text
    assert invoke(sqlite_url, "records", "list").exit_code == 0       # creates them, version 1
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_meta SET value = '99' WHERE key = 'records_schema_version'"))
    engine.dispose()
    refused = invoke(sqlite_url, "records", "list")
    assert refused.exit_code == 2 and "schema version 99" in refused.stderr
