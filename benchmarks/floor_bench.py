#!/usr/bin/env python3
"""The what-if against its floor, interleaved in one run: every figure a ratio with the load.

For each round and draft, one after another so they see the same load:

- **floor**: the read of the columns the columnar what-if reads (``store.columns``: the same
  SELECTs, ADBC into Arrow), every table of the whole store, in its own process, with nothing
  done to what is read;
- **cold**: ``policy whatif`` with a fresh snapshot directory (everything read and derived);
- **second**: the same draft after *another* draft ran on the same store (the baseline's
  firings and table cached, this draft's side derived and evaluated);
- **cached**: the same draft once more (everything from the snapshots).

CPU is the process tree's (user + system of the children); the ratios are to the floor measured
just before. Peers (DuckDB, polars) are run where installed (``--peers``); none is by default.

    python benchmarks/floor_bench.py --db /work/bench/1m.db --rounds 1
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
    from cadre_policy.store.models import Cadre
    out = [_arrow_select(Cadre.__table__, {n: n for n in CADRE_FIELDS if n != "name"}, False, ["id"], "sqlite")]
    for name, (table, mapping) in _TABLES.items():
        seq = "review_seq" if name == "rectification" else "seq"
        keys = ["cadre_id"] + (["review_seq"] if name == "rectification" else []) + ["seq"]
        out.append(_arrow_select(table, {"_cadre": "cadre_id", "_seq": seq, **mapping}, False, keys, "sqlite"))
    return out


def floor(db: Path) -> dict:
    return measured([sys.executable, "-c", _FLOOR, str(db), *selects()])


def whatif(db: Path, draft: str, snapshots: str, workers: int | None, as_of: str) -> dict:
    cmd = [POLICY, "--db", f"sqlite:///{db}", "whatif", "--draft", str(ROOT / "drafts" / f"{draft}.yaml"),
           "--engine", "columnar", "--as-of", as_of, "--format", "json", "--output", os.devnull, "--quiet"]
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
    args = parser.parse_args(argv)
    drafts = args.drafts.split(",")
    modes = args.modes.split(",")
    rows = []
    for _round in range(args.rounds):
        for name in drafts:
            other = next(d for d in DRAFTS if d != name)
            snapshots = tempfile.mkdtemp(prefix="floor-snapshots-")
            try:
                base = floor(args.db)
                print(json.dumps({"draft": name, "floor": base}), file=sys.stderr, flush=True)
                for mode in modes:
                    if mode == "second":
                        shutil.rmtree(snapshots, ignore_errors=True)
                        whatif(args.db, other, snapshots, args.workers, args.as_of)
                    elif mode == "cold":
                        shutil.rmtree(snapshots, ignore_errors=True)
                    got = whatif(args.db, name, snapshots, args.workers, args.as_of)
                    row = {"draft": name, "mode": mode, "floor": base, "run": got,
                           "wall_ratio": round(got["wall"] / base["wall"], 2),
                           "cpu_ratio": round(got["cpu"] / base["cpu"], 2)}
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
            finally:
                shutil.rmtree(snapshots, ignore_errors=True)
    print(f"{args.db.name}, --as-of {args.as_of}, workers {args.workers or 'all'}, cores {os.cpu_count()}")
    print("| draft | mode | what-if wall / CPU (s) | floor wall / CPU (s) | × floor (wall / CPU) | peak MB | load |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        g, f = r["run"], r["floor"]
        print(f"| {r['draft']} | {r['mode']} | {g['wall']} / {g['cpu']} | {f['wall']} / {f['cpu']} "
              f"| {r['wall_ratio']} / {r['cpu_ratio']} | {g['peak_mb']} | {f['load']}; {g['load']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
