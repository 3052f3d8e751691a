#!/usr/bin/env python3
"""`policy check --all`: cadres evaluated per second on the sample city and on a generated
population, both engines, beside the bare engine (the same compiled rulesets, one process)
on the same already-derived facts.

    python benchmarks/check_bench.py --size 10000

With ``--against-whatif``: `check --all --format jsonl -o /dev/null` (columns, on the worker
pool) beside a cold `whatif --draft drafts/grassroots_3y.yaml`, interleaved round by round,
CPU seconds of the process tree and their ratio, the load before each run; with ``--before
DIR`` (a source tree put first on ``PYTHONPATH``) the check from that tree too. Every run has a
fresh cache directory (``POLICY_CACHE_DIR``: snapshots and start-up cache).

    python benchmarks/check_bench.py --against-whatif --size 100000 --before /work/wt/before --rounds 2
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from cadre_policy import data
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, ROOT, cache_dir, load_average, measured, population, timed  # noqa: E402


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


def cold(cmd: list[str], src: Path | None = None) -> dict:
    """``measured`` with a fresh cache directory, from ``src`` (a source tree) when given."""
    cache = tempfile.mkdtemp(prefix="check-bench-")
    env = dict(os.environ, POLICY_CACHE_DIR=cache)
    if src is not None:
        env["PYTHONPATH"] = str(src / "src") + os.pathsep + env.get("PYTHONPATH", "")
    try:
        return measured(cmd, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def against_whatif(db: Path, before: Path | None, rounds: int, workers: int) -> None:
    """Rounds of: the cold what-if, the check from ``before``, the check from this tree."""
    base = [POLICY, "--db", f"sqlite:///{db}"]
    whatif = base + ["whatif", "--draft", str(ROOT / "drafts" / "grassroots_3y.yaml"), "--as-of", AS_OF,
                     "--engine", "columnar", "--format", "json", "-o", os.devnull, "--quiet", "--workers", str(workers)]
    check = base + ["check", "--all", "--as-of", AS_OF, "--format", "jsonl", "-o", os.devnull, "--workers", str(workers)]
    runs = [("what-if", whatif, None)] + ([("check before", check, before)] if before else []) + [("check", check, None)]
    print("| round | run | wall (s) | CPU (s) | CPU ÷ what-if | peak MB | load before |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for round_ in range(1, rounds + 1):
        got = {label: cold(cmd, src) for label, cmd, src in runs}
        for label, run in got.items():
            print(f"| {round_} | {label} | {run['wall']} | {run['cpu']} | {run['cpu'] / got['what-if']['cpu']:.2f} "
                  f"| {run['peak_mb']} | {run['load']} |", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="generated population size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache")
    parser.add_argument("--against-whatif", action="store_true", help="check --all beside a cold what-if")
    parser.add_argument("--before", type=Path, help="with --against-whatif: a source tree to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    directory = cache_dir(args.cache)
    print(f"cores {os.cpu_count()}, load {load_average()}", file=sys.stderr)
    if args.against_whatif:
        against_whatif(population(directory, args.size, args.seed), args.before, args.rounds, args.workers)
        return 0
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
