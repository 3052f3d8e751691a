"""`policy check ID` imports only what it uses (issue 25, part 7): not the ORM, Alembic, the other
dialects, the policy files' reader and schema checks, PyYAML, numpy or the other commands. The record
table is read back from its marshalled copy. Nothing here is timed (benchmarks/startup_bench.py is)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import SAMPLE, invoke
from cadre_policy.language import record_table

#: What one cadre's check on SQLite has no use for (the start-up cache warm).
UNUSED = ["sqlalchemy.orm", "alembic", "sqlalchemy.dialects.mysql", "sqlalchemy.dialects.postgresql", "jsonschema",
          "yaml", "numpy", "cadre_policy.parse.positioned", "cadre_policy.validate.policy", "cadre_policy.cli.whatif",
          "cadre_policy.cli.facts", "cadre_policy.decisions"]

_MODULES = """
import json, sys
from cadre_policy.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_check_one_cadre_imports_none_of_the_unused(sqlite_url, tmp_path):
    assert invoke(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    env = dict(os.environ, POLICY_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)            # the record table's copy is kept as bytecode is
    command = [sys.executable, "-c", _MODULES, "--db", sqlite_url, "check", "C0001", "--as-of", "2017-06-30"]
    subprocess.run(command, env=env, check=True, capture_output=True)       # fills the start-up cache
    modules = json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                         .stdout.splitlines()[-1])
    assert "cadre_policy.cli.check" in modules and "durable_rules_engine" in modules
    assert [m for m in modules if any(m == u or m.startswith(u + ".") for u in UNUSED)] == []


@pytest.fixture
def copy(tmp_path, monkeypatch):
    monkeypatch.setattr(record_table, "MARSHALLED", tmp_path / "__pycache__" / "record.marshal")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return record_table.MARSHALLED


def test_the_record_table_is_read_back_from_its_copy(copy, monkeypatch):
    parsed = record_table._raw.__wrapped__()
    assert copy.exists()
    monkeypatch.setitem(sys.modules, "yaml", None)      # the copy, not the text: PyYAML cannot be imported
    assert record_table._raw.__wrapped__() == parsed


def test_a_copy_of_another_text_or_damaged_is_not_used(copy):
    parsed = record_table._raw.__wrapped__()
    kept = copy.read_bytes()
    copy.write_bytes(b"\0" * 32 + kept[32:])            # made from another text
    assert record_table._raw.__wrapped__() == parsed and copy.read_bytes() == kept
    copy.write_bytes(kept[:40])                         # cut short
    assert record_table._raw.__wrapped__() == parsed and copy.read_bytes() == kept


def test_no_copy_when_python_writes_no_bytecode(copy, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert record_table._raw.__wrapped__()["kinds"]
    assert not copy.exists()


def test_reading_in_columns_does_not_import_polars(sqlite_url):
    """ADBC's DB-API layer imports polars when it is installed (the `bench` extra); the column read
    keeps it out, and a later `import polars` of the user's own still works."""
    pytest.importorskip("adbc_driver_sqlite")
    if subprocess.run([sys.executable, "-c", "import polars"], capture_output=True).returncode:
        pytest.skip("polars is not installed: nothing to keep out")
    assert invoke(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    script = ("import sys\nfrom cadre_policy.store.fact_store import FactStore\nfrom cadre_policy.store import columns\n"
              f"dialect, connect, target = columns._arrow_source(FactStore({sqlite_url!r}))\nconnect(target).close()\n"
              "print('polars' in sys.modules)\nimport polars\n")
    assert subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                          text=True).stdout.split() == ["False"]
