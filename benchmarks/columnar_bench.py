#!/usr/bin/env python3
"""The columnar engine's rate on pre-derived facts next to peers, on the same three rules.

The rules are the product's own, compiled from policies/ (supervision.admonish and
.demote: more than 1/3 and 1/2 of the votes 不满意, or a rectification check ineffective;
appraisal.bar: a 基本称职 in the last year bars promotion; yichang_grassroots.two_years:
two years of grassroots experience for 副县级 and above). The population is synthetic
pre-derived columns (as the engines receive them: day numbers, months*32+days, rank
ordinals), exact thirds and halves included. Each peer (benchmarks/peers/) computes the
same six outputs by hand; every output must agree cadre by cadre with the columnar engine.
Peers whose packages are missing (``pip install '.[bench]'``) are skipped.

    python benchmarks/columnar_bench.py --cadres 1000000 --repeat 3
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average  # noqa: E402

AS_OF = date(2017, 6, 30)
RULES = ("supervision.admonish", "supervision.demote", "appraisal.bar", "yichang_grassroots.two_years")
OUTPUTS = {"admonish": ("supervision.admonish", "fire"), "demote": ("supervision.demote", "fire"),
           "bar": ("appraisal.bar", "fire"), "grassroots_applies": ("yichang_grassroots.two_years", "applies"),
           "grassroots_met": ("yichang_grassroots.two_years", "met"),
           "grassroots_unmet": ("yichang_grassroots.two_years", "unmet")}


def three_rules():
    """The compiled policy set cut down to the three rules (their tests, in their strata)."""
    from cadre_policy.compile import ir
    from cadre_policy.compile.compiler import compile_policy_set
    from cadre_policy.load.policyset import load
    compiled = compile_policy_set(load(ROOT / "policies"), AS_OF)
    compiled.strata = [ir.Stratum(tuple(t for t in s.tests if t.rule in RULES), s.closure) for s in compiled.strata]
    return compiled


def constants(compiled) -> dict:
    """The thresholds the compiled rules hold, for the peers (so all compute the same rules)."""
    tests = {t.key: t.formula for s in compiled.strata for t in s.tests}

    def found(key, kind, path=None, op=None):
        """The first node of ``kind`` (on ``path`` with ``op``) in a test's formula: the compiler
        puts the jurisdiction's test first, so the thresholds are not at fixed places."""
        stack = [tests[key]]
        while stack:
            node = stack.pop(0)
            if type(node).__name__ == kind and (path is None or (node.path, node.op) == (path, op)):
                return node
            stack.extend(getattr(node, "items", ()))
        raise LookupError(key)
    a, d = found(("supervision.admonish", "fire"), "Linear"), found(("supervision.demote", "fire"), "Linear")
    bar, day = ("appraisal.bar", "fire"), "latest_basic_appraisal.date"
    return {"admonish_q": a.q, "admonish_p": a.p, "demote_q": d.q, "demote_p": d.p,
            "bar_from": found(bar, "Test", day, ">=").const, "bar_to": found(bar, "Test", day, "<=").const,
            "county_deputy": found(("yichang_grassroots.two_years", "applies"), "Test", "promotion.target_rank",
                                   ">=").const,
            "two_years": found(("yichang_grassroots.two_years", "met"), "Test", "grassroots_experience", ">=").const}


def synthetic(n: int, seed: int) -> dict:
    """Pre-derived columns: path -> (values, present)."""
    rng = np.random.default_rng(seed)
    total = rng.integers(1, 21, n) * 6
    share = rng.choice([2, 3], n)
    dissatisfied = np.maximum(0, total // share + rng.integers(-1, 2, n))
    reviewed = rng.random(n) < 0.3
    day0 = (AS_OF - date(1970, 1, 1)).days
    results = np.array(["effective", "ineffective"], dtype=object)
    everyone = np.ones(n, dtype=bool)        # inside both documents' jurisdictions, reviewed within the cycle
    return {
        "place.unit.regions.清江县": (everyone, everyone),
        "place.promotion_unit.regions.宜昌市": (everyone, everyone),
        "latest_review.date": (day0 - rng.integers(0, 1800, n), reviewed),
        "latest_review.dissatisfied": (dissatisfied, reviewed),
        "latest_review.total": (total, reviewed),
        "three_month_check.result": (results[rng.integers(0, 2, n)], reviewed & (rng.random(n) < 0.5)),
        "six_month_check.result": (results[rng.integers(0, 2, n)], reviewed & (rng.random(n) < 0.3)),
        "latest_basic_appraisal.date": (day0 - rng.integers(0, 800, n), rng.random(n) < 0.1),
        "promotion.target_rank": (rng.integers(0, 8, n), rng.random(n) < 0.9),
        "grassroots_experience": (rng.integers(0, 40, n) * 32 + rng.integers(0, 31, n), rng.random(n) < 0.8),
    }


def best(fn, repeat: int):
    out, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cadres", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from cadre_policy.run.columnar import ColumnarEngine
    from cadre_policy.run.columnar.table import from_arrays
    compiled = three_rules()
    params = constants(compiled)
    cols = synthetic(args.cadres, args.seed)
    engine = ColumnarEngine(compiled)
    table = from_arrays(cols)
    matrix, seconds = best(lambda: engine.run_table(table), args.repeat)
    reference = {name: matrix.fired[:, matrix.tests.index(key)] for name, key in OUTPUTS.items()}
    rows = [("columnar engine (compiled IR)", seconds)]
    for peer in ("numpy_peer", "polars_peer", "openfisca_peer"):
        try:
            module = importlib.import_module(f"peers.{peer}")
        except ImportError as error:
            print(f"{peer}: skipped ({error})", file=sys.stderr)
            continue
        prepared = module.prepare(cols)
        out, seconds = best(lambda: module.evaluate(prepared, params), args.repeat)
        for name, expected in reference.items():
            if not np.array_equal(np.asarray(out[name], dtype=bool), expected):
                raise SystemExit(f"{peer} disagrees with the columnar engine on {name}")
        rows.append((peer.replace("_peer", ""), seconds))
    fastest = min(s for _, s in rows)
    print(f"{args.cadres:,} cadres, best of {args.repeat}, load {load_average()}, {os.cpu_count()} cores; "
          f"all peers agree cadre by cadre", file=sys.stderr)
    print("| engine | seconds | evaluations/s | × fastest |\n|---|---:|---:|---:|")
    for name, s in rows:
        print(f"| {name} | {s:.3f} | {args.cadres / s:,.0f} | {s / fastest:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
