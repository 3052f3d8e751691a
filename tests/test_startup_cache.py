"""The checked policy set is cached by content digest: reused while nothing changes, rebuilt
when a policy file or the code changes, never trusted when tampered with."""
import shutil
from pathlib import Path

import pytest

from cadre_policy.diagnostics import PolicyRejected
from cadre_policy.load import cache
from cadre_policy.load.policyset import load

POLICIES = Path(__file__).resolve().parent.parent / "policies"


@pytest.fixture
def policies(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_CACHE_DIR", str(tmp_path / "cache"))
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES, directory)
    return directory


def _entries(tmp_path):
    return sorted((tmp_path / "cache").glob("policyset-*.pickle"))


def test_a_second_load_reads_the_entry_and_gives_the_same_policy_set(policies, tmp_path, monkeypatch):
    first = load(policies)
    assert len(_entries(tmp_path)) == 1
    monkeypatch.setattr("cadre_policy.load.policyset._load", lambda d: pytest.fail("read the files again"))
    assert load(policies) == first


def test_editing_a_policy_file_invalidates_the_entry(policies, tmp_path):
    before = load(policies)
    path = policies / "supervision.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("1/3", "3/10"), encoding="utf-8")
    after = load(policies)
    assert after != before and len(_entries(tmp_path)) == 2
    assert after.parameters["supervision.admonish_ratio"] != before.parameters["supervision.admonish_ratio"]


def test_a_policy_file_with_errors_is_reported_every_time_and_not_cached(policies, tmp_path):
    (policies / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyRejected):
            load(policies)
    assert _entries(tmp_path) == []


def test_a_new_code_version_invalidates_the_entry(policies, tmp_path, monkeypatch):
    load(policies)
    monkeypatch.setattr(cache, "code_version", lambda: "another build")
    load(policies)
    assert len(_entries(tmp_path)) == 2


def test_a_tampered_entry_is_ignored_and_rebuilt(policies, tmp_path, monkeypatch):
    expected = load(policies)
    entry, = _entries(tmp_path)
    blob = bytearray(entry.read_bytes())
    blob[-5] ^= 0xFF
    entry.write_bytes(bytes(blob))
    assert load(policies) == expected           # rebuilt from the files, not unpickled
    assert entry.read_bytes() != bytes(blob)


def test_the_cache_can_be_turned_off(policies, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_CACHE", "off")
    load(policies)
    assert not (tmp_path / "cache").exists()
