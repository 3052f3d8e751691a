"""The Dask path's task interface: workers forked from this process with the local pool's signal
handling, one comparer per worker per run, results in task order."""
from __future__ import annotations

import os
import signal

import pytest

from cadre_policy.i18n import using
from cadre_policy.whatif.cluster import ClusterError, ClusterRunner

MARK = None      # set by the test after import: a spawned worker, importing this module afresh, sees None


class Counting:
    """A comparer stand-in: counts how many were built in its process and says where it ran."""
    made = 0

    def __init__(self, job):
        Counting.made += 1
        self.job = job

    def run(self, task) -> dict:
        return {"task": task, "pid": os.getpid(), "made": Counting.made, "job": self.job, "mark": MARK,
                "signals": (signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
                            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)}


def test_local_cluster_workers_are_forked_and_build_one_comparer_each():
    pytest.importorskip("distributed")
    global MARK
    MARK = f"set at run time in {os.getpid()}"
    tasks = [("range", f"C{i:03d}", f"C{i:03d}") for i in range(12)]
    runner = ClusterRunner("local", workers=2, in_flight=3)
    results = list(runner.run(iter(tasks), Counting, ("the job",)))
    assert [r["task"] for r in results] == tasks                  # in task order, every one
    assert runner.workers == 2
    pids = {r["pid"] for r in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert all(r["made"] == 1 for r in results)                   # each worker built its comparer once
    assert all(r["job"] == "the job" for r in results)
    assert all(r["mark"] == MARK for r in results)                # forked: the parent's state, not a re-import
    # Ctrl-C and SIGTERM are the parent's to handle (it closes the cluster): no worker traceback
    assert all(r["signals"] == (True, True) for r in results)


def test_an_unreachable_scheduler_is_a_clear_chinese_error():
    pytest.importorskip("distributed")
    with using("zh"), pytest.raises(ClusterError) as error:
        list(ClusterRunner("tcp://127.0.0.1:9", timeout=1).run(iter([("range", "A", "B")]), Counting, ("job",)))
    assert str(error.value).startswith("无法连接 Dask 调度器 tcp://127.0.0.1:9：")
