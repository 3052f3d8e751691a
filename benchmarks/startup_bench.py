#!/usr/bin/env python3
"""`policy check ID` against its import floor: the bare import of its third-party stack.

The floor is a Python process importing every module the command imports (read from
``-X importtime`` of the command itself) except the package's own: the standard library and
third-party modules the command needs, nothing else. Bytecode is written and warm for both
(``PYTHONDONTWRITEBYTECODE`` is unset: an installed package has its .pyc files). Runs are interleaved, so a
loaded machine slows both alike; the minimum of N runs of each is reported, as wall time
and as CPU time (user + system, which a shared machine disturbs less). Three variants of the
command: with the start-up cache warm (as shipped), and cold (``POLICY_CACHE=off``).

    python benchmarks/startup_bench.py --runs 10
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POLICY, ROOT, load_average  # noqa: E402

PYTHON = sys.executable


def _run(cmd, env) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imported_modules(cmd, env) -> list[str]:
    """Every module a command imports that is not the package's own, in order (``-X importtime``)."""
    out = subprocess.run([PYTHON, "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True,
                         cwd=ROOT).stderr
    names = []
    for line in out.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module != "imported package" and module.split(".")[0] != "cadre_policy" and module not in names:
                names.append(module)
    return names


#: The floor: import each module the command imports, nothing of the package.
_FLOOR = """
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cadre", default="C0001")
    parser.add_argument("--before", metavar="SRC", help="also time the command with this source tree first on "
                        "the path (an older checkout's src/), interleaved")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    db = f"sqlite:///{work / 'sample.db'}"
    env = dict(os.environ, POLICY_CACHE_DIR=str(work / "cache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([POLICY, "--db", db, "facts", "import", str(ROOT / "src/cadre_policy/data/sample/city.yaml")],
                   env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    check = [POLICY, "--db", db, "check", args.cadre, "--as-of", "2017-06-30"]
    _run(check, env)                                        # fills the cache
    modules = imported_modules([PYTHON, POLICY, *check[1:]], env)
    floor = [PYTHON, "-c", _FLOOR, *modules]
    cold_env = dict(env, POLICY_CACHE="off")
    variants = {"floor": (floor, env), "check (cache warm)": (check, env), "check (cache off)": (check, cold_env)}
    if args.before:
        before_env = dict(env, PYTHONPATH=args.before, POLICY_CACHE_DIR=str(work / "cache-before"))
        subprocess.run([PYTHON, "-m", "compileall", "-q", args.before], env=before_env, stdout=subprocess.DEVNULL)
        before_db = f"sqlite:///{work / 'before.db'}"          # its own store: the schema may differ
        subprocess.run([POLICY, "--db", before_db, "facts", "import", str(ROOT / "src/cadre_policy/data/sample/city.yaml")],
                       env=before_env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        before_check = [POLICY, "--db", before_db, *check[3:]]
        _run(before_check, before_env)                      # fills its cache
        variants["before: check (cache warm)"] = (before_check, before_env)
    times = {name: [] for name in variants}
    load_before = load_average()
    for _ in range(args.runs):
        for name, (cmd, e) in variants.items():
            times[name].append(_run(cmd, e))
    result = {name: {"wall_s": round(min(w for w, _ in ts), 3), "cpu_s": round(min(c for _, c in ts), 3)}
              for name, ts in times.items()}
    floor_wall, floor_cpu = result["floor"]["wall_s"], result["floor"]["cpu_s"]
    print(f"load before {load_before}, after {load_average()}; {len(modules)} modules in the floor; "
          f"min of {args.runs} interleaved runs", file=sys.stderr)
    print("| | wall (s) | × floor | CPU (s) | × floor |\n|---|---:|---:|---:|---:|")
    for name, r in result.items():
        print(f"| {name} | {r['wall_s']} | {r['wall_s'] / floor_wall:.2f} | {r['cpu_s']} | "
              f"{r['cpu_s'] / floor_cpu:.2f} |")
    print(json.dumps(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
