"""`check --all` in columns on the worker pool: each worker reads an id range, evaluates it in
columns (``run.results``) and serialises each cadre's JSON there; the parent, which every
partition passes through, only writes the lines (and tallies the rows) in id order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from cadre_policy.language import model as m
from cadre_policy.render.check import population_row, to_json
from cadre_policy.run.results import ColumnarResults
from cadre_policy.run.evaluate import PolicyRunner

#: Cadres per task: a worker holds a partition's columns and its serialised lines (≈ 1.5 kB a cadre)
PARTITION = 20_000


@dataclass
class CheckJob:
    """What a worker needs, built in the parent (handed over at fork, or pickled)."""
    db_url: str
    policy_set: m.PolicySet
    as_of: date
    units: dict                 # normalised, with structure findings where rules read them (run.population)
    generation: str             # the store's state when the run began: a partition read at another is refused


def supported(runner: PolicyRunner) -> bool:
    """Whether the columnar path can check this policy set (else cadre by cadre from documents)."""
    return ColumnarResults(runner).supported


class CheckWorker:
    """Compiles the policy set once; checks id ranges."""

    def __init__(self, job: CheckJob):
        self.job = job
        self.runner = PolicyRunner(job.policy_set, job.as_of, "python", name="check")
        self.results = ColumnarResults(self.runner)
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from cadre_policy.store.fact_store import FactStore
            self._store = FactStore(self.job.db_url)
        return self._store

    def run(self, task) -> dict:
        """Task: ("range", first, last). Returns ``n`` and ``cadres``: (JSON line, table row) of each cadre."""
        from cadre_policy.store.columns import read_population
        from cadre_policy.store.errors import StoreChangedError
        pop, generation = read_population(self.store, task[1], task[2], names=True)
        if generation != self.job.generation:
            raise StoreChangedError.during_run(self.store.url)
        policy_set, units = self.job.policy_set, self.job.units
        out = []
        for result, unit in self.results.results(pop, units):
            row = population_row(result, policy_set, unit=units.get(unit) or ({"id": unit} if unit else {}))
            out.append((json.dumps(to_json(result, policy_set), ensure_ascii=False), row))
        return {"n": pop.n, "cadres": out}


def check_partitions(job: CheckJob, store, workers: int, progress=None):
    """Yield (JSON line, row) of every cadre, in id order, checked on ``workers`` processes."""
    from cadre_policy.whatif.parallel import run_tasks
    total = store.count_cadres()
    size = max(1000, min(PARTITION, -(-total // max(1, workers * 2))))       # every worker busy
    tasks = list(store.chunks(None, None, size))
    if workers > 1:
        store.engine.dispose()          # no pooled connection crosses the fork
    for chunk in run_tasks(tasks, CheckWorker, (job,), workers):
        yield from chunk["cadres"]
        if progress is not None:
            progress(chunk["n"], total)
