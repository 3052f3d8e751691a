"""What a Dask worker holds of a run: its job, left by a worker plugin, and the comparer built from it.

Imported only where Dask is installed (``whatif.cluster`` imports it when a run starts). The
plugin, registered once per run, reaches every worker of the cluster, and any that joins during
the run, once; tasks then carry only the run's token and their id range. A scattered job would
instead be a dependency of every task: Dask checks it before each, and its active memory
manager may drop a worker's replica between two tasks, to be fetched and unpickled again.
"""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

jobs: dict = {}              # run token -> (init, args), left by RunJob
comparers: dict = {}         # run token -> the comparer built from it


class RunJob(WorkerPlugin):
    """Leaves ``(init, args)`` for the run's first task on this worker to build its comparer from
    (in the task's thread, not the worker's event loop); drops both when the run ends."""

    def __init__(self, token: str, init, args: tuple):
        self.token, self.init, self.args = token, init, args

    def setup(self, worker) -> None:
        jobs[self.token] = (self.init, self.args)

    def teardown(self, worker) -> None:
        jobs.pop(self.token, None)
        comparers.pop(self.token, None)


def run_task(token: str, task):
    """A Dask task: ``init(*args).run(task)`` with the worker's comparer for the run ``token``."""
    worker = comparers.get(token)
    if worker is None:
        init, args = jobs[token]
        comparers.clear()        # one run at a time per worker process: drop the previous run's state
        worker = comparers[token] = init(*args)
    return worker.run(task)
