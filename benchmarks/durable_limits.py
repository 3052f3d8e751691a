"""Where durable_rules' limits lie: one policy shape of growing size on each engine, in its own process.

Usage: python benchmarks/durable_limits.py SHAPE N,N,... ENGINE,ENGINE [TIMEOUT_S]
  SHAPE: joins (a rule joining N derived facts), dnf (all of N any-pairs with derived facts),
  dnf_plain (all of N any-pairs of tests: 2^N alternatives), fields (N derived quantities in use).
Prints per run: OK with the findings and seconds, or the exit status and last stderr line, or HANG.
Figures are in docs/language.md next to the durable_rules traps, and in docs/reliability.md.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from policy_builder import HEADER, write_set  # noqa: E402

PY = sys.executable
WORK = Path(tempfile.mkdtemp(prefix="durable_limits_"))

def rule(i, when, out):
    return f"""  - id: r.{i}
    title: 规则{i}
    provision: P004-5
    quote: 原文
    when: {when}
    {out}
"""

def joins(n):
    rules = [rule(f"d{i}", "{fact: cadre.age, 以上: %d}" % i, f"derive: d{i}") for i in range(n)]
    rules.append(rule("end", "{all: [%s]}" % ", ".join(f"{{derived: d{i}}}" for i in range(n)), "finding: admonishment_talk"))
    return "rules:\n" + "".join(rules)

def dnf(k):
    # all of k any-pairs, each pair a derived fact or a fact test
    rules = [rule(f"d{i}", "{fact: cadre.age, 以上: %d}" % i, f"derive: d{i}") for i in range(k)]
    items = ", ".join("{any: [{derived: d%d}, {fact: cadre.age, 以上: %d}]}" % (i, 100 + i) for i in range(k))
    rules.append(rule("end", "{all: [%s]}" % items, "finding: admonishment_talk"))
    return "rules:\n" + "".join(rules)

def dnf_plain(k):
    items = ", ".join("{any: [{fact: cadre.age, 以上: %d}, {fact: cadre.age, 以下: %d}]}" % (i, 200 - i) for i in range(k))
    return "rules:\n" + rule("end", "{all: [%s]}" % items, "finding: admonishment_talk")

CHILD = r'''
import sys, time
from datetime import date
from cadre_policy.load.policyset import load
from cadre_policy.run.evaluate import PolicyRunner
t=time.time()
ps = load(sys.argv[1])
doc = {"id": "X1", "name": "测试", "gender": "male", "birth_date": date(1960, 1, 1), "party": "cpc"}
for k in ("posts","appraisals","reviews","nominations","polls","opinions","assessments"): doc[k] = []
r = PolicyRunner(ps, date(2017, 6, 30), sys.argv[2]).evaluate(doc, {})
print("OK", r.active_codes(), round(time.time()-t, 2))
'''
def run(shape, n, engine, timeout=60):
    d = WORK / f"{shape}_{n}"
    write_set(d, {"p": HEADER.format(id="p") + globals()[shape](n)})
    try:
        r = subprocess.run([PY, "-c", CHILD, str(d), engine], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"HANG>{timeout}s"
    if r.returncode == 0:
        return r.stdout.strip()
    last = (r.stderr.strip().splitlines() or [""])[-1][:90]
    return f"rc={r.returncode} {last}"

def _main():
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    shape = sys.argv[1]
    for n in map(int, sys.argv[2].split(",")):
        for engine in sys.argv[3].split(","):
            print(shape, n, engine, run(shape, n, engine, int(sys.argv[4]) if len(sys.argv) > 4 else 60), flush=True)

def fields(n):
    derived = "derived:\n" + "".join(f"  q{i}: {{title: 数{i}, count: appraisals}}\n" for i in range(n))
    rules = [rule(f"f{i}", "{fact: q%d, 以上: %d}" % (i, i % 3), "finding: admonishment_talk") for i in range(n)]
    return derived + "rules:\n" + "".join(rules)

if __name__ == "__main__":
    _main()
