"""Worker processes for population runs: each compiles its rulesets once, chunks are streamed.

durable_rules rulesets live in the C module of the process that created them, so they
are created in each worker (by ``init``), never in the parent and never shared. Tasks
are small (a range of cadre ids); each worker reads its own chunk from the store, so
reading, deriving and evaluating all run in parallel, and only results come back.
At most ``in_flight`` tasks are outstanding, so memory is bounded by the chunk size,
not by the population.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from typing import Callable, Iterable, Iterator

_state: dict = {}


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # not on Linux
        return max(1, os.cpu_count() or 1)


def _init(init: Callable, args: tuple) -> None:
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
    ctx = mp.get_context(method)
    limit = in_flight or workers * 2
    pool = ctx.Pool(processes=workers, initializer=_init, initargs=(init, args))
    try:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(_work, (task,)))
            while len(pending) >= limit:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
