"""`policy facts import` of generated populations: wall time, rate and peak memory, YAML and JSON.

Usage: python benchmarks/import_bench.py [--formats json,yaml] [--keep DIR] [--url URL] [--runs N]
       [--before SRC] [--child] [N ...]   (default 10000)

Each size is generated once as JSON (streamed by `facts generate`) and converted to YAML
block style record by record (so the 1,000,000 file is made in bounded memory too); then
each file is imported into a fresh SQLite store by `policy facts import` in a child process,
whose own peak resident memory comes from wait4 (getrusage of the children would report the
largest child so far, not this one). For reference, `facts generate --load` (generation plus
FactStore.bulk_load, no validation) is timed on the same size. The load average is printed
before every run: the machine may be shared. With ``--url`` (a private PostgreSQL or MariaDB
database) the imports go there instead, its tables dropped before each run; the bulk_load
reference stays on SQLite.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = str(Path(sys.executable).with_name("policy"))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(args: list[str], env: dict | None = None) -> tuple[float, float, int, str, float]:
    """(wall seconds, peak RSS in MB of this child alone, exit status, last stdout/stderr line, CPU seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return wall, usage.ru_maxrss / 1024, process.returncode, lines[-1] if lines else "", \
        usage.ru_utime + usage.ru_stime


#: The floor: the store's rows of every cadre of a JSON file, executemany'd by sqlite3 in one transaction.
_FLOOR = """
import sqlite3, sys, time
from datetime import date
from sqlalchemy import insert
from sqlalchemy.dialects import sqlite as dialect
from cadre_policy.parse.stream import read_records
from cadre_policy.record.canonical import canonical_cadre, canonical_unit
from cadre_policy.store import fact_store as fs
from cadre_policy.store.fact_store import FactStore
db, source = sys.argv[1], sys.argv[2]
FactStore("sqlite:///" + db).close()                    # the same DDL
statements = {}
def sql(table):
    if table not in statements:
        compiled = insert(table).compile(dialect=dialect.dialect())
        statements[table] = (compiled.string, compiled.positiontup)
    return statements[table]
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("BEGIN")
spent = cpu = 0.0
def write(units, buffers):
    global spent, cpu
    buffers[fs._units] = [fs._unit_row(u) for u in units]
    iso = lambda v: v.isoformat() if type(v) is date else v
    rows = {t: [tuple(iso(r[k]) for k in sql(t)[1]) for r in rs] for t, rs in buffers.items() if rs}
    start, started = time.perf_counter(), time.process_time()
    for table, tuples in rows.items():
        conn.executemany(sql(table)[0], tuples)
    spent += time.perf_counter() - start
    cpu += time.process_time() - started
units, buffers, n = [], fs._empty_buffers(), 0
for item in read_records(source):
    if item.prefix[0] == "units":
        units.append(canonical_unit(item.data))
        continue
    fs._cadre_rows(canonical_cadre(item.data), buffers)
    n += 1
    if n % 20000 == 0:
        write(units, buffers)
        units, buffers = [], fs._empty_buffers()
write(units, buffers)
start, started = time.perf_counter(), time.process_time()
conn.execute("COMMIT")
spent += time.perf_counter() - start
cpu += time.process_time() - started
print(f"{spent:.3f} {cpu:.3f}")
"""


def to_yaml(source: Path, target: Path) -> None:
    """The JSON document ``source`` as block-style YAML, one record at a time."""
    import yaml
    from cadre_policy.parse.stream import read_records
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    kind = None
    with open(target, "w", encoding="utf-8") as out:
        for item in read_records(str(source)):
            if not getattr(item, "prefix", None):
                raise SystemExit(f"unexpected item in {source}: {item}")
            if item.prefix[0] != kind:
                kind = item.prefix[0]
                out.write(f"{kind}:\n")
            out.write(yaml.dump([item.data], Dumper=dumper, allow_unicode=True, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10000])
    parser.add_argument("--formats", default="json,yaml")
    parser.add_argument("--keep", help="keep the generated files here (and reuse them)")
    parser.add_argument("--url", help="import into this database (emptied before each run) instead of SQLite")
    parser.add_argument("--bulk", action="store_true", help="also time `facts generate --load`")
    parser.add_argument("--runs", type=int, default=1, help="interleaved runs of floor and imports (min taken)")
    parser.add_argument("--child", action="store_true", help="also import JSON in one process (json1p: "
                        "$POLICY_IMPORT_CHILD_MB=off) and checked in a forked child (jsonch: =8), whatever the load")
    parser.add_argument("--before", metavar="SRC", help="also import JSON with this source tree first on the "
                        "path (an older checkout's src/), interleaved: the before of a change")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="import_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    formats = args.formats.split(",")
    print(f"{'cadres':>9} {'what':6} {'file MB':>8} {'wall s':>8} {'× floor':>8} {'CPU s':>8} {'× floor':>8} "
          f"{'cadres/s':>9} {'peak MB':>8}  exit  load")
    for n in args.sizes:
        source = work / f"p{n}.json"
        if not source.exists():
            subprocess.run([POLICY, "facts", "generate", "--cadres", str(n), "-o", str(source)], check=True,
                           capture_output=True)
        if args.bulk:
            db = work / f"bulk{n}.db"
            db.unlink(missing_ok=True)
            before = load()
            wall, peak, rc, _, _ = run([POLICY, "--db", f"sqlite:///{db}", "facts", "generate", "--cadres", str(n),
                                     "--load"])
            print(f"{n:>9,} {'bulk':6} {'':>8} {wall:8.1f} {'':>8} {n / wall:9,.0f} {peak:8.0f}  {rc:>4}  {before}"
                  "   (facts generate --load: generation + bulk_load, no validation)", flush=True)
            db.unlink(missing_ok=True)
        files = {fmt: source if fmt == "json" else work / f"p{n}.yaml" for fmt in formats}
        for file in files.values():
            if not file.exists():
                started = time.perf_counter()
                to_yaml(source, file)
                print(f"{'':>9} (YAML written in {time.perf_counter() - started:.0f} s)", flush=True)
        best: dict[str, tuple] = {}

        def keep(what, result):
            if what not in best or result[0] < best[what][0]:      # the run of least wall time
                best[what] = result
        variants = [(fmt, file, None) for fmt, file in files.items()]
        if args.child and "json" in files:
            for what, setting in (("json1p", "off"), ("jsonch", "8")):
                files[what] = source
                variants.append((what, source, dict(os.environ, POLICY_IMPORT_CHILD_MB=setting)))
        if args.before:
            files["before"] = source
            variants.insert(0, ("before", source, dict(os.environ, PYTHONPATH=args.before)))
        for _ in range(args.runs):
            db = work / f"floor{n}.db"
            db.unlink(missing_ok=True)
            before = load()
            wall, peak, rc, last, _ = run([sys.executable, "-c", _FLOOR, str(db), str(source)])
            db.unlink(missing_ok=True)
            if rc:
                raise SystemExit(f"floor failed: {last}")
            spent, cpu = map(float, last.split())
            keep("floor", (spent, peak, rc, before, "", cpu))
            for fmt, file, env in variants:
                db = work / f"import{n}.db"
                db.unlink(missing_ok=True)
                url = args.url or f"sqlite:///{db}"
                if args.url:
                    from cadre_policy.store.fact_store import FactStore
                    with FactStore(url) as store:
                        store.drop_all()
                before = load()
                wall, peak, rc, last, cpu = run([POLICY, "--db", url, "facts", "import", str(file)], env)
                keep(fmt, (wall, peak, rc, before, "" if rc == 0 else f"   {last}", cpu))
                db.unlink(missing_ok=True)
        floor, floor_cpu = best["floor"][0], best["floor"][5]
        for what, (wall, peak, rc, before, note, cpu) in best.items():
            size = "" if what == "floor" else f"{files[what].stat().st_size / 2**20:8.1f}"
            print(f"{n:>9,} {what:6} {size:>8} {wall:8.1f} {wall / floor:8.2f} {cpu:8.1f} {cpu / floor_cpu:8.2f} "
                  f"{n / wall:9,.0f} {peak:8.0f}  {rc:>4}  {before}{note}", flush=True)
    print(f"load average at the end {load()}")


if __name__ == "__main__":
    main()
