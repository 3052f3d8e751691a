#!/usr/bin/env python3
"""What the store's default evaluation date costs a page: reading it (one primary-key row, on every request
that names no date and for every header) and deciding whether a date lies outside every document's force.

Prints the mean time per call over N calls on each database given, and the load average.

    python benchmarks/settings_bench.py --calls 2000 [--db URL ...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average  # noqa: E402


def timed(calls: int, fn) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--db", action="append", default=[], metavar="URL", help="Also this database (repeatable).")
    args = parser.parse_args()
    from cadre_policy.explain.coverage import outside_force
    from cadre_policy.load.policyset import load
    from cadre_policy.store.fact_store import FactStore
    from cadre_policy.store.settings import default_as_of, set_default_as_of
    with tempfile.TemporaryDirectory() as tmp:
        for url in [f"sqlite:///{tmp}/bench.db", *args.db]:
            store = FactStore(url)
            set_default_as_of(store, date(2017, 6, 30))
            micros = timed(args.calls, lambda: default_as_of(store))
            set_default_as_of(store, None)
            print(f"{store.dialect:<10} default date read: {micros:8.1f} µs a call ({args.calls} calls)")
            store.close()
    policy_set = load(ROOT / "policies")
    micros = timed(args.calls, lambda: outside_force(policy_set, date(1990, 1, 1)))
    print(f"{'':<10} date outside every document: {micros:8.1f} µs a call ({len(policy_set.policies)} documents)")
    print(f"load average: {load_average()}")


if __name__ == "__main__":
    main()
