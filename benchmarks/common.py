"""Shared by the benchmark scripts: cached populations, timed subprocesses with the peak memory
of the whole process tree, and the bare-engine rate on already-derived facts."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(Path(sys.executable).with_name("policy"))
AS_OF = "2017-06-30"


def cache_dir(path: str | None) -> Path:
    directory = Path(path or os.environ.get("BENCH_CACHE") or Path(tempfile.gettempdir()) / "cadre-policy-bench")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def population(directory: Path, size: int, seed: int) -> Path:
    """A SQLite store of ``size`` generated cadres, made once and kept in ``directory``."""
    db = directory / f"pop_{size}_s{seed}.db"
    if not db.exists():
        part = db.with_suffix(".db.part")
        part.unlink(missing_ok=True)
        print(f"generating {size:,} cadres into {db} ...", file=sys.stderr, flush=True)
        subprocess.run([POLICY, "--db", f"sqlite:///{part}", "facts", "generate", "--cadres", str(size),
                        "--seed", str(seed), "--as-of", AS_OF, "--load"], check=True)
        part.rename(db)
    return db


def _tree_rss_kb(root_pid: int) -> dict[int, int]:
    """Resident memory (kB) of a process and of each of its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    tree, stack = {}, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in rss:
            tree[pid] = rss[pid]
        stack.extend(children.get(pid, ()))
    return tree


def timed(cmd: list[str], **kwargs) -> dict:
    """Run a command; wall seconds, CPU seconds (user + system of the command and every process it
    waited for), peak RSS of its process tree (sampled from /proc every 0.2 s), of the command's own
    process (``parent_peak_mb``) and of its largest descendant (``child_peak_mb``, a worker), and the
    largest single process's peak (getrusage of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, **kwargs)
    peak = {"tree": 0, "parent": 0, "child": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            tree = _tree_rss_kb(proc.pid)
            peak["tree"] = max(peak["tree"], sum(tree.values()))
            peak["parent"] = max(peak["parent"], tree.get(proc.pid, 0))
            peak["child"] = max([peak["child"], *(kb for pid, kb in tree.items() if pid != proc.pid)])
            done.wait(0.2)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"wall": wall, "cpu": cpu, "tree_peak_mb": peak["tree"] / 1024, "parent_peak_mb": peak["parent"] / 1024,
            "child_peak_mb": peak["child"] / 1024,
            "max_process_mb": max(after.ru_maxrss, before.ru_maxrss) / 1024, "stdout": out, "stderr": err}


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """``timed`` from the project's root, with the CPU seconds of the process tree (the children's
    rusage) and the load average just before."""
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = timed(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": round(run["wall"], 2), "cpu": round(cpu, 2), "peak_mb": round(run["tree_peak_mb"]), "load": load}


def derived_facts(db: Path, draft: Path, count: int, engine: str):
    """Baseline and draft PolicyEngines and the first ``count`` cadres' encoded facts on both sides."""
    from datetime import date
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.run.evaluate import PolicyRunner, normalise_units
    from cadre_policy.load.policyset import load
    from cadre_policy.store.fact_store import FactStore
    baseline = load(ROOT / "policies")
    draft_set, _, diagnostics = load_draft(draft, baseline)
    assert draft_set is not None, [str(d) for d in diagnostics]
    day = date.fromisoformat(AS_OF)
    base = PolicyRunner(baseline, day, engine, name=f"bare_base_{engine}")
    other = PolicyRunner(draft_set, day, engine, name=f"bare_draft_{engine}")
    pairs = []
    with FactStore(f"sqlite:///{db}") as store:
        units = normalise_units(store.units())
        for chunk in store.iter_cadre_chunks(chunk_size=2000):
            for doc in chunk:
                pairs.append((base.facts(doc, units)[1], other.facts(doc, units)[1]))
            if len(pairs) >= count:
                break
    return base, other, pairs[:count]


def bare_rate(db: Path, draft: Path, count: int, engine: str) -> float:
    """Evaluations per second of the bare engine (baseline and draft rulesets, one process) on
    already-derived, already-encoded facts."""
    base, other, pairs = derived_facts(db, draft, count, engine)
    if engine == "columnar":            # a whole chunk at a time, as the what-if runs it
        start = time.perf_counter()
        for i in range(0, len(pairs), 1000):
            base.engine.run_facts([b for b, _ in pairs[i:i + 1000]])
            other.engine.run_facts([d for _, d in pairs[i:i + 1000]])
        return 2 * len(pairs) / (time.perf_counter() - start)
    run_b, run_d = base.engine.run, other.engine.run
    start = time.perf_counter()
    for fact_b, fact_d in pairs:
        run_b(fact_b)
        run_d(fact_d)
    return 2 * len(pairs) / (time.perf_counter() - start)


def read_in_columns(db: Path) -> tuple[float, int]:
    """(seconds, rows) to read every row of the cadre tables into columns (SQLAlchemy Core, no
    documents built): the floor an end-to-end run is compared with."""
    from sqlalchemy import select
    from cadre_policy.store import models
    from cadre_policy.store.fact_store import FactStore
    tables = [models.cadres, models.posts, models.appraisals, models.reviews, models.rectifications,
              models.nominations, models.polls, models.opinions, models.assessments]
    rows = 0
    with FactStore(f"sqlite:///{db}") as store:
        start = time.perf_counter()
        with store.engine.connect() as conn:
            for table in tables:
                result = conn.execute(select(table)).fetchall()
                columns = list(zip(*result))
                rows += len(result)
                del columns, result
        return time.perf_counter() - start, rows


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
