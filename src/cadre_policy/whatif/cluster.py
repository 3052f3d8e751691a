"""Population runs on a Dask distributed cluster: id-range partitions as tasks.

The same tasks the local worker pool runs (``("range", first, last)`` of cadre ids) are
submitted to a Dask scheduler. Each Dask worker process builds its comparer once per run
(compiling both policy sets, and durable_rules rulesets where needed) and reads its own
partitions from the shared store, so only the job (policy sets, a few hundred kB, sent
once) and the per-partition counts and changed cadres cross the network. Results are
taken in task order, at most ``in_flight`` outstanding, so the parent's memory stays
bounded as with local workers, and the report is the one the single-process run writes.

``address`` is a scheduler (``tcp://host:8786``) or ``local``: a LocalCluster of
``workers`` processes on this machine (one thread each: durable_rules state is per process).
"""
from __future__ import annotations

import uuid
from collections import deque
from typing import Callable, Iterable, Iterator

from cadre_policy.errors import UserError

_comparers: dict = {}        # on a Dask worker: run token -> comparer


class ClusterError(UserError):
    """The Dask cluster cannot be used (not installed, unreachable)."""


def _run(token: str, init: Callable, args: tuple, task):
    worker = _comparers.get(token)
    if worker is None:
        _comparers.clear()       # one run at a time per worker process: drop the previous run's state
        worker = _comparers[token] = init(*args)
    return worker.run(task)


class ClusterRunner:
    """Runs tasks on a Dask cluster; ``workers`` is how many Dask worker threads took part."""

    def __init__(self, address: str, workers: int | None = None, in_flight: int | None = None):
        self.address = address
        self.workers = workers or 2
        self.in_flight = in_flight

    def run(self, tasks: Iterable, init: Callable, args: tuple) -> Iterator:
        """Yield ``init(*args).run(task)`` for every task, in task order, computed on the cluster."""
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("--cluster needs Dask distributed: pip install 'cadre-policy[cluster]'") from None
        cluster = None
        try:
            if self.address == "local":
                import dask
                # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536: glibc then hands every freed
                # array back to the kernel and faults the pages in again on the next, which a partition's
                # numpy temporaries pay in system time (twice the local pool's); the default threshold
                # adapts to them
                environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"), MALLOC_TRIM_THRESHOLD_=None)
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)
                client = Client(cluster)
            else:
                client = Client(self.address, timeout=10)
        except (OSError, TimeoutError) as error:
            if cluster is not None:
                cluster.close()
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        try:
            self.workers = sum(client.nthreads().values())
            limit = self.in_flight or max(2, self.workers * 2)
            token = uuid.uuid4().hex
            shared = client.scatter(args, broadcast=True, hash=False)
            pending: deque = deque()
            for task in tasks:
                pending.append(client.submit(_run, token, init, shared, task, pure=False))
                while len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
