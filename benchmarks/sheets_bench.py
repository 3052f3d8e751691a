"""Spreadsheet import at scale: `policy facts import` of an XLSX workbook beside the JSON/YAML import.

For each size, a generated population (cached SQLite store, see common.population) is exported
as JSON, YAML (small sizes) and XLSX once; then each file is imported into a fresh SQLite store
as a subprocess, reporting wall time and the peak resident memory of the command. The bare
readers are measured on the same workbook: openpyxl read-only (what the import uses) and
python-calamine (`pip install -e '.[calamine]'`), each iterating every row of every sheet.
Every figure gives CPU seconds (user + system of the process tree) beside wall time, and the
load average before the run: on a shared machine compare CPU. With ``--before SRC`` (an older
checkout's ``src/``) the XLSX import is also run with that tree first on the path, and
``--repeat N`` interleaves the calamine read, the import and the before N times (A B A B);
"× read" is the import's CPU over the bare calamine read's of the same round.
Usage:
    python benchmarks/sheets_bench.py --sizes 20000 100000 --formats xlsx --readers calamine \
        --before ../main/src --repeat 2
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import POLICY, cache_dir, load_average, population, timed  # noqa: E402

#: The yardstick for memory: the store's canonical documents of the population, all held at once.
_HOLD = """
import sys
from cadre_policy.store.fact_store import FactStore
with FactStore(sys.argv[1]) as store:
    docs = [doc for chunk in store.iter_cadre_chunks() for doc in chunk]
print(len(docs))
"""

_READ = {
    "openpyxl read-only": """
import sys
from openpyxl import load_workbook
book = load_workbook(sys.argv[1], read_only=True, data_only=True)
n = sum(1 for ws in book.worksheets for _ in ws.iter_rows(values_only=True))
print(n)
""",
    "python-calamine": """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
n = sum(1 for name in book.sheet_names for _ in book.get_sheet_by_name(name).iter_rows())
print(n)
""",
}


def _export(db: Path, fmt: str, target: Path) -> dict | None:
    if target.exists():
        return None
    part = target.with_name(target.name + ".part" + target.suffix)
    res = timed([POLICY, "--db", f"sqlite:///{db}", "facts", "export", "--format", fmt, "-o", str(part)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    part.rename(target)
    return res


def _row(size: int, what: str, mb, res: dict, load: str, floor_cpu: float | None = None) -> str:
    ratio = f"{res['cpu'] / floor_cpu:.2f}" if floor_cpu else "–"
    return (f"| {size:,} | {what} | {mb} | {res['wall']:.1f} | {res['cpu']:.2f} | {ratio} | "
            f"{res['tree_peak_mb']:.0f} | {load} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--yaml-max", type=int, default=10_000, help="Largest size also imported from YAML.")
    parser.add_argument("--formats", nargs="+", default=["yaml", "json", "xlsx"],
                        help="Which imports to measure (yaml only up to --yaml-max).")
    parser.add_argument("--readers", nargs="+", default=["openpyxl", "calamine"])
    parser.add_argument("--before", metavar="SRC", help="Also import the XLSX with this source tree first "
                        "on the path (an older checkout's src/), interleaved: the before of a change.")
    parser.add_argument("--repeat", type=int, default=1, help="Rounds of read, import and before, interleaved.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", help="Cache folder (default $TMPDIR/cadre-policy-bench).")
    args = parser.parse_args()
    directory = cache_dir(args.cache)
    print(f"load average before: {load_average()}")
    print("| cadres | what | file MB | wall (s) | CPU (s) | × read (CPU) | peak MB | load |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for size in args.sizes:
        db = population(directory, size, args.seed)
        files = {fmt: directory / f"pop_{size}_s{args.seed}.{fmt}" for fmt in ("yaml", "json", "xlsx")
                 if fmt in args.formats + ["xlsx"] and (fmt != "yaml" or size <= args.yaml_max)}
        for fmt, path in files.items():
            load = load_average()
            res = _export(db, fmt, path)
            if res and fmt == "xlsx":
                print(_row(size, "export xlsx", f"{path.stat().st_size / 1e6:.0f}", res, load), flush=True)
        runs = [(fmt, [], None) for fmt in ("yaml", "json") if fmt in files and fmt in args.formats]
        if "xlsx" in args.formats:
            runs += [("xlsx", ["--reader", reader], None) for reader in args.readers]
            if args.before:
                runs.append(("xlsx", ["(before)"], dict(os.environ, PYTHONPATH=args.before)))
        book = files["xlsx"]
        for _round in range(args.repeat):
            floor_cpu = None
            for name, code in _READ.items():
                if name.split()[0].removeprefix("python-") not in args.readers:
                    continue
                load = load_average()
                try:
                    res = timed([sys.executable, "-c", code, str(book)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
                except RuntimeError as exc:
                    print(f"| {size:,} | read rows: {name} | – | – | – | – | – | ({str(exc).splitlines()[-1]}) |")
                    continue
                if name == "python-calamine":
                    floor_cpu = res["cpu"]
                print(_row(size, f"read rows: {name} ({res['stdout'].strip()} rows)",
                           f"{book.stat().st_size / 1e6:.0f}", res, load, floor_cpu), flush=True)
            for fmt, extra, env in runs:
                path = files[fmt]
                flags = [x for x in extra if not x.startswith("(")]
                load = load_average()
                with tempfile.TemporaryDirectory(dir=directory) as tmp:
                    res = timed([POLICY, "--db", f"sqlite:///{tmp}/import.db", "facts", "import", str(path), *flags],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                print(_row(size, f"import {fmt} {' '.join(extra)}", f"{path.stat().st_size / 1e6:.0f}", res, load,
                           floor_cpu if fmt == "xlsx" else None), flush=True)
        load = load_average()
        res = timed([sys.executable, "-c", _HOLD, f"sqlite:///{db}"], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
        print(_row(size, "hold all documents in memory (yardstick)", "–", res, load), flush=True)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
