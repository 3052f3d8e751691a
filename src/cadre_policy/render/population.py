"""`check --all` in columns on the worker pool: each worker reads an id range, evaluates it in
columns (``run.results``) and serialises each cadre's JSON there; the parent, which every
partition passes through, only writes the lines (and tallies the rows) in id order.

A partition's cadres fall into a few groups of equal results (``ColumnarResults.grouped``):
each group's JSON and table row are made once, and a cadre's line is its id and name spliced
before the group's serialised rest.
"""
from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from datetime import date
from json.encoder import encode_basestring

import numpy as np

from cadre_policy.language import model as m
from cadre_policy.render.check import population_row, to_json
from cadre_policy.run.results import ColumnarResults
from cadre_policy.run.evaluate import PolicyRunner

#: Cadres per task: a worker holds a partition's columns and its serialised lines (≈ 1.5 kB a cadre)
PARTITION = 20_000
#: A cadre's own fields, first in its JSON line and its table row; the rest is its group's
OWN = ("cadre", "name")
UNIT = ("unit", "unit_name")


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

    def run(self, task) -> "Checked":
        """Task: ("range", first, last)."""
        # a partition makes some hundred thousand objects that live until it is done: without the
        # collector's passes over them and the worker's lasting ones (policy set, units, reasons
        # memo) it costs ≈ 10 % less
        gc.disable()
        try:
            return self._run(task)
        finally:
            gc.enable()

    def _run(self, task) -> "Checked":
        from cadre_policy.store.columns import read_population
        from cadre_policy.store.errors import StoreChangedError
        pop, generation = read_population(self.store, task[1], task[2], names=True)
        if generation != self.job.generation:
            raise StoreChangedError.during_run(self.store.url)
        policy_set, units = self.job.policy_set, self.job.units
        grouped = self.results.grouped(pop, units)
        rests, rows = [], []
        for result in grouped.results:
            doc = to_json(result, policy_set)
            rests.append(", " + json.dumps({k: v for k, v in doc.items() if k not in OWN}, ensure_ascii=False)[1:])
            row = population_row(result, policy_set, unit={})
            rows.append({k: v for k, v in row.items() if k not in OWN + UNIT})
        unit_rows = []                  # the unit fields of population_row, per current unit
        for unit in grouped.unit_ids:
            doc = units.get(unit) or ({"id": unit} if unit else {})
            unit_rows.append({"unit": doc.get("id", ""), "unit_name": doc.get("name", "")})
        # the same bytes as json.dumps of the whole document: the encoder's own string encoding
        lines = "".join([f'{{"cadre": {encode_basestring(cadre)}, "name": {encode_basestring(name)}{rests[g]}\n'
                         for cadre, name, g in zip(grouped.ids, grouped.names, grouped.group.tolist())])
        return Checked(lines.encode(), grouped.ids, grouped.names, grouped.group, rows, grouped.units, unit_rows)


@dataclass
class Checked:
    """One partition's cadres, checked: their JSON lines, and what their table rows
    (``render.check.population_row``) are made of: each group's fields and each unit's."""
    jsonl: bytes                # one JSON line a cadre, in id order, UTF-8: encoded once, in the worker
    ids: list
    names: list
    group: np.ndarray           # each cadre's group
    group_rows: list            # the fields of a group's row but the cadre's own and its unit's
    unit: np.ndarray            # each cadre's current unit, an index into unit_rows
    unit_rows: list

    @property
    def n(self) -> int:
        return len(self.ids)

    def lines(self) -> list[str]:
        return self.jsonl.decode().split("\n")[:-1]

    def write_jsonl(self, out) -> None:
        """The lines to a text stream: as they are when it writes UTF-8."""
        if (getattr(out, "encoding", "") or "").lower().replace("-", "") == "utf8" and hasattr(out, "buffer"):
            out.flush()
            out.buffer.write(self.jsonl)
        else:
            out.write(self.jsonl.decode())

    def rows(self):
        """Each cadre's table row."""
        groups, units = self.group_rows, self.unit_rows
        for cadre, name, g, u in zip(self.ids, self.names, self.group.tolist(), self.unit.tolist()):
            yield {"cadre": cadre, "name": name, **units[u], **groups[g]}

    def counted(self):
        """(a group's row fields, its number of cadres): what the summary counts."""
        return zip(self.group_rows, np.bincount(self.group, minlength=len(self.group_rows)).tolist())


def check_partitions(job: CheckJob, store, workers: int, progress=None):
    """Yield every partition ``Checked``, in id order, on ``workers`` processes."""
    from cadre_policy.whatif.parallel import run_tasks
    total = store.count_cadres()
    size = max(1000, min(PARTITION, -(-total // max(1, workers * 2))))       # every worker busy
    tasks = list(store.chunks(None, None, size))
    if workers > 1:
        store.engine.dispose()          # no pooled connection crosses the fork
    for checked in run_tasks(tasks, CheckWorker, (job,), workers):
        yield checked
        if progress is not None:
            progress(checked.n, total)
