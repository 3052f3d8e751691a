"""Worker processes for population runs: each compiles its rulesets once, chunks are streamed.

durable_rules rulesets live in the C module of the process that created them, so they
are created in each worker (by ``init``), never in the parent and never shared. Tasks
are small (a range of cadre ids); each worker reads its own chunk from the store, so
reading, deriving and evaluating all run in parallel, and only results come back.
At most ``in_flight`` tasks are outstanding, so memory is bounded by the chunk size,
not by the population.

A worker that dies (durable_rules aborts, the kernel kills it) ends the run with a
one-line :class:`WorkerFailed` instead of a pool waiting forever for its task; Ctrl-C
(and SIGTERM, which the CLI turns into KeyboardInterrupt) stops the workers and leaves
the caller's clean-up to run; workers print no tracebacks of their own on the way out.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator

from cadre_policy.errors import UserError

_state: dict = {}


class WorkerFailed(UserError):
    """A worker process of a population run died; nothing was reported."""


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # not on Linux
        return max(1, os.cpu_count() or 1)


def _die_with(parent: int) -> None:
    """End this worker when its parent dies, even by SIGKILL (which the parent cannot pass on).

    Linux's PR_SET_PDEATHSIG; a parent already gone before the call is caught by comparing
    ``getppid`` with the parent's pid. Elsewhere the worker ends at its next task instead.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)     # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def worker_signals() -> None:
    """In a worker process (the local pool's, a LocalCluster's): no handler inherited from the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)     # the parent's terminate(): just end
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)     # the parent gone: end quietly, no BrokenPipe traceback


def _init(init: Callable, args: tuple, parent: int) -> None:
    _die_with(parent)
    worker_signals()
    _state["worker"] = init(*args)


def _work(task):
    return _state["worker"].run(task)


def run_tasks(tasks: Iterable, init: Callable, args: tuple, workers: int,
              in_flight: int | None = None) -> Iterator:
    """Yield ``init(*args).run(task)`` for every task, in task order.

    With ``workers`` 1 everything runs in this process. Otherwise a pool of processes
    (the 'fork' start method where available, else 'spawn': then ``args`` must pickle)
    each calls ``init`` once at start.
    """
    if workers <= 1:
        worker = init(*args)
        for task in tasks:
            yield worker.run(task)
        return
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    limit = in_flight or workers * 2
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method),
                               initializer=_init, initargs=(init, args, os.getpid()))
    try:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(_work, task))
            while len(pending) >= limit:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    except BrokenProcessPool:       # a worker died before a later task could even be submitted
        _stop(pool)
        raise _died() from None
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _result(future):
    try:
        return future.result()
    except BrokenProcessPool:
        raise _died() from None


def _died() -> WorkerFailed:
    return WorkerFailed("a worker process died during the run (killed, or the rules engine aborted); "
                        "nothing was reported")


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now: cancel what is queued and terminate the processes."""
    # taken before shutdown(), which drops the pool's references to both
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    # the pool's own thread closes its wake-up pipe as it ends; Python 3.11's exit hook writes to that
    # pipe unlocked, and a close between its check and its write printed an OSError traceback at exit
    if manager is not None:
        manager.join(timeout=5)
