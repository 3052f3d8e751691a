"""Memory over many evaluations in one process: each evaluation must leave nothing behind.

Prints the resident set size every --every evaluations; with durable_rules states deleted
after each cadre it stays flat. Usage:
    python benchmarks/memory_bench.py --cadres 100000 --engine durable
"""
from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.load.policyset import load
from cadre_policy.generate.population import generate

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cadres", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--engine", choices=["durable", "python"], default="durable")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    as_of = date(2017, 6, 30)
    evaluator = PolicyRunner(load(ROOT / "policies"), as_of, args.engine)
    units, cadres = generate(args.cadres, args.seed, as_of)
    units = normalise_units({u["id"]: u for u in units})
    start = time.perf_counter()
    print(f"{'evaluations':>12} {'RSS MB':>8} {'cadres/s':>9}")
    print(f"{0:>12} {rss_mb():>8.1f}")
    for n, doc in enumerate(cadres, 1):
        evaluator.evaluate(doc, units)
        if n % args.every == 0:
            print(f"{n:>12} {rss_mb():>8.1f} {n / (time.perf_counter() - start):>9.0f}", flush=True)


if __name__ == "__main__":
    main()
