#!/usr/bin/env python3
"""What-if end to end: generated populations in SQLite, `policy whatif` timed as a subprocess.

For each size and draft (by default drafts/admonish_30pct, grassroots_3y and
replace_and_disable): wall time, µs per cadre end to end next to the µs per cadre of
merely reading the same rows from the store into columns (SQLAlchemy Core, no documents),
evaluations per second (cadres x 2 scenarios / wall time of the whole command), the peak
memory of its process tree, and in the same run the rate of the bare engine (the same
compiled baseline and draft, one process, on already-derived facts of the same population;
the columnar engine a chunk of 1,000 at a time). On the columnar engine the command runs twice
with a fresh snapshot directory: "cold" (every partition read and derived) and "cached" (the
snapshots of the first run, the store unchanged). The floor "reading in columns" is
``facts.columns.read_population`` over the whole store (ADBC into Arrow, as the columnar run
reads), next to the SQLAlchemy Core read of every row. Populations are generated once and
cached (--cache, default $TMPDIR/cadre-policy-bench).

    python benchmarks/whatif_bench.py                       # 10k, 100k, 1M
    python benchmarks/whatif_bench.py --sizes 100000 --engines columnar,durable
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (POLICY, ROOT, bare_rate, cache_dir, load_average, population, read_in_columns,  # noqa: E402
                    timed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated population sizes")
    parser.add_argument("--drafts", default=",".join(str(ROOT / "drafts" / f"{n}.yaml") for n in
                                                     ("admonish_30pct", "grassroots_3y", "replace_and_disable")))
    parser.add_argument("--engines", default="columnar,durable")
    parser.add_argument("--workers", type=int, help="passed to policy whatif (default: all cores)")
    parser.add_argument("--modes", default="shortcut,full",
                        help="shortcut: as shipped; full: --no-shortcut (the draft's engine runs for every cadre)")
    parser.add_argument("--bare-sample", type=int, default=20000,
                        help="cadres of each population the bare-engine rate is measured on")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", help="where the generated databases are kept")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    directory = cache_dir(args.cache)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    engines = [e for e in args.engines.split(",") if e]
    modes = [m for m in args.modes.split(",") if m]
    results = []
    print(f"cores {os.cpu_count()}, load {load_average()}", file=sys.stderr)
    for size, draft in ((size, Path(d)) for size in sizes for d in args.drafts.split(",")):
        db = population(directory, size, args.seed)
        read_s, rows = read_in_columns(db)
        columns_s = read_population_seconds(db)
        for engine in engines:
            sample = min(size, args.bare_sample)
            bare = bare_rate(db, draft, sample, engine)
            snapshots = tempfile.mkdtemp(prefix="bench-snapshots-")
            for mode in (modes if engine == "durable" else ("cold", "cached")):
                cmd = [POLICY, "--db", f"sqlite:///{db}", "whatif", "--draft", str(draft), "--engine", engine,
                       "--format", "json", "--output", os.devnull, "--quiet"]
                if args.workers:
                    cmd += ["--workers", str(args.workers)]
                if mode == "full":
                    cmd.append("--no-shortcut")
                load_before = load_average()
                env = dict(os.environ, POLICY_CACHE_DIR=snapshots)
                run = timed(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                row = {"cadres": size, "draft": draft.stem, "engine": engine, "mode": mode,
                       "wall_s": round(run["wall"], 1),
                       "us_per_cadre": round(run["wall"] / size * 1e6), "read_us_per_cadre": round(read_s / size * 1e6),
                       "columns_us_per_cadre": round(columns_s / size * 1e6),
                       "ratio_to_columns": round(run["wall"] / columns_s, 1),
                       "rows": rows,
                       "evals_per_s": round(2 * size / run["wall"]),
                       "bare_evals_per_s": round(bare), "bare_sample": sample,
                       "ratio_to_bare": round(2 * size / run["wall"] / bare, 2),
                       "tree_peak_mb": round(run["tree_peak_mb"]), "max_process_mb": round(run["max_process_mb"]),
                       "load_before": load_before}
                results.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print("| cadres | draft | engine | mode | wall (s) | µs/cadre end to end | µs/cadre reading in columns (ADBC) "
          "| × that read | µs/cadre reading rows (SQLAlchemy) | eval/s end to end | bare eval/s (1 process) "
          "| peak MB (tree) | load before |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['cadres']:,} | {r['draft']} | {r['engine']} | {r['mode']} | {r['wall_s']} | {r['us_per_cadre']} | "
              f"{r['columns_us_per_cadre']} | {r['ratio_to_columns']} | {r['read_us_per_cadre']} | "
              f"{r['evals_per_s']:,} | {r['bare_evals_per_s']:,} | {r['tree_peak_mb']} | {r['load_before']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def read_population_seconds(db: Path) -> float:
    """Seconds to read the whole store the way the columnar what-if reads it (facts.columns)."""
    from cadre_policy.store.columns import read_population
    from cadre_policy.store.fact_store import FactStore
    with FactStore(f"sqlite:///{db}") as store:
        start = time.perf_counter()
        population, _ = read_population(store)
        seconds = time.perf_counter() - start
    del population
    return seconds


if __name__ == "__main__":
    sys.exit(main())
