#!/usr/bin/env python3
"""The what-if against its floor, interleaved in one run: every figure a ratio with the load.

For each round and draft, one after another so they see the same load:

- **floor**: the read of the columns the columnar what-if reads (``store.columns``: the same
  SELECTs, ADBC into Arrow), every table of the whole store, in its own process, with nothing
  done to what is read;
- **peers** (``--peers duckdb,polars,numpy``): the same job written by hand in another tool, each
  in its own process (``peers/job.py``: read the columns its rules need, ADBC → Arrow; evaluate
  both sides; write the changed cadres with their deciding values), for the drafts it knows
  (admonish_30pct, replace_and_disable);
- **cold**: ``policy whatif`` with a fresh snapshot directory (everything read and derived);
- **second**: the same draft after *another* draft ran on the same store (the baseline's
  firings and table cached, this draft's side derived and evaluated);
- **cached**: the same draft once more (everything from the snapshots).

CPU is the process tree's (user + system of the children); the ratios are to the floor measured
just before, and each product run's to each peer of the same draft and round (× duckdb < 1: the
product is faster). With ``--check`` the first product run of each draft the peers know writes its
report, and the script exits 1, naming the differences, unless every peer lists the same changed
cadres, the same findings added and removed, and the deciding values the product states.

    python benchmarks/floor_bench.py --db /work/bench/1m.db --rounds 1
    python benchmarks/floor_bench.py --db /tmp/100k.db --drafts admonish_30pct --peers duckdb,polars,numpy --check
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AS_OF, POLICY, ROOT, measured  # noqa: E402
from peers.agree import disagreements  # noqa: E402
from peers.job import DRAFTS as PEER_DRAFTS  # noqa: E402

DRAFTS = ("admonish_30pct", "grassroots_3y", "replace_and_disable")

#: The floor's own process: the driver and pyarrow only, the SELECTs given as arguments
_FLOOR = """
import sys
import adbc_driver_sqlite.dbapi as adbc
conn = adbc.connect("file:" + sys.argv[1] + "?mode=ro", autocommit=False)
cursor = conn.cursor()
rows = 0
for sql in sys.argv[2:]:
    cursor.execute(sql)
    rows += cursor.fetch_arrow_table().num_rows
conn.close()
print(rows)
"""


def selects() -> list[str]:
    """The SELECTs the columnar what-if makes (``store.columns``), over the whole store."""
    from cadre_policy.record.columns import CADRE_FIELDS
    from cadre_policy.store.columns import _TABLES, _arrow_select
    from cadre_policy.store.models import cadres
    out = [_arrow_select(cadres, {n: n for n in CADRE_FIELDS if n != "name"}, False, ["id"], "sqlite")]
    for name, (table, mapping) in _TABLES.items():
        seq = "review_seq" if name == "rectification" else "seq"
        keys = ["cadre_id"] + (["review_seq"] if name == "rectification" else []) + ["seq"]
        out.append(_arrow_select(table, {"_cadre": "cadre_id", "_seq": seq, **mapping}, False, keys, "sqlite"))
    return out


def floor(db: Path) -> dict:
    return measured([sys.executable, "-c", _FLOOR, str(db), *selects()])


def peer(name: str, db: Path, draft: str, as_of: str, out: Path) -> dict:
    return measured([sys.executable, str(ROOT / "benchmarks" / "peers" / "job.py"), name, str(db), draft, as_of,
                     str(out)])


def whatif(db: Path, draft: str, snapshots: str, workers: int | None, as_of: str, output: str = os.devnull) -> dict:
    cmd = [POLICY, "--db", f"sqlite:///{db}", "whatif", "--draft", str(ROOT / "drafts" / f"{draft}.yaml"),
           "--engine", "columnar", "--as-of", as_of, "--format", "json", "--output", output, "--quiet"]
    if workers:
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, POLICY_CACHE_DIR=snapshots)
    env.pop("PYTHONDONTWRITEBYTECODE", None)      # as a user runs it: the package's .pyc written once, then read
    return measured(cmd, env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="a SQLite store (policy facts generate --load)")
    parser.add_argument("--drafts", default=",".join(DRAFTS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--modes", default="cold,second,cached")
    parser.add_argument("--peers", default="", help="duckdb,polars,numpy: hand-written jobs run beside the product")
    parser.add_argument("--check", action="store_true", help="every peer must list the product's changed cadres")
    args = parser.parse_args(argv)
    drafts = args.drafts.split(",")
    modes = args.modes.split(",")
    peers = [p for p in args.peers.split(",") if p]
    rows, failures = [], []
    work = Path(tempfile.mkdtemp(prefix="floor-bench-"))
    try:
        for _round in range(args.rounds):
            for name in drafts:
                failures += _draft(args, name, modes, peers if name in PEER_DRAFTS else [], work, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(args, rows)
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


def _draft(args, name: str, modes: list[str], peers: list[str], work: Path, rows: list) -> list[str]:
    """One draft's floor, peers and product runs, one after another; the disagreements if ``--check``."""
    other = next(d for d in DRAFTS if d != name)
    snapshots = str(work / "snapshots")
    report = work / f"{name}.json"
    base = floor(args.db)
    print(json.dumps({"draft": name, "floor": base}), file=sys.stderr, flush=True)

    def row(mode: str, got: dict) -> dict:
        out = {"draft": name, "mode": mode, "floor": base, "run": got,
               "wall_ratio": round(got["wall"] / base["wall"], 2), "cpu_ratio": round(got["cpu"] / base["cpu"], 2)}
        rows.append(out)
        print(json.dumps(out), file=sys.stderr, flush=True)
        return out
    peer_runs = {p: row(f"peer {p}", peer(p, args.db, name, args.as_of, work / f"{p}.jsonl")) for p in peers}
    for i, mode in enumerate(modes):
        if mode in ("cold", "second"):
            shutil.rmtree(snapshots, ignore_errors=True)
        if mode == "second":
            whatif(args.db, other, snapshots, args.workers, args.as_of)
        output = str(report) if args.check and peers and i == 0 else os.devnull
        got = row(mode, whatif(args.db, name, snapshots, args.workers, args.as_of, output))
        got["peers"] = {p: (round(got["run"]["wall"] / r["run"]["wall"], 2), round(got["run"]["cpu"] / r["run"]["cpu"], 2))
                        for p, r in peer_runs.items()}
    shutil.rmtree(snapshots, ignore_errors=True)
    if not args.check:
        return []
    failures = []
    for p in peers:
        found = disagreements(report, work / f"{p}.jsonl")
        changed = sum(1 for _ in open(work / f"{p}.jsonl", encoding="utf-8"))
        print(f"check {name}, {p}: {changed} changed cadres, {'agree' if not found else 'DISAGREE'}", file=sys.stderr)
        failures += [f"{name}, {p}: {line}" for line in found]
    return failures


def _print(args, rows: list) -> None:
    peers = list(dict.fromkeys(p for r in rows for p in r.get("peers", ())))
    print(f"{args.db.name}, --as-of {args.as_of}, workers {args.workers or 'all'}, cores {os.cpu_count()}")
    print("| draft | run | wall / CPU (s) | floor wall / CPU (s) | × floor (wall / CPU) |"
          + "".join(f" × {p} (wall / CPU) |" for p in peers) + " peak MB | load (floor; run) |")
    print("|---|---|---:|---:|---:|" + "---:|" * len(peers) + "---:|---|")
    for r in rows:
        g, f = r["run"], r["floor"]
        versus = "".join(" {} / {} |".format(*r["peers"][p]) if p in r.get("peers", {}) else " |" for p in peers)
        print(f"| {r['draft']} | {r['mode']} | {g['wall']} / {g['cpu']} | {f['wall']} / {f['cpu']} "
              f"| {r['wall_ratio']} / {r['cpu_ratio']} |{versus} {g['peak_mb']} | {f['load']}; {g['load']} |")
    print("\nrun: a peer's whole job, or the product's what-if cold / second (after another draft) / cached; "
          "× floor: ÷ the read floor just before; × PEER: the product ÷ that peer in the same round (< 1: the "
          "product is faster); CPU of the process tree; load: 1/5/15-minute averages before the floor; before the run")
    for name in dict.fromkeys(r["draft"] for r in rows if r.get("peers")):
        for p in peers:
            for mode in dict.fromkeys(r["mode"] for r in rows if r["draft"] == name and p in r.get("peers", {})):
                got = [r["peers"][p] for r in rows if r["draft"] == name and r["mode"] == mode]
                print(f"{name} {mode} ÷ {p}: wall {', '.join(str(w) for w, _ in got)}; "
                      f"CPU {', '.join(str(c) for _, c in got)} (round by round)")

if __name__ == "__main__":
    sys.exit(main())
