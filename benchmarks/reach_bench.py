#!/usr/bin/env python3
"""The reach of a draft at scale: the age-limit draft on generated populations (issue 23 §5).

For each size: `policy whatif --draft drafts/age_limits.yaml --format json` as a subprocess,
without and with --reach-cadres (the cadres of each transition listed), interleaved and the
minimum of --repeat runs each; prints the changed conclusions, the cadres newly failing the
limit (and how many of them keep their conclusion), the wall time of both runs and the load
average. Populations are generated once and cached (--cache, default $TMPDIR/cadre-policy-bench).

    python benchmarks/reach_bench.py                      # 50,000 cadres
    python benchmarks/reach_bench.py --sizes 10000,50000,200000 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POLICY, ROOT, cache_dir, load_average, population, timed  # noqa: E402

NEWLY = "requirement:age_limit:not applicable:unmet"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50000", help="comma-separated population sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cache", help="where generated populations are kept")
    args = parser.parse_args(argv)
    draft = ROOT / "drafts" / "age_limits.yaml"
    print(f"{'cadres':>9} {'changed':>8} {'newly failing':>14} {'of which same':>14} {'s':>7} {'s listed':>9}  load")
    for size in (int(s) for s in args.sizes.split(",")):
        db = population(cache_dir(args.cache), size, args.seed)
        best = {False: None, True: None}
        doc = None
        with tempfile.TemporaryDirectory() as snapshots:
            for _ in range(args.repeat):
                for listing in (False, True):
                    cmd = [POLICY, "--db", f"sqlite:///{db}", "whatif", "--draft", str(draft), "-q", "--format", "json",
                           "--workers", str(args.workers)] + (["--reach-cadres"] if listing else [])
                    run = timed(cmd, stdout=-1, stderr=-1, text=True,
                                env={**os.environ, "POLICY_CACHE_DIR": snapshots})
                    best[listing] = min(run["wall"], best[listing] or run["wall"])
                    doc = json.loads(run["stdout"])
        newly = next((r for r in doc["reach"]["transitions"] if r["key"] == NEWLY), {"cadres": 0,
                                                                                   "conclusion_unchanged": 0})
        print(f"{size:>9,} {doc['changed']:>8,} {newly['cadres']:>14,} {newly['conclusion_unchanged']:>14,} "
              f"{best[False]:>7.2f} {best[True]:>9.2f}  {load_average()}")
        print(f"          {doc['reach']['sentence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
