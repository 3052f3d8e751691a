#!/usr/bin/env python3
"""Where a columnar what-if spends its CPU: one partition, stage by stage, µs per cadre.

Runs the stages of ``whatif.columnar.ColumnarComparer`` one after another on the first
``--cadres`` cadres of a SQLite store (in this process, snapshots off): reading in columns,
deriving and laying out each side, evaluating every rule of both sides, counting outcomes by
unit, gathering the changed cadres' scopes and explaining them from the columns (durable_rules
re-runs a sample).

    python benchmarks/stages_bench.py --db /tmp/pop.db --draft drafts/grassroots_3y.yaml --cadres 50000 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a SQLite store (path)")
    parser.add_argument("--draft", default=str(ROOT / "drafts" / "grassroots_3y.yaml"))
    parser.add_argument("--cadres", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="run each stage this many times, keep the least")
    args = parser.parse_args(argv)
    os.environ["POLICY_CACHE"] = "off"
    from cadre_policy.store.columns import read_population
    from cadre_policy.store.fact_store import FactStore
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.load.policyset import load
    from cadre_policy.whatif.columnar import ColumnarComparer, _Documents, _Source
    from cadre_policy.whatif.run import Job

    url = f"sqlite:///{args.db}"
    baseline = load(ROOT / "policies")
    draft_set, _, _ = load_draft(args.draft, baseline)
    store = FactStore(url)
    first, last = next(iter(store.chunks(None, None, args.cadres)))[1:]
    comparer = ColumnarComparer(Job(url, date(2017, 6, 30), "columnar", baseline, draft_set), store)
    units = comparer.units
    stages = []

    def stage(name, fn):
        best = float("inf")
        for _ in range(args.repeat):          # the least of several: the load only ever adds
            start = time.process_time()
            value = fn()
            best = min(best, time.process_time() - start)
        stages.append((name, best))
        return value

    print(f"load {load_average()}", file=sys.stderr)
    pop, _ = stage("read in columns (ADBC)", lambda: read_population(store, first, last))
    derived = stage("derive baseline", lambda: comparer.derivers[0].derive(pop, units))
    table_b = stage("lay out baseline", derived.table)
    derived_d = derived
    if not comparer.share_scope:          # as ``ColumnarComparer._tables``: only what the draft changes
        derived_d = stage("derive draft", lambda: comparer.derivers[1].derive(pop, units, reuse=derived))
    table_d = table_b if comparer.share_fact else stage("lay out draft", derived_d.table)
    unit_of = derived.current_units()
    matrix_b = stage("rules, baseline", lambda: comparer.columns[0].run_table(table_b))
    matrix_d = stage("rules, draft", lambda: comparer.columns[1].run_table(table_d))
    codes, names = unit_of
    tally = stage("outcomes and counts by unit", lambda: comparer._tally(matrix_b, matrix_d, (codes, names)))
    rows = tally.pop("rows")
    documents = _Documents(store, pop.ids)
    scopes, cadre_names = stage("gather the changed cadres' scopes from the columns", lambda: comparer._gather(
        _Source(pop, (derived, derived_d)), rows, pop.ids, documents, units, comparer._paths(tally["expected"])))
    stage("explain from the columns, durable_rules on a sample", lambda: comparer._explain(
        rows, [pop.ids[r] for r in rows], cadre_names, [names[codes[r]] or "—" for r in rows], units,
        tally["expected"], tally["firings"], scopes, lambda at: documents([rows[i] for i in at])))
    n = pop.n
    print(f"{n:,} cadres, draft {Path(args.draft).stem}, {len(rows):,} changed; load now {load_average()}")
    print("| stage | CPU s | µs per cadre |")
    print("|---|---:|---:|")
    for name, seconds in stages:
        print(f"| {name} | {seconds:.2f} | {seconds / n * 1e6:.1f} |")
    total = sum(s for _, s in stages)
    print(f"| **total** | {total:.2f} | {total / n * 1e6:.1f} |")
    if rows:
        print(f"explaining costs {stages[-1][1] / len(rows) * 1e3 + stages[-2][1] / len(rows) * 1e3:.2f} ms "
              "of CPU per changed cadre")
    return 0


if __name__ == "__main__":
    sys.exit(main())
