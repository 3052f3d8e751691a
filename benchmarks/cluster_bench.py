#!/usr/bin/env python3
"""What-if on a Dask LocalCluster beside the local worker pool, over PostgreSQL stores, interleaved.

For each population (``--db URL --cadres N``, repeatable; a database is created and filled by
``policy facts generate --load`` when missing) and each round, runs ``policy whatif`` cold (a
fresh snapshot folder) with the local pool (``--workers W``) and on a LocalCluster
(``--cluster local --workers W``) for every W, the order of pool/cluster and of the worker
counts alternating by round, so both see the same load. Each run prints its wall time, CPU
(user + system of the whole process tree; the PostgreSQL server's is not in it), peak memory
of the parent and of the largest worker, and the load average before it. Then, from the best
of the rounds: Dask throughput with W workers over 1, Dask CPU over the pool's at the same W,
and peak memory of each population over the smallest's: the issue's targets are ≥ 1.7× for 2
workers on two free cores, ≤ 1.10× CPU and ≤ 1.2× memory from 1,000,000 to 5,000,000 cadres.

    python benchmarks/cluster_bench.py --workers 1,2 --rounds 2 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/pop_1m --cadres 1000000 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/pop_5m --cadres 5000000

``--before DIR`` adds the LocalCluster run of another source tree (``git archive main | tar -x -C
DIR``, put first on PYTHONPATH) to each round.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, ROOT, load_average, timed  # noqa: E402


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


def whatif(url: str, draft: str, workers: int, cluster: bool, src: str | None = None) -> dict:
    """One cold run: a snapshot folder of its own, removed afterwards; ``src``: a source tree put
    first on PYTHONPATH (the code before a change)."""
    snapshots = tempfile.mkdtemp(prefix="cluster-snapshots-")
    env = dict(os.environ, POLICY_CACHE_DIR=snapshots)
    if src:
        env["PYTHONPATH"] = str(Path(src) / "src") + os.pathsep + env.get("PYTHONPATH", "")
    try:
        return timed([POLICY, "--db", url, "whatif", "--draft", draft, "--as-of", AS_OF,
                      *(["--cluster", "local"] if cluster else []), "--workers", str(workers),
                      "--format", "json", "-o", os.devnull, "--quiet"],
                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     env=env)
    finally:
        shutil.rmtree(snapshots, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", required=True, help="a PostgreSQL URL (repeat with --cadres)")
    parser.add_argument("--cadres", action="append", type=int, required=True)
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2 (4 oversubscribes two cores)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draft", default=str(ROOT / "drafts" / "grassroots_3y.yaml"))
    parser.add_argument("--runs", default="pool,dask", help="which runs: pool, dask or both")
    parser.add_argument("--before", metavar="DIR", help="also run the LocalCluster from this source tree "
                        "(git archive main | tar -x -C DIR), interleaved")
    args = parser.parse_args(argv)
    if len(args.db) != len(args.cadres):
        parser.error("give one --cadres for each --db")
    counts = [int(w) for w in args.workers.split(",")]
    for url, cadres in zip(args.db, args.cadres):
        ensure_population(url, cadres, args.seed)
    rows = []
    for url, cadres in zip(args.db, args.cadres):
        for turn in range(args.rounds):
            order = counts if turn % 2 == 0 else counts[::-1]
            for workers in order:
                runs = [(name, cluster, None) for name, cluster in (("pool", False), ("dask", True))
                        if name in args.runs.split(",")] + ([("before", True, args.before)] if args.before else [])
                for name, cluster, src in (runs if (turn + workers) % 2 == 0 else runs[::-1]):
                    load = load_average()
                    run = whatif(url, args.draft, workers, cluster, src)
                    rows.append({"cadres": cadres, "workers": workers, "run": name,
                                 "round": turn + 1, "wall_s": round(run["wall"], 2), "cpu_s": round(run["cpu"], 2),
                                 "cadres_per_s": round(cadres / run["wall"]),
                                 "parent_mb": round(run["parent_peak_mb"]), "worker_mb": round(run["child_peak_mb"]),
                                 "tree_mb": round(run["tree_peak_mb"]), "load_before": load})
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    report(rows, args, counts)
    return 0


def report(rows: list[dict], args, counts: list[int]) -> None:
    print(f"draft {Path(args.draft).stem}, PostgreSQL, cold runs, {os.cpu_count()} cores, load now {load_average()}")
    print("| cadres | workers | run | round | wall (s) | CPU (s) | cadres/s | parent peak MB | worker peak MB "
          "| tree peak MB | load before |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        run = {"dask": "LocalCluster", "pool": "worker pool", "before": "LocalCluster, before"}[r["run"]]
        print(f"| {r['cadres']:,} | {r['workers']} | {run} | {r['round']} | {r['wall_s']} | {r['cpu_s']} | "
              f"{r['cadres_per_s']:,} | {r['parent_mb']} | {r['worker_mb']} | {r['tree_mb']} | {r['load_before']} |")

    def best(cadres, workers, run, key):
        return min((r[key] for r in rows if (r["cadres"], r["workers"], r["run"]) == (cadres, workers, run)),
                   default=float("nan"))
    print("\nbest of the rounds:")
    for cadres in args.cadres:
        for workers in counts:
            cpu = best(cadres, workers, "dask", "cpu_s") / best(cadres, workers, "pool", "cpu_s")
            line = f"  {cadres:,} cadres, {workers} worker(s): Dask CPU {cpu:.2f}× the pool's (target ≤ 1.10)"
            if args.before:
                line += f", before {best(cadres, workers, 'before', 'cpu_s') / best(cadres, workers, 'pool', 'cpu_s'):.2f}×"
            if workers != 1 and 1 in counts:
                speed = best(cadres, 1, "dask", "wall_s") / best(cadres, workers, "dask", "wall_s")
                pool = best(cadres, 1, "pool", "wall_s") / best(cadres, workers, "pool", "wall_s")
                line += (f"; Dask throughput {speed:.2f}× one worker's (target ≥ 1.7 for 2 on two free cores;"
                         f" the pool: {pool:.2f}×)")
            print(line)
    smallest = min(args.cadres)
    for cadres in args.cadres:
        if cadres == smallest:
            continue
        for workers in counts:
            parts = []
            for key, what in (("parent_mb", "parent"), ("worker_mb", "largest worker"), ("tree_mb", "tree")):
                parts.append(f"{what} {best(cadres, workers, 'dask', key) / best(smallest, workers, 'dask', key):.2f}×")
            print(f"  peak memory, Dask {workers} worker(s), {cadres:,} over {smallest:,} cadres: "
                  + ", ".join(parts) + " (target ≤ 1.2)")


if __name__ == "__main__":
    sys.exit(main())
