#!/usr/bin/env python3
"""Saved drafts and the case simulator on `policy serve` over a generated store: the time of a draft's page (its
comparison with the rules in force), of a diff between two versions, and of the simulator (one cadre, a fact
changed, evaluated under the rules in force and under the draft). One client, sequential requests; 127.0.0.1 only.

    python benchmarks/drafts_bench.py --size 100000 --requests 20
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, cache_dir, load_average, population  # noqa: E402
from serve_load import percentile, start_server  # noqa: E402

DRAFT = ("id: bench_draft\ntitle: 诫勉谈话比例调整\nin_force: {from: 2017-01-01}\n"
         "parameters:\n  supervision.admonish_ratio: 1/4\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=20, help="of each kind")
    parser.add_argument("--cache")
    args = parser.parse_args()

    import httpx
    from cadre_policy.accounts.users import Accounts
    from cadre_policy.store.fact_store import FactStore

    source = population(cache_dir(args.cache), args.size, args.seed)
    work = source.with_name(f"drafts_bench_{args.size}.db")
    shutil.copyfile(source, work)                 # drafts and users go into a copy, not the cache
    url = f"sqlite:///{work}"
    subprocess.run([POLICY, "--db", url, "facts", "upgrade"], check=True, stdout=subprocess.DEVNULL)
    with FactStore(url) as store:
        cadres = store.cadre_ids()[:: max(1, args.size // args.requests)][:args.requests]
        Accounts(store.engine).add("bench", "bench-password", "admin")
    server, base = start_server(url, work.with_suffix(".log"))
    timings: dict[str, list[float]] = {"draft page": [], "version diff": [], "simulator": []}
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            csrf = client.post("/login", json={"name": "bench", "password": "bench-password"}).json()["csrf_token"]
            where = client.post("/drafts", data={"csrf_token": csrf, "name": "基准草案", "text": DRAFT}).headers["location"]
            client.post(f"{where}/versions", data={"csrf_token": csrf, "text": DRAFT + "disable: [supervision.due]\n"})
            number = where.rsplit("/", 1)[1]
            client.get(f"/cadres/{cadres[0]}?as_of={AS_OF}").raise_for_status()          # compile the date once
            for cadre in cadres:
                for kind, path in (("draft page", where), ("version diff", f"{where}/diff?a=1&b=2"),
                                   ("simulator", f"/simulate?cadre={cadre}&draft={number}&as_of={AS_OF}"
                                                 "&f.birth_date=1970-01-01")):
                    t0 = time.perf_counter()
                    answer = client.get(path)
                    timings[kind].append(time.perf_counter() - t0)
                    if answer.status_code not in (200, 422):
                        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    finally:
        server.terminate()
        server.wait(20)
        for path in (work, work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
            path.unlink(missing_ok=True)
    print(f"store: {args.size:,} cadres (SQLite); {args.requests} requests of each kind, one client; "
          f"load average {load_average()}")
    for kind, values in timings.items():
        print(f"{kind}: p50 {percentile(values, 50) * 1000:.0f} ms, p99 {percentile(values, 99) * 1000:.0f} ms, "
              f"max {max(values) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
