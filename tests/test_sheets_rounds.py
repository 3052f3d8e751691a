"""A workbook is joined to its cadres through a spool and checked and written a round at a time:
the rows' order across sheets does not matter, and a problem in any round writes nothing."""
from __future__ import annotations

import openpyxl
import pytest
import yaml

from conftest import SAMPLE
from cadre_policy.intake import sheets
from cadre_policy.intake.sheets.spool import Spool


def test_the_spool_gives_each_owners_values_in_the_order_added():
    spool = Spool()
    for owner, value in [(2, "a"), (0, {"x": [1, True]}), (2, ("b", None)), (1, "c"), (0, 7)]:
        spool.add(owner, value)
    assert len(spool) == 5
    assert list(spool.grouped()) == [(0, [{"x": [1, True]}, 7]), (1, ["c"]), (2, ["a", ("b", None)])]


def _export(run_cli, db, *args) -> str:
    result = run_cli(db, "facts", "export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _rewrite(source, target, edit) -> None:
    """Copy the workbook ``source`` to ``target``, each sheet's rows through ``edit(name, rows)``."""
    book = openpyxl.load_workbook(source)
    for ws in book.worksheets:
        rows = edit(ws.title, [[c.value for c in row] for row in ws.iter_rows()])
        ws.delete_rows(1, ws.max_row)
        for row in rows:
            ws.append(row)
    book.save(target)


@pytest.fixture
def exported(run_cli, sqlite_url, tmp_path, monkeypatch):
    """The sample exported as a workbook, its YAML export, and rounds of 5 cadres."""
    monkeypatch.setattr(sheets, "ROUND", 5)
    assert run_cli(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    _export(run_cli, sqlite_url, "--format", "xlsx", "-o", tmp_path / "a.xlsx")
    return tmp_path / "a.xlsx", _export(run_cli, sqlite_url)


@pytest.mark.parametrize("reader", ["openpyxl", "calamine"])
def test_records_in_any_cadre_order_import_the_same(run_cli, tmp_path, exported, reader):
    """Record sheets sorted by cadre backwards (each cadre's rows kept in their order): same store."""
    source, yaml_a = exported

    def backwards(name, rows):
        if name in ("干部", "单位", "说明") or rows[0][0] != "干部编号":
            return rows
        return rows[:1] + sorted(rows[1:], key=lambda r: str(r[0]), reverse=True)
    _rewrite(source, tmp_path / "b.xlsx", backwards)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    result = run_cli(db, "facts", "import", tmp_path / "b.xlsx", "--reader", reader)
    assert result.exit_code == 0, result.stderr
    assert "64 added" in result.stdout
    assert _export(run_cli, db) == yaml_a


def test_a_problem_in_a_later_round_writes_nothing(run_cli, sqlite_url, tmp_path, exported):
    source, yaml_a = exported

    def broken(name, rows):
        if name == "干部":
            rows[-1][1] = None                  # the last cadre's 姓名, in the last round
            rows[-2][0] = rows[1][0]            # a cadre of a later round repeats the first one's id
        return rows
    _rewrite(source, tmp_path / "c.xlsx", broken)
    changed = f"sqlite:///{tmp_path / 'c.db'}"
    assert run_cli(changed, "facts", "import", SAMPLE).exit_code == 0
    result = run_cli(changed, "facts", "import", tmp_path / "c.xlsx")
    assert result.exit_code == 2
    last = len(openpyxl.load_workbook(source)["干部"]["A"])
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'c.xlsx'}:干部!A{last - 1}: id: duplicate cadre id")
    assert lines[0].endswith(f"(first at {tmp_path / 'c.xlsx'}:干部!2:2)")
    assert lines[1] == f"{tmp_path / 'c.xlsx'}:干部!B{last}: name: 姓名 is empty"
    assert _export(run_cli, changed) == yaml_a


def test_units_from_a_yaml_file_beside_the_workbook(run_cli, tmp_path, exported):
    """Every unit id is known before the workbook's first round of cadres is checked."""
    source, yaml_a = exported
    units = yaml.safe_load(yaml_a)
    units.pop("cadres")
    (tmp_path / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    _rewrite(source, tmp_path / "d.xlsx", lambda name, rows: rows[:1] if name == "单位" else rows)
    db = f"sqlite:///{tmp_path / 'd.db'}"
    result = run_cli(db, "facts", "import", tmp_path / "d.xlsx", tmp_path / "units.yaml")
    assert result.exit_code == 0, result.stderr
    assert _export(run_cli, db) == yaml_a


def test_export_takes_its_format_from_the_extension(run_cli, sqlite_url, tmp_path):
    """`-o book.xlsx` without --format writes a workbook (it once wrote YAML under that name)."""
    assert run_cli(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    _export(run_cli, sqlite_url, "-o", tmp_path / "book.xlsx")
    assert (tmp_path / "book.xlsx").read_bytes()[:2] == b"PK"
    _export(run_cli, sqlite_url, "-o", tmp_path / "facts.json")
    assert (tmp_path / "facts.json").read_text(encoding="utf-8").startswith("{")


def test_a_full_disk_under_the_spool_is_a_message_and_writes_nothing(run_cli, tmp_path, exported, monkeypatch):
    """The rows wait in a temporary file: when it cannot be written the import says where and why."""
    import errno
    import tempfile

    class Full:
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", Full)
    db = f"sqlite:///{tmp_path / 'full.db'}"
    result = run_cli(db, "--lang", "zh", "facts", "import", exported[0])
    assert result.exit_code == 2, result.output
    assert "临时文件夹" in result.stderr and "No space left on device" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert "C0001" not in _export(run_cli, db)
