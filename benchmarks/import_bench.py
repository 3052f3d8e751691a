"""`policy facts import` of generated populations: wall time and peak memory, YAML and JSON.

Usage: python benchmarks/import_bench.py [N ...]   (default 10000)
Each size is generated once as JSON (streamed by `facts generate`) and as YAML (the same
document dumped block-style), then imported into a fresh SQLite store in a child process
whose peak resident memory is read from getrusage. Prints the load average first.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = str(Path(sys.executable).with_name("policy"))


def child_run(args) -> tuple[float, float, int]:
    started = time.perf_counter()
    process = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024     # MB, max over children so far
    return wall, peak, process.returncode


def main(sizes):
    print(f"load average {os.getloadavg()[0]:.2f}")
    work = Path(tempfile.mkdtemp(prefix="import_bench_"))
    for n in sizes:
        source = work / f"p{n}.json"
        subprocess.run([POLICY, "facts", "generate", "--cadres", str(n), "-o", str(source)], check=True,
                       capture_output=True)
        import yaml
        yaml_file = work / f"p{n}.yaml"
        with open(yaml_file, "w", encoding="utf-8") as out:
            yaml.dump(json.load(open(source, encoding="utf-8")), out, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                      allow_unicode=True, sort_keys=False)
        for file in (source, yaml_file):
            db = work / f"{file.name}.db"
            # a fresh child per run, so ru_maxrss is this run's peak
            wall, peak, rc = child_run([sys.executable, __file__, "--one", str(db), str(file)])
            print(f"{n:>9,} {file.suffix[1:]:4} {file.stat().st_size / 2**20:8.1f} MB file  "
                  f"{wall:8.1f} s  {n / wall:8,.0f} cadres/s  peak {peak:8.0f} MB  exit {rc}", flush=True)


def one(db, file):
    """Run the import in this process, then report nothing (the parent reads rusage)."""
    subprocess.run([POLICY, "--db", f"sqlite:///{db}", "facts", "import", file], check=False,
                   capture_output=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:4])
    else:
        main([int(x) for x in sys.argv[1:]] or [10000])
