"""Population runs under faults: a dying worker, SIGTERM/SIGINT, an import committing mid-run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cadre_policy.whatif.parallel import WorkerFailed, run_tasks

POLICY = [str(Path(sys.executable).with_name("policy"))]


class _Aborting:
    """A worker whose second task takes the process down the way a C engine abort does."""

    def __init__(self, marker: str):
        self.marker = marker

    def run(self, task):
        if task == 1:
            import faulthandler
            faulthandler.disable()      # pytest's, inherited by the fork: keep the report quiet
            os.abort()
        return task


def test_a_worker_that_dies_ends_the_run_with_one_error(tmp_path):
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match="a worker process died"):
        list(run_tasks(range(6), _Aborting, (str(tmp_path),), workers=2))
    assert time.monotonic() - started < 60      # no pool left waiting for the lost task


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    folder = tmp_path_factory.mktemp("population")
    url = f"sqlite:///{folder / 'facts.db'}"
    # large enough that a run lasts seconds after it starts on a quiet machine too
    subprocess.run(POLICY + ["--db", url, "facts", "generate", "--cadres", "15000", "--load"], check=True,
                   capture_output=True)
    return folder, url


def _started(process: subprocess.Popen, tmpdir: Path) -> None:
    """Wait until the run has begun (its spool file exists), not for a fixed time."""
    deadline = time.monotonic() + 120
    while not any(n.startswith("whatif-") for n in os.listdir(tmpdir)):
        assert process.poll() is None, "the what-if ended before it started"
        assert time.monotonic() < deadline, "the what-if did not start"
        time.sleep(0.05)


def _whatif(url: str, tmpdir: Path) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmpdir))
    return subprocess.Popen(POLICY + ["--db", url, "whatif", "-q", "--engine", "durable", "--no-shortcut",
                                      "--workers", "2", "--chunk-size", "50",
                                      "--set", "supervision.admonish_ratio=3/10", "--as-of", "2017-06-30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_leaves_no_spool_file_and_no_traceback(population, tmp_path, signum):
    _, url = population
    process = _whatif(url, tmp_path)
    _started(process, tmp_path)
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert os.listdir(tmp_path) == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_workers_end_when_the_whatif_is_killed(population, tmp_path):
    """SIGKILL cannot be caught: the workers end by themselves (PR_SET_PDEATHSIG), not run on."""
    _, url = population
    process = _whatif(url, tmp_path)
    _started(process, tmp_path)
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(process.pid)
    assert workers, "no worker processes"
    process.kill()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{w}").exists() and "zombie" not in _state(w) for w in workers):
        assert time.monotonic() < deadline, "workers outlived the killed what-if"
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


@pytest.mark.slow       # a 10,000-cadre what-if racing an import
def test_an_import_committing_during_a_whatif_is_refused_not_mixed(population, tmp_path):
    folder, url = population
    cadre = json.loads(subprocess.run(POLICY + ["--db", url, "facts", "export", "--format", "json"],
                                      capture_output=True, text=True, check=True).stdout)["cadres"][0]
    cadre["reviews"] = [{"date": "2017-01-01", "total": 10, "dissatisfied": 9}]
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"cadres": [cadre]}, ensure_ascii=False), encoding="utf-8")
    process = _whatif(url, tmp_path)
    _started(process, tmp_path)
    imported = subprocess.run(POLICY + ["--db", url, "facts", "import", str(change)], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, (stdout[-500:], stderr)
    assert stderr.strip().splitlines()[-1].endswith("its figures would mix two states; run it again")
    assert "Traceback" not in stderr
    assert [n for n in os.listdir(tmp_path) if n.startswith("whatif-")] == []
