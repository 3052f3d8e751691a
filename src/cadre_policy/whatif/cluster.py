"""Population runs on a Dask distributed cluster: id-range partitions as tasks.

The same tasks the local worker pool runs (``("range", first, last)`` of cadre ids) are
submitted to a Dask scheduler. Each task reads its own id range from the shared store; the
job (policy sets, a few hundred kB) reaches every worker once per run, as a worker plugin
(``whatif.cluster_job``), and each worker process builds its comparer from it on its first
task (compiling both policy sets) and keeps it for every task of the run. A task carries only
the run's token and its range; only the per-partition counts and the changed cadres' JSON
lines come back.
Results are taken in task order, at most ``in_flight`` outstanding, so the parent's memory
stays bounded as with local workers, and the report is the one the single-process run writes.

``address`` is a scheduler (``tcp://host:8786``) or ``local``: a LocalCluster of
``workers`` processes on this machine (one thread each: durable_rules state is per process).
What a LocalCluster costs beyond the local pool, and the settings below that remove it, are
measured in docs/performance.md (Dask).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import uuid
from collections import deque
from typing import Callable, Iterable, Iterator

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.whatif.parallel import worker_signals

_starting = [False]          # True while this process forks a LocalCluster's workers
_hooked = [False]


def _after_fork() -> None:
    if _starting[0]:
        worker_signals()     # Ctrl-C and SIGTERM are this process's to handle: it closes the cluster


class ClusterError(UserError):
    """The Dask cluster cannot be used (not installed, unreachable)."""


def local_settings() -> dict:
    """The Dask configuration a LocalCluster of this package's workers starts with.

    - Workers are forked from this process, which has already imported numpy, SQLAlchemy,
      distributed and the package, as the local pool's are; spawned, each imported them again
      (≈ 1.2 CPU-s a worker) and finalised a whole interpreter on the way out.
    - No statistical profiler: it samples the task thread's stack every 10 ms, taking the GIL.
    - Fewer wake-ups of the event loops (the scheduler's, each nanny's and worker's): the health
      tick every second instead of every 20 ms, the memory monitor every second instead of 100 ms,
      the system monitor every 5 s, no work stealing (the partitions are alike). With the
      defaults the parent alone spent ≈ 0.025 CPU-s a second of the run in its event loop.
    - Where workers must be spawned (no fork), without the ``MALLOC_TRIM_THRESHOLD_=65536`` Dask
      sets for them: glibc then hands every freed array back to the kernel and faults the pages
      in again on the next, which a partition's numpy temporaries pay in system time.
    """
    import dask
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"), MALLOC_TRIM_THRESHOLD_=None)
    return {"distributed.worker.multiprocessing-method": "fork" if "fork" in mp.get_all_start_methods() else "spawn",
            "distributed.worker.profile.enabled": False,
            "distributed.admin.tick.interval": "1s",
            "distributed.worker.memory.monitor-interval": "1s",
            "distributed.admin.system-monitor.interval": "5s",
            "distributed.scheduler.work-stealing": False,
            "distributed.nanny.pre-spawn-environ": environ}


class ClusterRunner:
    """Runs tasks on a Dask cluster; ``workers`` is how many Dask worker threads took part."""

    def __init__(self, address: str, workers: int | None = None, in_flight: int | None = None,
                 timeout: float = 10):
        self.address = address
        self.timeout = timeout          # seconds to reach a scheduler
        self.workers = workers or 2
        self.in_flight = in_flight

    def run(self, tasks: Iterable, init: Callable, args: tuple) -> Iterator:
        """Yield ``init(*args).run(task)`` for every task, in task order, computed on the cluster."""
        try:
            from distributed import Client, LocalCluster

            from cadre_policy.whatif.cluster_job import RunJob, run_task
        except ImportError:
            raise ClusterError(_("--cluster needs Dask distributed: pip install 'cadre-policy[cluster]'")) from None
        cluster = None
        try:
            if self.address == "local":
                import dask
                if not _hooked[0] and hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_after_fork)
                    _hooked[0] = True
                _starting[0] = True
                try:
                    with dask.config.set(local_settings()):
                        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=40)
                finally:
                    _starting[0] = False
                client = Client(cluster)
            else:
                client = Client(self.address, timeout=self.timeout)
        except (OSError, TimeoutError) as error:
            if cluster is not None:
                cluster.close()
            raise ClusterError(_("cannot reach the Dask scheduler at {address}: {error}").format(
                address=self.address, error=error)) from None
        token = uuid.uuid4().hex
        plugin = f"cadre-policy-{token}"
        try:
            self.workers = sum(client.nthreads().values())
            limit = self.in_flight or max(2, self.workers * 2)
            client.register_plugin(RunJob(token, init, args), name=plugin)
            pending: deque = deque()
            for task in tasks:
                pending.append(client.submit(run_task, token, task, pure=False))
                while len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            if cluster is None:         # a cluster that outlives the run: its workers drop the job
                try:
                    client.unregister_worker_plugin(plugin)
                except Exception:       # noqa: BLE001 -- best effort on the way out: the scheduler may be gone
                    pass
            client.close()
            if cluster is not None:
                cluster.close()
