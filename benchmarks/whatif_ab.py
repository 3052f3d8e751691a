#!/usr/bin/env python3
"""Before / after: `policy whatif` from two source trees on the same store, interleaved.

Each round runs every draft cold (a fresh snapshot directory) then cached (the same one), first
from ``--before`` (a source tree, e.g. ``git archive main | tar -x -C /tmp/before``, put first on
``PYTHONPATH``), then from this tree, so both see the same load. Prints wall seconds, CPU seconds
of the process tree (the children's rusage) and after / before, with the load average before each
run; the columnar engine, --workers as given.

    python benchmarks/whatif_ab.py --before /tmp/before --sizes 100000 --rounds 2
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
from common import POLICY, ROOT, cache_dir, measured, population  # noqa: E402

DRAFTS = ("admonish_30pct", "grassroots_3y", "replace_and_disable")


def run_once(db: Path, draft: Path, src: Path | None, snapshots: str, workers: int | None,
             as_of: str | None = None) -> dict:
    cmd = [POLICY, "--db", f"sqlite:///{db}", "whatif", "--draft", str(draft), "--engine", "columnar",
           "--format", "json", "--output", os.devnull, "--quiet"] + (["--as-of", as_of] if as_of else [])
    if workers:
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, POLICY_CACHE_DIR=snapshots)
    if src is not None:
        env["PYTHONPATH"] = str(src / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return measured(cmd, env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="the source tree to compare with")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--drafts", default=",".join(DRAFTS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", help="where the generated databases are kept")
    parser.add_argument("--as-of", help="the evaluation date (default: today)")
    args = parser.parse_args(argv)
    directory = cache_dir(args.cache)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        db = population(directory, size, args.seed)
        for _round in range(args.rounds):
            for name in args.drafts.split(","):
                draft = ROOT / "drafts" / f"{name}.yaml"
                got = {}
                for label, src in (("before", args.before), ("after", None)):
                    snapshots = tempfile.mkdtemp(prefix="ab-snapshots-")
                    try:
                        for mode in ("cold", "cached"):
                            got[(label, mode)] = run_once(db, draft, src, snapshots, args.workers, args.as_of)
                    finally:
                        shutil.rmtree(snapshots, ignore_errors=True)
                for mode in ("cold", "cached"):
                    b, a = got[("before", mode)], got[("after", mode)]
                    row = {"cadres": size, "draft": name, "mode": mode, "before": b, "after": a,
                           "wall_ratio": round(a["wall"] / b["wall"], 2), "cpu_ratio": round(a["cpu"] / b["cpu"], 2)}
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    print("| cadres | draft | mode | before wall / CPU s | after wall / CPU s | after ÷ before (wall, CPU) "
          "| peak MB before → after | load before each |")
    print("|---:|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        b, a = r["before"], r["after"]
        print(f"| {r['cadres']:,} | {r['draft']} | {r['mode']} | {b['wall']} / {b['cpu']} | {a['wall']} / {a['cpu']} "
              f"| {r['wall_ratio']} / {r['cpu_ratio']} | {b['peak_mb']} → {a['peak_mb']} | {b['load']}; {a['load']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
