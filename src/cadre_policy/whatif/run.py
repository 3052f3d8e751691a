"""What-if: evaluate a draft against the whole population beside the policy set in force.

The parent process cuts the store into ranges of cadre ids and streams them to worker
processes (``whatif.parallel``), each of which compares its chunks (``whatif.compare``).
Only counts and those differences come back to the parent, which spools them to a
temporary file: memory is bounded by the chunk size, not the population.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.language import model as m
from cadre_policy.run.evaluate import PolicyRunner
from cadre_policy.run.outcome import ELIGIBILITY_VALUES
from cadre_policy.whatif.parallel import default_workers, run_tasks

from cadre_policy.whatif.compare import Comparer, Job, derivation_key
from cadre_policy.whatif.reach import Reach


# ---- the run ------------------------------------------------------------------------------------
@dataclass
class WhatIfResult:
    """Counts and the spooled differences of one what-if run."""
    as_of: date
    cadres: int
    counts: tuple                      # (baseline Counter, draft Counter) of summary keys
    units: dict                        # unit id -> (Counter, Counter)
    unit_names: dict
    spool: str                         # path of a JSON-lines file of changed cadres
    changed: int
    near: Counter | None = None
    seconds: float = 0.0
    workers: int = 1
    engine: str = "durable"
    shared_facts: bool = False
    changed_by_unit: Counter = field(default_factory=Counter)
    near_margin: object = None
    skipped: int = 0                   # draft engine runs skipped by the proven shortcut
    verified: int = 0                  # changed cadres durable_rules re-ran to check the columnar explanation
    structure: list | None = None      # team and population targets whose status changes (see structure_changes)
    reach: Reach = field(default_factory=Reach)     # per requirement and finding, the cadres that move on it

    def changes(self):
        """Iterate the changed cadres (from the spool file)."""
        for line in self.lines():
            yield json.loads(line)

    def lines(self):
        """Each changed cadre as the JSON line it is spooled as (no newline)."""
        with open(self.spool, encoding="utf-8") as spool:
            for line in spool:
                yield line.rstrip("\n")

    def close(self) -> None:
        try:
            os.remove(self.spool)
        except OSError:
            pass

    def summary_rows(self, counts: tuple | None = None) -> list[tuple[str, int, int, int]]:
        """(key, baseline, draft, difference) for every finding code and eligibility value seen."""
        base, draft = counts or self.counts
        keys = sorted(set(base) | set(draft), key=_key_order)
        return [(k, base.get(k, 0), draft.get(k, 0), draft.get(k, 0) - base.get(k, 0)) for k in keys]


def _key_order(key: str):
    kind, _, value = key.partition(":")
    if kind == "finding":
        return (0, value)
    return (1, kind, ELIGIBILITY_VALUES.index(value) if value in ELIGIBILITY_VALUES else 9, value)


class UnitCounts:
    """Counts by unit summed over partitions: a partition gives unit -> (Counter, Counter), or, from
    the columnar comparer, ``("table", units, (keys, matrix) per side)``: a unit x key matrix,
    added here with numpy so the Counters are built once, at the end, not once per partition."""

    def __init__(self):
        self.index: dict = {}                 # unit -> row
        self.sides = ({}, {})                 # key -> counts by row
        self.plain: dict = {}

    def add(self, part) -> None:
        if not (isinstance(part, tuple) and part and part[0] == "table"):
            for unit, (cb, cd) in part.items():
                mine = self.plain.setdefault(unit, (Counter(), Counter()))
                mine[0].update(cb)
                mine[1].update(cd)
            return
        import numpy as np
        _, names, sides = part
        rows = np.array([self.index.setdefault(name, len(self.index)) for name in names], dtype=np.int64)
        for totals, (keys, matrix) in zip(self.sides, sides):
            for j, key in enumerate(keys):
                total = totals.get(key)
                if total is None or len(total) < len(self.index):
                    grown = np.zeros(max(len(self.index), 2 * len(total) if total is not None else 0), np.int64)
                    if total is not None:
                        grown[:len(total)] = total
                    total = totals[key] = grown
                total[rows] += matrix[:, j]

    def counters(self) -> dict:
        """unit -> (baseline Counter, draft Counter)."""
        import numpy as np
        names = list(self.index)
        out = {name: (Counter(), Counter()) for name in names}
        for side, totals in enumerate(self.sides):
            for key, total in totals.items():
                for row in np.flatnonzero(total).tolist():
                    out[names[row]][side][key] = int(total[row])
        for unit, (cb, cd) in self.plain.items():
            mine = out.setdefault(unit, (Counter(), Counter()))
            mine[0].update(cb)
            mine[1].update(cd)
        return out


def run_whatif(job: Job, store, workers: int | None = None, chunk_size: int = 1000,
               progress=None, cluster: str | None = None) -> WhatIfResult:
    """Evaluate baseline and draft over the store; counts in memory, differences spooled.

    With ``cluster`` (a Dask scheduler address, or ``local`` for a LocalCluster of ``workers``
    processes) the partitions run on Dask (whatif/cluster.py); the result is the same.
    """
    import time
    started = time.perf_counter()
    workers = workers or default_workers()
    # compiled here with the python engine only to validate and to report whether facts are shared;
    # durable_rules rulesets are made in the workers
    base = PolicyRunner(job.baseline, job.as_of, "python", name="baseline")
    draft = PolicyRunner(job.draft, job.as_of, "python", overrides=job.draft_overrides, name="draft")
    shared = derivation_key(base) == derivation_key(draft) and base.compiled.fields == draft.compiled.fields
    total = store.count_cadres(job.unit, job.as_of)
    unit_names = {uid: u.get("name", uid) for uid, u in store.units().items()}
    if job.engine == "columnar" and job.unit is None and job.near is None:
        from cadre_policy.whatif.columnar import PARTITION
        # read in columns: large partitions, but at least one per worker
        chunk_size = max(chunk_size, min(PARTITION, -(-total // workers)))
    # the run's least durable_rules cross-check, spread over its partitions
    job = dataclasses.replace(job, verify_least=-(-job.verify_least // max(1, -(-total // chunk_size))))
    tasks = store.chunks(job.unit, job.as_of, chunk_size)
    if total <= chunk_size * 4:
        tasks = list(tasks)
    if workers > 1 or cluster == "local":
        store.engine.dispose()          # no pooled connection crosses the fork (a LocalCluster forks its workers)
    counts = (Counter(), Counter())
    units = UnitCounts()
    near = Counter() if job.near is not None else None
    changed = n = skipped = verified = 0
    changed_by_unit: Counter = Counter()
    reach = Reach(job.reach_cadres)
    comparer = Comparer
    if job.engine == "columnar":
        from cadre_policy.whatif.columnar import ColumnarComparer as comparer
    if cluster:
        from cadre_policy.whatif.cluster import ClusterRunner
        runner = ClusterRunner(cluster, workers)
        chunks = runner.run(tasks, comparer, (job,))
    else:
        runner, chunks = None, run_tasks(tasks, comparer, (job,), workers)
    fd, spool = tempfile.mkstemp(prefix="whatif-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for chunk in chunks:
                n += chunk["n"]
                skipped += chunk["skipped"]
                verified += chunk.get("verified", 0)
                counts[0].update(chunk["counts"][0])
                counts[1].update(chunk["counts"][1])
                units.add(chunk["units"])
                reach.merge(chunk.get("reach"))
                if near is not None:
                    near.update(chunk["near"])
                for unit, line in chunk["changes"]:
                    out.write(line + "\n")
                    changed += 1
                    changed_by_unit[unit] += 1
                if progress is not None:
                    progress(chunk["n"], total)
    except BaseException:       # a worker failed, Ctrl-C, SIGTERM: no spool file survives the run
        os.remove(spool)
        raise
    if runner is not None:
        workers = runner.workers
    return WhatIfResult(job.as_of, n, counts, units.counters(), unit_names, spool, changed, near,
                        time.perf_counter() - started, workers, job.engine, shared, changed_by_unit, job.near, skipped,
                        verified=verified, reach=reach)


def structure_changes(baseline: m.PolicySet, draft: m.PolicySet, store, as_of: date, overrides: dict,
                      unit: str | None = None) -> list[dict] | None:
    """The group instances whose target status differs between baseline and draft (None: no targets).

    Aggregates are grouped queries in the store's database, run once per side.
    """
    from cadre_policy.aggregate import evaluate_structure, load_structure
    mine, theirs = load_structure(baseline), load_structure(draft)
    if not mine.rules and not theirs.rules:
        return None
    if (mine.groups, mine.rules, mine.used_parameters) == (theirs.groups, theirs.rules, theirs.used_parameters) \
            and not overrides and baseline.derived == draft.derived \
            and all(baseline.parameters.get(p) == draft.parameters.get(p) for p in mine.used_parameters):
        return []       # the same rules over the same parameters and facts: no group can change
    base = evaluate_structure(baseline, store, as_of, unit=unit, members_limit=0)
    new = evaluate_structure(draft, store, as_of, unit=unit, overrides=overrides, members_limit=0)
    labels = {(r.rule.id, r.key): (r.rule.title, r.label, r.rule.finding) for r in base.results + new.results}
    out = []
    for rule_id, key, mine, theirs in base.changes(new):
        if (mine[2] if mine else None) == (theirs[2] if theirs else None):
            continue   # same status: a figure or target text changed but not the outcome
        title, label, finding = labels[(rule_id, key)]
        out.append({"rule": rule_id, "title": title, "instance": key, "label": label, "finding": finding,
                    "baseline": dict(zip(("figure", "target", "status"), mine)) if mine else None,
                    "draft": dict(zip(("figure", "target", "status"), theirs)) if theirs else None})
    return out
