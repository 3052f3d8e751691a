"""Decision records that cannot be forged or forked: the stored result against its digest, the keyed chain,
anchors, and appends from several processes under a database lock (on every backend)."""
from __future__ import annotations

import json
import multiprocessing
import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from conftest import ROOT, SAMPLE, invoke

AS_OF = "2017-06-30"


@pytest.fixture
def sample_url(store_url, tmp_path, monkeypatch):
    if not store_url.startswith("sqlite"):
        monkeypatch.setenv("POLICY_RECORDS_KEY_FILE", str(tmp_path / "records.key"))
    assert invoke(store_url, "facts", "import", SAMPLE).exit_code == 0
    yield store_url
    from cadre_policy.decisions.tables import RecordsBase
    engine = create_engine(store_url)
    RecordsBase.metadata.drop_all(engine)
    engine.dispose()


def _sql(url, statement, **values):
    engine = create_engine(url)
    with engine.begin() as conn:
        found = conn.execute(text(statement), values)
        rows = found.all() if found.returns_rows else None
    engine.dispose()
    return rows


def _check(url, cadre, policies):
    done = invoke(url, "check", cadre, "--as-of", AS_OF, "--record", "--engine", "python", "--policies", policies,
                  "--format", "json")
    assert done.exit_code == 0, done.output


def test_a_forged_result_fails_verify_and_show(sample_url, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    _check(sample_url, "C0007", policies)
    result = json.loads(_sql(sample_url, "SELECT result FROM decision_records WHERE id = 1")[0][0])
    assert result["promotion"]["eligibility"] == "ineligible"
    forged = dict(result, promotion=dict(result["promotion"], eligibility="eligible"))
    _sql(sample_url, "UPDATE decision_records SET result = :r WHERE id = 1", r=json.dumps(forged))
    verified = invoke(sample_url, "records", "verify", "1")
    assert verified.exit_code == 1 and "NOT reproduced" in verified.stdout
    assert "stored result does not match its digest" in verified.stdout
    shown = invoke(sample_url, "records", "show", "1")
    assert shown.exit_code == 1 and json.loads(shown.stdout)["integrity"]["intact"] is False
    assert invoke(sample_url, "records", "verify", "--chain").exit_code == 1
    assert invoke(sample_url, "records", "verify", "99999999999999999999").exit_code == 2


def test_rechained_edits_and_removed_newest_records_are_found(sample_url, tmp_path):
    from cadre_policy.decisions.digest import result_digest
    from cadre_policy.decisions.store import GENESIS, chain_next
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    for cadre in ("C0007", "C0008", "C0009"):
        _check(sample_url, cadre, policies)
    anchors = tmp_path / "anchors.txt"
    anchored = invoke(sample_url, "records", "anchor", "--append", anchors)
    assert anchored.exit_code == 0 and anchored.stdout.startswith("anchor 3 hmac:")
    assert invoke(sample_url, "records", "verify", "--chain", "--anchor", anchors).exit_code == 0
    # an edit re-chained with the program's own (unkeyed) function: the key is outside the database
    engine = create_engine(sample_url)
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM decision_records ORDER BY id"))]
        result = json.loads(rows[1]["result"])
        result["promotion"]["eligibility"] = "eligible"
        rows[1]["result"] = json.dumps(result, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        rows[1]["result_digest"] = result_digest(result)
        previous = GENESIS
        for row in rows:
            if isinstance(row["at"], str):
                import datetime as dt
                row["at"] = dt.datetime.fromisoformat(row["at"])
            row["chain"] = chain_next(previous, row, b"a guessed key")
            previous = row["chain"]
            conn.execute(text("UPDATE decision_records SET result = :result, result_digest = :result_digest, "
                              "chain = :chain WHERE id = :id"), row)
    engine.dispose()
    broken = invoke(sample_url, "records", "verify", "--chain")
    assert broken.exit_code == 1 and "record 1: chain broken" in broken.stdout
    assert invoke(sample_url, "records", "verify", "2").exit_code == 1


def test_removing_the_newest_records_is_found_by_the_anchor(sample_url, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    for cadre in ("C0007", "C0008"):
        _check(sample_url, cadre, policies)
    anchors = tmp_path / "anchors.txt"
    assert invoke(sample_url, "records", "anchor", "--append", anchors).exit_code == 0
    _sql(sample_url, "DELETE FROM decision_records WHERE id = 2")
    plain = invoke(sample_url, "records", "verify", "--chain")
    assert plain.exit_code == 0           # what is left is whole: only the anchor knows
    anchored = invoke(sample_url, "records", "verify", "--chain", "--anchor", anchors)
    assert anchored.exit_code == 1 and "record 2 of an anchor is missing" in anchored.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("not an anchor\n", encoding="utf-8")
    refused = invoke(sample_url, "records", "verify", "--chain", "--anchor", bad)
    assert refused.exit_code == 2 and "bad.txt:1" in refused.stderr


def _append_many(url: str, n: int, tag: str) -> None:
    from cadre_policy.decisions.store import RecordStore
    from cadre_policy.store.fact_store import FactStore
    with FactStore(url) as store:
        records = RecordStore(store.engine)
        policy_set = SimpleNamespace(path=str(ROOT / "policies"), digest="sha256:" + "1" * 64)
        for i in range(n):
            # the same facts from both processes: the snapshot is inserted once
            records.append(kind="check", actor=tag, channel="cli", request={"i": i}, policy_set=policy_set,
                           facts=({}, [{"id": f"C{i % 7:04d}"}]), result={"i": i, "by": tag})


def test_two_processes_appending_leave_a_whole_chain(sample_url):
    from cadre_policy.decisions.store import RecordStore
    from cadre_policy.decisions.verify import verify_chain
    from cadre_policy.store.fact_store import FactStore
    with FactStore(sample_url) as store:
        RecordStore(store.engine)            # the tables made once, before the race
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(sample_url, 300, tag)) for tag in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    assert [w.exitcode for w in workers] == [0, 0]
    with FactStore(sample_url) as store:
        records = RecordStore(store.engine)
        assert records.count() == 600
        assert verify_chain(records) == []


def _at_once(target, url: str, processes: int = 4) -> list:
    """The exit codes of ``processes`` spawned processes running ``target(url, start)`` together."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    workers = [context.Process(target=target, args=(url, start)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return [w.exitcode for w in workers]


def _make_tables_at_once(url: str, start) -> None:
    from cadre_policy.decisions.store import RecordStore
    from cadre_policy.store.fact_store import FactStore
    with FactStore(url) as store:
        start.wait(60)                       # every process reaches the first use together
        RecordStore(store.engine).count()


def test_processes_making_the_records_tables_at_once_all_succeed(sample_url):
    """MariaDB commits each CREATE TABLE alone: the slower process meets tables just made, and carries on."""
    assert _at_once(_make_tables_at_once, sample_url) == [0, 0, 0, 0]


def _open_new_store_at_once(url: str, start) -> None:
    from cadre_policy.store.fact_store import FactStore
    start.wait(60)
    with FactStore(url) as store:
        assert store.cadre_ids() == []


def test_processes_opening_a_new_store_at_once_all_succeed(store_url):
    """The server and a command opening a new database together: one makes the tables, the others use them."""
    assert _at_once(_open_new_store_at_once, store_url) == [0, 0, 0, 0]
