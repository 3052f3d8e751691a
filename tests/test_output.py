"""``-o PATH``: devices and FIFOs written in place, symlinks followed, no temporary file ever left."""
from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

import pytest

from conftest import SAMPLE, invoke
from cadre_policy.cli.output import OutputError, open_output

SRC = Path(__file__).resolve().parent.parent / "src" / "cadre_policy"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('out') / 'facts.db'}"
    assert invoke(url, "facts", "import", str(SAMPLE)).exit_code == 0
    return url


def _export(store, target) -> None:
    result = invoke(store, "facts", "export", "--format", "json", "-o", str(target))
    assert result.exit_code == 0, result.stderr


def test_dev_null_stays_a_device(store):
    before = os.stat("/dev/null")
    _export(store, "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino and after.st_rdev == before.st_rdev
    assert not [n for n in os.listdir("/dev") if n.startswith(".null.")]


def test_fifo_is_written_in_place(store, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    _export(store, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert b'"cadres"' in received[0]
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_symlink_is_followed_and_kept(store, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "export.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    _export(store, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert '"cadres"' in target.read_text()
    assert sorted(os.listdir(tmp_path / "real")) == ["export.json"]


def test_an_existing_tmp_file_is_not_touched(store, tmp_path):
    target = tmp_path / "export.json"
    (tmp_path / "export.json.tmp").write_text("someone else's")
    _export(store, target)
    assert (tmp_path / "export.json.tmp").read_text() == "someone else's"
    assert sorted(os.listdir(tmp_path)) == ["export.json", "export.json.tmp"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old report")
    with pytest.raises(RuntimeError):
        with open_output(str(target)) as out:
            out.write("half a repo")
            raise RuntimeError("the renderer failed")
    assert target.read_text() == "old report"
    assert sorted(os.listdir(tmp_path)) == ["report.txt"]


def test_a_missing_folder_is_a_one_line_error(store, tmp_path):
    result = invoke(store, "facts", "export", "-o", str(tmp_path / "no" / "such" / "x.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"Error: cannot write {tmp_path}/no/such/x.yaml: "
                                                  f"No such file or directory"]
    with pytest.raises(OutputError):
        with open_output(str(tmp_path / "no" / "x")):
            pass


def test_the_mode_of_a_replaced_file_is_kept(store, tmp_path):
    target = tmp_path / "export.json"
    target.write_text("old")
    target.chmod(0o640)
    _export(store, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_every_output_option_writes_through_open_output():
    # a command with -o that opened files itself would bring back PATH.tmp and renames over devices
    for module in (SRC / "cli").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        if module.name not in ("output.py", "common.py") and ("output_option" in text or '"--output"' in text):
            assert "open_output(" in text, module.name
    writes = re.compile(r"""\bopen\([^)]*["'](?:w|wb|a|x)["']|\.write_(?:text|bytes)\(""")
    # the helper itself; the docs/spreadsheets.md tool; the language server's scratch copy of an open editor buffer;
    # the workbench's scratch copies of posted drafts and imports and its job reports
    allowed = {"cli/output.py", "intake/sheets/doc.py", "editor/server.py", "scratch.py"}
    for module in SRC.rglob("*.py"):
        name = str(module.relative_to(SRC))
        if name not in allowed:
            assert not writes.search(module.read_text(encoding="utf-8")), name
