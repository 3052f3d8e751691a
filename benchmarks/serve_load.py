#!/usr/bin/env python3
"""Load on `policy serve`: N concurrent clients check random cadres of a large store while a
what-if job runs over the whole of it. Bounded in requests and in time; 127.0.0.1 only.

Prints requests/s and p50/p99 latency of the checks made before the what-if starts, while it
runs and after it has finished (so whether checks wait for the job shows), the job's own
time, and the load average.

    python benchmarks/serve_load.py --size 100000 --clients 8 --seconds 60
"""
from __future__ import annotations

import argparse
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, ROOT, cache_dir, load_average, population  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, log: Path, engine: str | None = None) -> tuple[subprocess.Popen, str]:
    """`policy serve` over ``url`` on a free port of 127.0.0.1, answering: (the process, its base URL)."""
    import httpx
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([POLICY, "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--policies", str(ROOT / "policies")] + (["--engine", engine] if engine else []),
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 120
    while True:
        try:
            httpx.get(base + "/login", timeout=2)
            return server, base
        except httpx.TransportError:
            if time.time() > deadline or server.poll() is not None:
                server.terminate()
                raise SystemExit("the server did not start") from None
            time.sleep(0.5)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20_000, help="at most this many checks in all")
    parser.add_argument("--seconds", type=float, default=120, help="and at most this long")
    parser.add_argument("--before", type=float, default=20, help="seconds of checks before the what-if starts")
    parser.add_argument("--after", type=float, default=20, help="seconds of checks after the what-if ends")
    parser.add_argument("--engine", help="the server's --engine (default: durable checks, columnar what-if)")
    parser.add_argument("--cache")
    args = parser.parse_args()

    import httpx
    from cadre_policy.store.fact_store import FactStore
    from cadre_policy.accounts.users import Accounts

    source = population(cache_dir(args.cache), args.size, args.seed)
    work = source.with_name(f"serve_load_{args.size}.db")
    shutil.copyfile(source, work)                 # records and users go into a copy, not the cache
    url = f"sqlite:///{work}"
    with FactStore(url) as store:
        ids = store.cadre_ids()
        token = Accounts(store.engine).new_token(Accounts(store.engine).add(
            "bench", "bench-password", "admin").name, "load benchmark")
    server, base = start_server(url, work.with_suffix(".log"), args.engine)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            client.post("/api/v1/check", json={"cadre": ids[0], "as_of": AS_OF}).raise_for_status()   # compile
        state = {"job_start": None, "job_end": None, "stop": False, "count": 0, "errors": 0}
        samples: list[tuple[float, float]] = []          # (finished at, seconds)
        lock = threading.Lock()

        def client_loop(seed: int):
            rng = random.Random(seed)
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                while not state["stop"]:
                    with lock:
                        if state["count"] >= args.requests:
                            return
                        state["count"] += 1
                    t0 = time.perf_counter()
                    response = client.post("/api/v1/check", json={"cadre": rng.choice(ids), "as_of": AS_OF})
                    t1 = time.perf_counter()
                    with lock:
                        if response.status_code != 200:
                            state["errors"] += 1
                            state.setdefault("statuses", set()).add(
                                f"{response.status_code} {response.json().get('detail', '')[:80]}")
                        samples.append((t1, t1 - t0))

        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
        begun = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(args.before)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            state["job_start"] = time.perf_counter()
            job = client.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"],
                                                      "as_of": AS_OF}).json()
            limit = begun + args.seconds
            while time.perf_counter() < limit and state["count"] < args.requests:
                if state["job_end"] is None:
                    status = client.get(f"/api/v1/jobs/{job['id']}").json()
                    if status["status"] in ("done", "failed"):
                        state["job_end"], state["job_status"] = time.perf_counter(), status["status"]
                elif time.perf_counter() > state["job_end"] + args.after:
                    break
                time.sleep(0.5)
        state["stop"] = True
        for t in threads:
            t.join()
        ended = time.perf_counter()
    finally:
        server.terminate()
        server.wait(20)
        for path in (work, work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
            path.unlink(missing_ok=True)

    start, end = state["job_start"], state["job_end"] or ended
    phases = (("before the what-if", [d for at, d in samples if at < start], start - begun),
              ("during the what-if", [d for at, d in samples if start <= at <= end], end - start),
              ("after it", [d for at, d in samples if at > end], ended - end))
    print(f"store: {args.size:,} cadres (SQLite); {args.clients} clients; engine {args.engine or 'default'}; "
          f"load average {load_average()}")
    print(f"what-if job (whole store, in its own process): {end - start:.1f} s, {state.get('job_status', 'unfinished')}")
    for label, part, seconds in phases:
        if part:
            print(f"checks {label}: {len(part)} in {seconds:.1f} s = {len(part) / seconds:.1f} req/s; "
                  f"p50 {percentile(part, 50) * 1000:.0f} ms, p99 {percentile(part, 99) * 1000:.0f} ms")
    print(f"errors: {state['errors']} {sorted(state.get('statuses', ()))}; server log: {work.with_suffix('.log')}")


if __name__ == "__main__":
    main()
