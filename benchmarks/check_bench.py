#!/usr/bin/env python3
"""`policy check --all`: cadres evaluated per second on the sample city and on a generated
population, both engines, beside the bare engine (the same compiled rulesets, one process)
on the same already-derived facts.

    python benchmarks/check_bench.py --size 10000
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from cadre_policy import data
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, ROOT, cache_dir, load_average, population, timed  # noqa: E402


def bare_check_rate(db: Path, engine: str, count: int) -> float:
    from datetime import date
    from cadre_policy.run.evaluate import PolicyRunner, normalise_units
    from cadre_policy.load.policyset import load
    from cadre_policy.store.fact_store import FactStore
    pe = PolicyRunner(load(ROOT / "policies"), date.fromisoformat(AS_OF), engine, name=f"bare_check_{engine}")
    facts = []
    with FactStore(f"sqlite:///{db}") as store:
        units = normalise_units(store.units())
        for chunk in store.iter_cadre_chunks(chunk_size=2000):
            facts += [pe.facts(doc, units)[1] for doc in chunk]
            if len(facts) >= count:
                break
    facts = facts[:count]
    start = time.perf_counter()
    for fact in facts:
        pe.engine.run(fact)
    return len(facts) / (time.perf_counter() - start)


def sample_db(directory: Path) -> tuple[Path, int]:
    db = directory / "sample_city.db"
    if not db.exists():
        subprocess.run([POLICY, "--db", f"sqlite:///{db}", "facts", "import",
                        str(data.SAMPLE / "city.yaml")], check=True, capture_output=True)
    from cadre_policy.store.fact_store import FactStore
    with FactStore(f"sqlite:///{db}") as store:
        return db, store.count_cadres()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="generated population size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache")
    args = parser.parse_args(argv)
    directory = cache_dir(args.cache)
    print(f"cores {os.cpu_count()}, load {load_average()}", file=sys.stderr)
    rows = []
    for label, (db, n) in (("sample city.yaml", sample_db(directory)),
                           (f"generated {args.size:,}", (population(directory, args.size, args.seed), args.size))):
        for engine in ("durable", "python"):
            run = timed([POLICY, "--db", f"sqlite:///{db}", "check", "--all", "--as-of", AS_OF, "--engine", engine,
                         "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            bare = bare_check_rate(db, engine, min(n, 20000))
            rows.append((label, n, engine, run["wall"], n / run["wall"], bare, run["tree_peak_mb"]))
            print(rows[-1], file=sys.stderr, flush=True)
    print("| population | cadres | engine | wall (s) | cadres/s `check --all` | bare engine cadres/s | peak MB |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for label, n, engine, wall, rate, bare, peak in rows:
        print(f"| {label} | {n:,} | {engine} | {wall:.1f} | {rate:,.0f} | {bare:,.0f} | {peak:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
