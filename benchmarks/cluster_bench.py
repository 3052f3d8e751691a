#!/usr/bin/env python3
"""What-if on a Dask LocalCluster with 1 and 2 workers over a PostgreSQL store.

Generates ``--cadres`` cadres into the PostgreSQL database named by ``--db`` (once; a
database it creates when missing), then times ``policy whatif --cluster local --workers W``
for each W, every partition read by its worker from PostgreSQL. Prints cadres per second
overall and per worker, and a paper estimate for 10,000,000 cadres on M machines of the
same per-worker rate (linear in workers while PostgreSQL keeps up; see docs/performance.md).

    python benchmarks/cluster_bench.py --db postgresql+psycopg://postgres@127.0.0.1:5432/cadre_bench \\
        --cadres 2000000 --workers 1,2
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POLICY, ROOT, load_average, timed  # noqa: E402


def ensure_population(url: str, cadres: int, seed: int) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT to_regclass('cadres') IS NOT NULL")).scalar() and \
            conn.execute(text("SELECT count(*) FROM cadres")).scalar()
    engine.dispose()
    if have == cadres:
        return
    if have:
        raise SystemExit(f"{url} holds {have} cadres, not {cadres}: use another database")
    print(f"generating {cadres:,} cadres into {url} ...", file=sys.stderr, flush=True)
    subprocess.run([POLICY, "--db", url, "facts", "generate", "--cadres", str(cadres), "--seed", str(seed),
                    "--load"], check=True, stdout=subprocess.DEVNULL)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL URL")
    parser.add_argument("--cadres", type=int, default=2_000_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draft", default=str(ROOT / "drafts" / "grassroots_3y.yaml"))
    args = parser.parse_args(argv)
    ensure_population(args.db, args.cadres, args.seed)
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        # the plain worker pool first (cold), then the LocalCluster cold and cached: CPU side by side
        for mode in ("plain", "cold", "cached"):
            if mode != "cached":
                snapshots = tempfile.mkdtemp(prefix="cluster-snapshots-")    # cold: every partition read again
            load = load_average()
            cluster = ["--cluster", "local"] if mode != "plain" else []
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run = timed([POLICY, "--db", args.db, "whatif", "--draft", args.draft, "--as-of", "2017-06-30",
                         *cluster, "--workers", str(workers), "--format", "json", "-o", os.devnull,
                         "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        env=dict(os.environ, POLICY_CACHE_DIR=snapshots))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            rate = args.cadres / run["wall"]
            rows.append({"workers": workers, "mode": mode, "wall_s": round(run["wall"], 1), "cadres_per_s": round(rate),
                         "per_worker": round(rate / workers), "cpu_s": round(cpu, 1),
                         "tree_peak_mb": round(run["tree_peak_mb"]), "load_before": load})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"{args.cadres:,} cadres on PostgreSQL, draft {Path(args.draft).stem}, load now {load_average()}")
    print("| workers | run | wall (s) | CPU (s) | cadres/s | cadres/s per worker | peak MB (tree) | load before |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        run = "worker pool" if r["mode"] == "plain" else f"LocalCluster, {r['mode']}"
        print(f"| {r['workers']} | {run} | {r['wall_s']} | {r['cpu_s']} | {r['cadres_per_s']:,} | {r['per_worker']:,} | "
              f"{r['tree_peak_mb']} | {r['load_before']} |")
    per_worker = max(r["per_worker"] for r in rows if r["mode"] == "cold")
    for machines, cores in ((1, 8), (4, 8), (16, 8)):
        seconds = 10_000_000 / (per_worker * machines * cores)
        print(f"paper estimate, 10,000,000 cadres on {machines} machine(s) x {cores} workers: "
              f"{seconds:,.0f} s at {per_worker:,} cadres/s per worker, if PostgreSQL serves "
              f"{per_worker * machines * cores:,} cadres/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
