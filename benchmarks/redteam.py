"""Issues 17 and 24's red-team passes, replayed: every attack against the installed ``policy`` command
and a real ``policy serve`` (accounts of each role: admin, township author, township viewer).

Usage: python benchmarks/redteam.py [--pg URL|none] [--mysql URL|none] [--only WORD] [--keep]

Each attack runs ``policy`` as a subprocess on a small input generated here, in a private
temporary folder (also its ``$TMPDIR``, so stray spool and temporary files are seen), and
is classified: exit status and message, a Python traceback on stdout or stderr, a hang
(no exit within the attack's timeout), whether the store changed (SQLite: the file's bytes;
a server: every row of every table, digested), whether a temporary file was left behind.
It prints one line per attack (attack, expected, observed, OK/FAIL) and the totals; the
exit status is 1 when any attack failed.

The server databases are private ones this script creates and drops (``redteam_*`` on the
servers of ``--pg`` and ``--mysql``; ``none`` skips those attacks).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from policy_builder import HEADER, write_set  # noqa: E402

POLICY = str(Path(sys.executable).with_name("policy"))
AS_OF = "2017-06-30"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/mysql?charset=utf8mb4"
#: cadres in the population the signal, worker and torn-read attacks interrupt (a durable
#: --no-shortcut what-if of it lasts a few seconds on a quiet 2-core machine)
POPULATION = 20_000
RATIO = "supervision.admonish_ratio=3/10"


# ---- one run of the command ---------------------------------------------------------------

@dataclass
class Run:
    status: int | None          # None: still running at the timeout (killed)
    stdout: str
    stderr: str
    seconds: float

    @property
    def traceback(self) -> bool:
        return any(word in text for text in (self.stdout, self.stderr)
                   for word in ("Traceback (most recent call last)", "BrokenPipeError"))

    @property
    def last(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


@dataclass
class Row:
    attack: str
    expected: str
    observed: str
    ok: bool
    traceback: bool = False
    hang: bool = False
    partial_write: bool = False
    stray: list = field(default_factory=list)
    group: str = ""


class Bench:
    """The private folder, the stores, and the table of outcomes."""

    def __init__(self, pg: str | None, mysql: str | None, keep: bool):
        self.root = Path(tempfile.mkdtemp(prefix="redteam_"))
        self.tmp = self.root / "tmp"        # the commands' $TMPDIR: must be empty after each
        self.tmp.mkdir()
        self.keep = keep
        self.rows: list[Row] = []
        self.env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
        self.env.update(LANG="en_US.UTF-8", TMPDIR=str(self.tmp), POLICY_CACHE_DIR=str(self.root / "cache"),
                        PYTHONUNBUFFERED="1")
        self.env.pop("POLICY_DB", None)
        self.servers = {"postgresql": pg, "mariadb": mysql}
        self.created: list[tuple[str, str]] = []
        self._sample: Path | None = None
        self._population: Path | None = None
        self._counter = 0
        self.group = ""

    # -- running ---------------------------------------------------------------------------

    def policy(self, *args, db: str | None = None, timeout: float = 120, env: dict | None = None,
               cwd: Path | None = None) -> Run:
        cmd = [POLICY] + (["--db", db] if db else []) + [str(a) for a in args]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd or self.root,
                                env={**self.env, **(env or {})}, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            status = None
        return Run(status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                   time.monotonic() - started)

    def popen(self, *args, db: str) -> subprocess.Popen:
        return subprocess.Popen([POLICY, "--db", db, *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.root, env=self.env,
                                start_new_session=True)

    def folder(self, name: str) -> Path:
        self._counter += 1
        path = self.root / f"{self._counter:03d}_{name}"
        path.mkdir()
        return path

    # -- stores ----------------------------------------------------------------------------

    def sample_sqlite(self, name: str) -> tuple[str, Path]:
        """A fresh copy of an SQLite store holding the sample city."""
        if self._sample is None:
            self._sample = self.root / "sample.db"
            from cadre_policy import data
            run = self.policy("facts", "import", data.SAMPLE / "city.yaml", db=f"sqlite:///{self._sample}")
            assert run.status == 0, run.stderr
        path = self.folder(name) / "facts.db"
        shutil.copyfile(self._sample, path)
        return f"sqlite:///{path}", path

    def population(self) -> str:
        """An SQLite store of POPULATION generated cadres, made once; a fresh copy each call."""
        if self._population is None:
            self._population = self.root / "population.db"
            run = self.policy("facts", "generate", "--cadres", POPULATION, "--load",
                              db=f"sqlite:///{self._population}", timeout=600)
            assert run.status == 0, run.stderr
        path = self.folder("population") / "facts.db"
        shutil.copyfile(self._population, path)
        return f"sqlite:///{path}"

    def server(self, backend: str, name: str, sample: bool = True) -> str | None:
        """A fresh private database on a server (the sample city imported), or None if not configured."""
        base = self.servers[backend]
        if not base:
            return None
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        db = f"redteam_{name}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
                conn.execute(text(f'CREATE DATABASE "{db}"'))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{db}`"))
                conn.execute(text(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
        admin.dispose()
        self.created.append((backend, db))
        url = make_url(base).set(database=db).render_as_string(hide_password=False)
        if sample:
            from cadre_policy import data
            run = self.policy("facts", "import", data.SAMPLE / "city.yaml", db=url)
            assert run.status == 0, run.stderr
        return url

    def drop_servers(self) -> None:
        from sqlalchemy import create_engine, text
        for backend, db in self.created:
            admin = create_engine(self.servers[backend], isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                quoted = f'"{db}"' if backend == "postgresql" else f"`{db}`"
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
            admin.dispose()

    @staticmethod
    def digest(url: str | None) -> str | None:
        """The store's content: an SQLite file's bytes (and its journal's), a server's rows."""
        if url is None:
            return None
        if url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///"):])
            h = hashlib.sha256()
            for part in (path, Path(f"{path}-journal"), Path(f"{path}-wal")):
                h.update(part.read_bytes() if part.exists() else b"-")
            return h.hexdigest()
        from sqlalchemy import MetaData, create_engine, select
        engine = create_engine(url)
        meta = MetaData()
        meta.reflect(engine)
        h = hashlib.sha256()
        with engine.connect() as conn:
            for table in sorted(meta.tables):
                rows = sorted(repr(tuple(r)) for r in conn.execute(select(meta.tables[table])))
                h.update(f"{table}:{len(rows)}:".encode() + "\n".join(rows).encode())
        engine.dispose()
        return h.hexdigest()

    def stray(self, *folders: Path) -> list[str]:
        """Files left in $TMPDIR (removed, so the next attack starts clean) and *.tmp / .*tmp* in folders."""
        left = sorted(os.listdir(self.tmp))
        for name in left:
            target = self.tmp / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        for folder in folders:
            left += [str(p) for p in Path(folder).iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]
        return left

    # -- judging ---------------------------------------------------------------------------

    def record(self, attack: str, expected: str, run: Run | None, problems: list[str], *,
               changed: bool = False, stray: list | None = None, observed: str | None = None) -> None:
        stray = stray or []
        tb = bool(run and run.traceback)
        hang = bool(run and run.status is None)
        if tb:
            problems.append("traceback")
        if hang:
            problems.append(f"hung ({run.seconds:.0f} s)")
        if changed:
            problems.append("store changed")
        if stray:
            problems.append(f"left {', '.join(stray)[:80]}")
        if observed is None:
            observed = "-" if run is None else (f"exit {run.status}" + (f": {run.last[:110]}" if run.last else ""))
        if problems:
            observed = f"{observed} [{'; '.join(problems)}]"
        self.rows.append(Row(attack, expected, observed, not problems, tb, hang, changed, stray, self.group))
        print(f"{'OK  ' if not problems else 'FAIL'} {attack}: {observed}", flush=True)

    def expect(self, attack: str, *args, db: str | None = None, status: int | tuple = 2, fragments=(),
               absent=(), env: dict | None = None, timeout: float = 120, unchanged: bool = True,
               folders=(), check=None) -> Run:
        """Run one attack; it passes with ``status``, every fragment on stdout or stderr, none of
        ``absent``, an error as the last line of stderr (status 2), the store unchanged, no stray file."""
        before = self.digest(db) if unchanged else None
        run = self.policy(*args, db=db, env=env, timeout=timeout)
        problems = []
        allowed = status if isinstance(status, tuple) else (status,)
        if run.status is not None and run.status not in allowed:
            problems.append(f"wanted exit {'/'.join(map(str, allowed))}")
        if status == 2 and run.status == 2 and not run.last.startswith("Error: "):
            problems.append("last line is not the error")
        both = run.stdout + run.stderr
        problems += [f"no {f!r}" for f in fragments if f not in both]
        problems += [f"shows {a!r}" for a in absent if a in both]
        if check:
            problems += check(run)
        changed = unchanged and db is not None and self.digest(db) != before
        telling = next((line for f in fragments for line in (run.stderr + run.stdout).splitlines() if f in line),
                       run.last)
        observed = f"exit {run.status}" + (f": {telling.strip()[:110]}" if telling else "")
        expected = f"exit {'/'.join(map(str, allowed))}" + (f": …{fragments[-1]}…" if fragments else "")
        self.record(attack, expected, run, problems, changed=changed, stray=self.stray(*folders),
                    observed=observed if run.status is not None else None)
        return run

    def table(self) -> str:
        width = max(len(r.attack) for r in self.rows)
        lines = [f"{'attack':<{width}}  {'expected':<44}  result  observed"]
        for r in self.rows:
            lines.append(f"{r.attack:<{width}}  {r.expected[:44]:<44}  {'OK' if r.ok else 'FAIL':<6}  {r.observed}")
        return "\n".join(lines)

    def totals(self, group: str | None = None) -> dict:
        rows = [r for r in self.rows if group is None or r.group == group]
        return {"attacks": len(rows), "ok": sum(r.ok for r in rows),
                "failed": sum(not r.ok for r in rows), "tracebacks": sum(r.traceback for r in rows),
                "hangs": sum(r.hang for r in rows), "partial writes": sum(r.partial_write for r in rows),
                "stray files": sum(bool(r.stray) for r in rows)}


# ---- inputs --------------------------------------------------------------------------------

CADRE = {"id": "X1", "name": "张三", "gender": "male", "birth_date": "1970-01-01", "party": "cpc"}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))
DEEP = 1000


def _cadre(**fields) -> dict:
    return {**CADRE, **fields}


def _review(total, dissatisfied=1) -> dict:
    return {"date": "2016-01-01", "total": total, "dissatisfied": dissatisfied}


def _rule(name: str, when: str, outcome: str) -> str:
    return (f"  - id: r.{name}\n    title: 规则\n    provision: P004-5\n    quote: 原文\n"
            f"    when: {when}\n    {outcome}\n")


def joins(n: int) -> str:
    rules = [_rule(f"d{i}", "{fact: cadre.age, 以上: %d}" % i, f"derive: d{i}") for i in range(n)]
    rules.append(_rule("end", "{all: [%s]}" % ", ".join(f"{{derived: d{i}}}" for i in range(n)),
                       "finding: admonishment_talk"))
    return "rules:\n" + "".join(rules)


def dnf(k: int) -> str:
    items = ", ".join("{any: [{fact: cadre.age, 以上: %d}, {fact: cadre.age, 以下: %d}]}" % (i, 200 - i)
                      for i in range(k))
    return "rules:\n" + _rule("wide", "{all: [%s]}" % items, "finding: admonishment_talk")


def fields(n: int) -> str:
    derived = "derived:\n" + "".join(f"  q{i}: {{title: 数{i}, count: appraisals}}\n" for i in range(n))
    rules = [_rule(f"f{i}", "{fact: q%d, 以上: %d}" % (i, i % 3), "finding: admonishment_talk") for i in range(n)]
    return derived + "rules:\n" + "".join(rules)


def alpha(n: int) -> str:
    """n rules in one stratum, every one matching the same cadre fact (durable_rules: 64 per fact)."""
    return "rules:\n" + "".join(_rule(f"a{i}", "{fact: cadre.age, 以上: %d}" % (i % 40),
                                      "finding: admonishment_talk" if i % 2 else "finding: promotion_barred")
                                for i in range(n))


def chain70() -> str:
    link = ("  - id: s.{i}\n    title: 第{i}层\n    provision: P004-5\n    quote: 原文\n"
            "    when: {{{cond}}}\n    derive: d{i}\n")
    links = [link.format(i=0, cond="fact: cadre.age, 以上: 0")]
    links += [link.format(i=i, cond=f"not: {{derived: d{i - 1}}}") for i in range(1, 70)]
    end = _rule("end", "{derived: d69}", "finding: admonishment_talk")
    return "rules:\n" + end + "".join(reversed(links))


RATIO_RULE = """\
derived:
  last_review: {title: 最近一次评议, latest: reviews}
rules:
""" + _rule("ratio", "{ratio: [last_review.dissatisfied, last_review.total], 超过: %s}", "finding: admonishment_talk")


def policy_dir(bench: Bench, name: str, body: str) -> Path:
    return write_set(bench.folder(name) / "p", {name: HEADER.format(id=name) + body})


# ---- the attacks ---------------------------------------------------------------------------

def attack_import_files(b: Bench) -> None:
    """Hostile import files: each refused with its place, nothing written."""
    cases = [
        ("import: integer 10**30 in a review (YAML)", "a.yaml",
         "cadres:\n- " + json.dumps(_cadre(reviews=[_review(10**30)])) + "\n", "maximum"),
        ("import: integer 10**30 in a review (JSON)", "a.json",
         json.dumps({"cadres": [_cadre(reviews=[_review(10**30)])]}), "maximum"),
        ("import: integer 10**30 in a poll (JSON)", "a.json",
         json.dumps({"cadres": [_cadre(polls=[{"date": "2016-01-01", "approve": 1, "total": 10**30}])]}),
         "$.cadres[0].polls[0].total"),
        ("import: 3,000,000,000 in a poll (past INT)", "a.json",
         json.dumps({"cadres": [_cadre(polls=[{"date": "2016-01-01", "approve": 1, "total": 3_000_000_000}])]}),
         "2147483647"),
        (f"import: JSON nested {DEEP} deep", "a.json", '{"cadres": ' + "[" * DEEP + "]" * DEEP + "}", "deeper than"),
        (f"import: YAML nested {DEEP} deep", "a.yaml", "cadres: " + "[" * DEEP + "]" * DEEP + "\n", "deeper than"),
        ("import: YAML alias bomb", "a.yaml", BOMB, "aliases (*name) are not allowed"),
        ("import: YAML 1.1 boolean 'yes'", "a.yaml",
         "cadres:\n- {id: X1, name: 张三, gender: male, birth_date: 1970-01-01, party: cpc,\n"
         "   recruitment: {date: 1990-01-01, fresh_graduate: yes}}\n", "'yes' is not of type 'boolean'"),
        ("import: JSON 16.0 for an integer", "a.json", json.dumps({"cadres": [_cadre(reviews=[_review(16.0)])]}),
         "16.0 is not of type 'integer'"),
        ("import: ESC sequence in a name", "a.json", json.dumps({"cadres": [_cadre(name="张\x1b[2J三")]}), "U+001B"),
        ("import: date 9999-12-31", "a.json", json.dumps({"cadres": [_cadre(birth_date="9999-12-31")]}), "outside"),
        ("import: calendar-invalid date", "a.json", json.dumps({"cadres": [_cadre(birth_date="2017-02-30")]}),
         "$.cadres[0].birth_date"),
    ]
    for attack, name, text, fragment in cases:
        url, path = b.sample_sqlite("import")
        source = path.parent / name
        source.write_text(text, encoding="utf-8")
        b.expect(attack, "facts", "import", source, db=url, fragments=["nothing written", fragment],
                 folders=[path.parent])


def attack_nul_every_backend(b: Bench) -> None:
    """A NUL byte in a name: refused the same way on SQLite, PostgreSQL and MariaDB."""
    for backend in ("sqlite", "postgresql", "mariadb"):
        url = b.sample_sqlite("nul")[0] if backend == "sqlite" else b.server(backend, f"nul_{backend[:2]}")
        if url is None:
            continue
        source = b.folder("nul") / "nul.json"
        source.write_text(json.dumps({"cadres": [_cadre(name="张\x00三")]}))
        b.expect(f"import: NUL in a name ({backend})", "facts", "import", source, db=url,
                 fragments=["$.cadres[0].name", "control character U+0000"])


def attack_policy_files(b: Bench) -> None:
    """Hostile policy files and drafts: lint errors at their place; commands refuse them."""
    url, _ = b.sample_sqlite("policy")
    nested = policy_dir(b, "nested", "rules: " + "[" * DEEP + "]" * DEEP + "\n")
    b.expect(f"lint: policy file nested {DEEP} deep", "lint", nested, status=1, fragments=["E001", "deeper than"])
    bomb = policy_dir(b, "bomb", BOMB)
    b.expect("lint: alias bomb in a policy file", "lint", bomb, status=1, fragments=["E001", "values"])
    b.expect("check: alias bomb in a policy file", "check", "C0001", "--as-of", AS_OF, "--policies", bomb, db=url,
             fragments=["E001"])
    zero = policy_dir(b, "zero", RATIO_RULE % "1/0")
    b.expect("lint: gt: 1/0", "lint", zero, status=1, fragments=["E303", "'1/0'"])
    b.expect("check: gt: 1/0", "check", "--all", "--as-of", AS_OF, "--policies", zero, db=url, fragments=["E303"])
    chain = policy_dir(b, "chain", chain70())
    b.expect("lint: 70 strata in reverse order", "lint", chain, status=0, absent=["E402"])
    for engine in ("durable", "python", "columnar"):
        b.expect(f"check: 70 strata in reverse order ({engine})", "check", "--all", "--as-of", AS_OF,
                 "--engine", engine, "--policies", chain, "--format", "json", db=url, status=0, absent=["E402"])
    draft = b.folder("draft") / "d.yaml"
    draft.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-02-30}\nparameters:\n  supervision.review_cycle: 2\n",
                     encoding="utf-8")
    b.expect("lint: draft in_force 2017-02-30", "lint", draft, status=1, fragments=["E104", "not a calendar date"])
    b.expect("whatif: draft in_force 2017-02-30", "whatif", "-q", "--draft", draft, "--as-of", AS_OF, db=url,
             fragments=["not a calendar date"])
    bombed = b.folder("draft") / "bomb.yaml"
    bombed.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-06-30}\n" + BOMB, encoding="utf-8")
    b.expect("whatif: alias bomb in a draft", "whatif", "-q", "--draft", bombed, "--as-of", AS_OF, db=url,
             fragments=["E001"])
    deep = b.folder("draft") / "deep.yaml"
    deep.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-06-30}\nparameters: " + "[" * DEEP + "]" * DEEP + "\n",
                    encoding="utf-8")
    b.expect(f"whatif: draft nested {DEEP} deep", "whatif", "-q", "--draft", deep, "--as-of", AS_OF, db=url,
             fragments=["deeper than"])
    cycle = b.folder("draft") / "cycle.yaml"
    cycle.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-06-30}\nparameters:\n  supervision.review_cycle: 2100\n",
                     encoding="utf-8")
    b.expect("whatif: draft cycle of 2100 years", "whatif", "-q", "--draft", cycle, "--as-of", AS_OF, db=url,
             fragments=["2100 is more than 200 years"])


def attack_options(b: Bench) -> None:
    """Dates, periods and numbers in options: one-line errors, the store unchanged."""
    url, _ = b.sample_sqlite("options")
    cases = [
        ("check --as-of 9999-12-31", ["check", "--all", "--as-of", "9999-12-31"], "is outside 1900-01-01..2999-12-31"),
        ("check --as-of in Arabic-Indic digits", ["check", "--all", "--as-of", "٢٠١٧-٠٦-٣٠"],
         "is not a date written YYYY-MM-DD"),
        ("whatif --as-of 9999-12-31", ["whatif", "-q", "--set", RATIO, "--as-of", "9999-12-31"], "is outside"),
        ("whatif --set review_cycle=100000000", ["whatif", "-q", "--set", "supervision.review_cycle=100000000"],
         "more than 200 years"),
        ("whatif --set plan_start=20170101", ["whatif", "-q", "--set", "yichang_grassroots.plan_start=20170101"],
         "is not a date written"),
        ("whatif --set review_cycle=٣ (Arabic-Indic)", ["whatif", "-q", "--set", "supervision.review_cycle=٣"],
         "is not a whole number"),
        ("whatif --set ratio=١/٣ (Arabic-Indic)", ["whatif", "-q", "--set", "supervision.admonish_ratio=١/٣"],
         "is not an exact fraction"),
        ("whatif --set ratio with 41 digits", ["whatif", "-q", "--set", "supervision.admonish_ratio=1/" + "1" * 40],
         "at most 30 digits"),
        ("whatif --near -1", ["whatif", "-q", "--set", RATIO, "--near", "-1"], "-1 is less than 0"),
        ("whatif --workers ٢", ["whatif", "-q", "--set", RATIO, "--workers", "٢"], "is not a whole number"),
        ("check --margin -1", ["check", "C0001", "--near", "--margin", "-1", "--as-of", AS_OF], "-1"),
    ]
    for attack, args, fragment in cases:
        b.expect(attack, *args, db=url, fragments=[fragment])


def _whatif_summary(run: Run) -> object:
    doc = json.loads(run.stdout)
    return doc["summary"], [(c["cadre"], c["baseline"], c["draft"]) for c in doc["changes"]]


def attack_huge_fractions(b: Bench) -> None:
    """A fraction of 20 or 30 digits: every engine gives the same, exact answer."""
    url, _ = b.sample_sqlite("fractions")
    for frac in ("1/10000000000000000000", "1/" + "1" + "0" * 29):
        results = {}
        for engine, extra in (("columnar", []), ("python", []), ("durable", []), ("durable --no-shortcut",
                                                                                   ["--no-shortcut"])):
            run = b.policy("whatif", "-q", "--engine", engine.split()[0], *extra, "--set",
                           f"supervision.admonish_ratio={frac}", "--as-of", AS_OF, "--format", "json", db=url)
            results[engine] = _whatif_summary(run) if run.status == 0 else run
        runs = [r for r in results.values() if isinstance(r, Run)]
        problems = [f"{e}: exit {r.status}" for e, r in results.items() if isinstance(r, Run)]
        answers = {json.dumps(v, ensure_ascii=False, sort_keys=True)
                   for v in results.values() if not isinstance(v, Run)}
        if len(answers) > 1:
            problems.append("engines disagree: " + ", ".join(
                f"{e} {sum(1 for _ in v[1])} changed" for e, v in results.items() if not isinstance(v, Run)))
        admonished = next((s["draft"] for s in json.loads(answers.pop())[0] if s["key"] == "finding:admonishment_talk"),
                          None) if len(answers) == 1 else None
        b.record(f"whatif --set ratio={frac[:8]}…({len(frac) - 2} digits) on 4 engine modes",
                 "exit 0, all engines agree", runs[0] if runs else None, problems,
                 observed=f"exit 0, all agree: {admonished} admonishments" if not problems else None,
                 stray=b.stray())
    for literal in ("1/10000000000000000000", "1/100000000000000000000000000000"):
        directory = policy_dir(b, "literal", RATIO_RULE % literal)
        outputs, problems, last = {}, [], None
        for engine in ("durable", "python", "columnar"):
            last = b.policy("check", "--all", "--as-of", AS_OF, "--engine", engine, "--policies", directory,
                            "--format", "json", db=url)
            if last.status != 0:
                problems.append(f"{engine}: exit {last.status}")
                continue
            doc = json.loads(last.stdout)
            outputs[engine] = sorted((c["cadre"], json.dumps(c["findings"], sort_keys=True, ensure_ascii=False))
                                     for c in doc["cadres"])
        if len({json.dumps(v) for v in outputs.values()}) > 1:
            problems.append("engines disagree")
        b.record(f"check literal 超过: {literal[:6]}…({len(literal) - 2} digits), 3 engines", "exit 0, engines agree",
                 last, problems, stray=b.stray(),
                 observed=None if problems else f"exit {last.status}, 3 engines agree")


def attack_durable_limits(b: Bench) -> None:
    """What durable_rules cannot run is refused (or rewritten) alike on every engine."""
    url, _ = b.sample_sqlite("limits")
    dnf_dir = policy_dir(b, "dnf", dnf(13))
    b.expect("lint: DNF of 8,192 alternatives (13 any-pairs)", "lint", dnf_dir, status=1, fragments=["E406"])
    for engine in ("durable", "python"):
        b.expect(f"check: DNF 13 any-pairs ({engine})", "check", "C0001", "--as-of", AS_OF, "--engine", engine,
                 "--policies", dnf_dir, db=url, fragments=["E406"], timeout=180)
    for n in (16, 20, 63, 64, 65):
        directory = policy_dir(b, f"joins{n}", joins(n))
        outs = {}
        for engine in ("durable", "python", "columnar"):
            run = b.expect(f"check: rule joining {n} derived facts ({engine})", "check", "--all", "--as-of", AS_OF,
                           "--engine", engine, "--policies", directory, "--format", "json", db=url, status=0,
                           timeout=180)
            outs[engine] = run.stdout
        _agree(b, f"check: rule joining {n}: engines agree", outs)
    directory = policy_dir(b, "alpha", alpha(200))
    outs = {}
    for engine in ("durable", "python", "columnar"):
        run = b.expect(f"check: 200 rules on one fact (alpha, {engine})", "check", "--all", "--as-of", AS_OF,
                       "--engine", engine, "--policies", directory, "--format", "json", db=url, status=0, timeout=180)
        outs[engine] = run.stdout
    _agree(b, "check: 200 rules on one fact: engines agree", outs)
    for n in (250, 300):
        directory = policy_dir(b, f"fields{n}", fields(n))
        for engine in ("durable", "python", "columnar"):
            b.expect(f"check: {n} derived quantities in use ({engine})", "check", "--all", "--as-of", AS_OF,
                     "--engine", engine, "--policies", directory, db=url, fragments=["E404"], timeout=180)


def _agree(b: Bench, attack: str, outputs: dict) -> None:
    def norm(text: str):
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        doc.pop("engine", None)
        doc.pop("seconds", None)
        return json.dumps(doc, sort_keys=True, ensure_ascii=False)
    same = len({norm(t) for t in outputs.values()}) == 1
    b.record(attack, "identical output", None, [] if same else ["outputs differ"],
             observed="identical" if same else "different")


def attack_database(b: Bench) -> None:
    """A dropped table, a damaged file, corrupt stored values, MariaDB's range, a silent server."""
    for backend in ("sqlite", "postgresql", "mariadb"):
        url = b.sample_sqlite("dropped")[0] if backend == "sqlite" else b.server(backend, f"drop_{backend[:2]}")
        if url is None:
            continue
        _sql(url, "DROP TABLE polls")
        b.expect(f"dropped polls table ({backend}): facts list", "facts", "list", db=url,
                 fragments=["lacks the fact tables polls"],
                 check=lambda run, url=url: [] if "polls" not in _tables(url) else ["polls recreated"])
        b.expect(f"dropped polls table ({backend}): import", "facts", "import", _sample_file(), db=url,
                 fragments=["lacks the fact tables polls"],
                 check=lambda run, url=url: [] if "polls" not in _tables(url) else ["polls recreated"])
    url, path = b.sample_sqlite("corrupt_pages")
    _damage_pages(path)
    b.expect("import into a page-corrupted SQLite file", "facts", "import", _sample_file(), db=url,
             fragments=["is damaged", "nothing written"], folders=[path.parent])
    b.expect("check --all on a page-corrupted SQLite file", "check", "--all", "--as-of", AS_OF, db=url,
             fragments=["malformed"], folders=[path.parent])
    corrupt = [
        ("bad month", "UPDATE cadres SET birth_date = '1970-13-45' WHERE id = 'C0001'",
         "table cadres, row id=C0001, column birth_date"),
        ("not a date", "UPDATE posts SET start_date = 'yesterday' WHERE cadre_id = 'C0002' AND seq = 1",
         "table posts, row cadre_id=C0002, seq=1, column start_date"),
        ("text in an integer", "UPDATE reviews SET total = 'abc' WHERE cadre_id = 'C0007'",
         "table reviews, row cadre_id=C0007, seq=0, column total"),
    ]
    commands = [("check --all", ["check", "--all", "--as-of", AS_OF]), ("export", ["facts", "export"]),
                ("whatif (2 workers)", ["whatif", "-q", "--workers", "2", "--chunk-size", "10", "--set", RATIO,
                                        "--as-of", AS_OF]),
                ("check ID", ["check", "C0001", "--as-of", AS_OF]) ]
    for what, sql, fragment in corrupt:
        url, path = b.sample_sqlite("corrupt_row")
        _sql(url, sql)
        for name, args in commands:
            if name == "check ID" and "C0001" not in sql:
                continue
            b.expect(f"stored {what}: {name}", *args, db=url, fragments=[fragment], folders=[path.parent])
    mysql = b.server("mariadb", "range")
    if mysql:
        source = b.folder("range") / "big.json"
        source.write_text(json.dumps({"cadres": [_cadre(reviews=[_review(3_000_000_000)])]}))
        b.expect("MariaDB: import of 3,000,000,000", "facts", "import", source, db=mysql, fragments=["2147483647"])
        before = b.digest(mysql)
        probe = subprocess.run([sys.executable, "-c", STRICT_PROBE, mysql], capture_output=True, text=True,
                               env=b.env, timeout=120)
        b.record("MariaDB: 3,000,000,000 past the validation (strict sql_mode)", "Out of range, nothing stored",
                 Run(probe.returncode, probe.stdout, probe.stderr, 0),
                 [] if probe.stdout.strip() == "refused" else [f"probe said {probe.stdout.strip()[:60]!r}"],
                 changed=b.digest(mysql) != before, observed=probe.stdout.strip()[:80] or probe.stderr[-80:])
    for scheme in ("postgresql+psycopg", "mysql+pymysql"):
        with SilentServer() as port:
            for timeout_env in ({"POLICY_DB_CONNECT_TIMEOUT": "1"}, {}):
                label = "timeout 1 s" if timeout_env else "default timeout"
                b.expect(f"server that accepts and never answers ({scheme.split('+')[0]}, {label})", "facts", "list",
                         db=f"{scheme}://u@127.0.0.1:{port}/x", env=timeout_env, timeout=60, unchanged=False,
                         fragments=["cannot open database", f"127.0.0.1:{port}"])


STRICT_PROBE = r"""
import sys
from sqlalchemy.exc import DBAPIError
from cadre_policy.record.canonical import canonical_cadre
from cadre_policy.store.fact_store import FactStore
doc = {"id": "X9", "name": "张三", "gender": "male", "birth_date": "1970-01-01", "party": "cpc",
       "reviews": [{"date": "2016-01-01", "total": 3000000000, "dissatisfied": 1}]}
with FactStore(sys.argv[1]) as store:
    try:
        store.bulk_load([], [canonical_cadre(doc)])
    except DBAPIError as exc:
        print("refused" if "Out of range" in str(exc) else "other error: " + str(exc)[:80])
    else:
        print("stored: " + repr(store.cadre("X9")["reviews"]))
"""


def _sample_file() -> Path:
    from cadre_policy import data
    return data.SAMPLE / "city.yaml"


def _sql(url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _tables(url: str) -> set:
    from sqlalchemy import create_engine, inspect
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def _damage_pages(path: Path) -> None:
    """Overwrite part of every data page after the third, the schema's pages spared."""
    conn = sqlite3.connect(path)
    keep = {n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name IN ('sqlite_schema', 'schema_meta')")}
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    for offset in range(3 * page, len(data), page):
        if offset // page + 1 not in keep:
            data[offset + 100:offset + 400] = bytes(range(256)) + bytes(44)
    path.write_bytes(bytes(data))


class SilentServer:
    """A local TCP port that accepts connections and never says a word."""

    def __enter__(self) -> int:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.accepted, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self.server.getsockname()[1]

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                self.accepted.append(self.server.accept()[0])
            except OSError:
                continue

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.accepted:
            conn.close()
        self.server.close()


def attack_output_text(b: Bench) -> None:
    """Names written by another program: CSV cells never formulas, terminals never driven."""
    url, path = b.sample_sqlite("cells")
    wide = "supervision.admonish_ratio=1/20"      # 7 of the sample's cadres change: one per payload
    run = b.policy("whatif", "-q", "--workers", "1", "--set", wide, "--as-of", AS_OF, "--format", "csv", db=url)
    ids = list(dict.fromkeys(row["ID"] for row in csv.DictReader(io.StringIO(run.stdout.lstrip("\ufeff")))))
    payloads = ['=HYPERLINK("http://evil.example","点击")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|",
                "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
    conn = sqlite3.connect(path)
    for cadre, payload in zip(ids, payloads):
        conn.execute("UPDATE cadres SET name = ? WHERE id = ?", (payload, cadre))
    conn.commit()
    conn.close()
    named = dict(zip(ids, payloads))

    def cells(run: Run, column: str) -> list[str]:
        problems = []
        for row in csv.DictReader(io.StringIO(run.stdout.lstrip("\ufeff"))):
            for value in row.values():
                if value and (value[0] in "=+-@\t\r" or any(c in value for c in "\t\r\x00\x1b")):
                    problems.append(f"cell {value[:20]!r}")
            shown = named.get(row.get("ID"), "").replace("\t", "\\x09").replace("\r", "\\x0d")
            if row.get("ID") in named and row.get(column) != "'" + shown:
                problems.append(f"name {row.get(column)!r}")
        return problems[:3]
    b.expect(f"whatif --format csv: {len(named)} formula-like names", "whatif", "-q", "--workers", "1", "--set", wide,
             "--as-of", AS_OF, "--format", "csv", db=url, status=0, check=lambda r: cells(r, "Name"))
    b.expect(f"check --all --format csv: {len(named)} formula-like names", "check", "--all", "--as-of", AS_OF,
             "--format", "csv",
             db=url, status=0, check=lambda r: cells(r, "Name"))

    url, path = b.sample_sqlite("escapes")
    cadre = ids[0]
    conn = sqlite3.connect(path)
    conn.execute("UPDATE cadres SET name = ? WHERE id = ?", ("张\x1b[2J\x1b]0;pwned\x07\x00三", cadre))
    conn.commit()
    conn.close()
    raw = ("\x1b", "\x07", "\x00", "\x9b")

    def clean(run: Run) -> list[str]:
        return [f"raw {c!r} on {where}" for where, text in (("stdout", run.stdout), ("stderr", run.stderr))
                for c in raw if c in text]
    for name, args, status in [("facts show", ["facts", "show", cadre], 0), ("facts list", ["facts", "list"], 0),
                               ("check ID", ["check", cadre, "--as-of", AS_OF], 0),
                               ("check --all", ["check", "--all", "--as-of", AS_OF], 0),
                               ("whatif text", ["whatif", "-q", "--set", RATIO, "--as-of", AS_OF], 0)]:
        b.expect(f"ESC/BEL/NUL stored in a name: {name}", *args, db=url, status=status, check=clean)


def attack_output_paths(b: Bench) -> None:
    """-o over a device, a FIFO, a symlink and an existing PATH.tmp."""
    url, _ = b.sample_sqlite("output")
    before = os.stat("/dev/null")
    run = b.policy("facts", "export", "--format", "json", "-o", "/dev/null", db=url)
    after = os.stat("/dev/null")
    problems = [] if (stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
                      and after.st_rdev == before.st_rdev) else ["/dev/null is no longer the device"]
    if run.status != 0:
        problems.append(f"exit {run.status}")
    left = [n for n in os.listdir("/dev") if n.startswith(".null")]
    b.record(f"-o /dev/null (uid {os.getuid()})", "exit 0, still the device", run, problems, stray=b.stray() + left)

    folder = b.folder("fifo")
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = b.policy("facts", "export", "--format", "json", "-o", fifo, db=url, timeout=60)
    if run.status is None:      # the writer never opened the FIFO: let the reader go
        with open(fifo, "wb"):
            pass
    reader.join(timeout=30)
    problems = [] if stat.S_ISFIFO(os.stat(fifo).st_mode) and received and b'"cadres"' in received[0] else \
        ["not written through the FIFO"]
    if run.status != 0:
        problems.append(f"exit {run.status}")
    b.record("-o a FIFO", "exit 0, written through, still a FIFO", run, problems,
             stray=b.stray() + [n for n in os.listdir(folder) if n != "pipe"])

    folder = b.folder("symlink")
    (folder / "real").mkdir()
    target = folder / "real" / "export.json"
    target.write_text("old")
    link = folder / "link.json"
    link.symlink_to(target)
    run = b.policy("facts", "export", "--format", "json", "-o", link, db=url)
    problems = [] if link.is_symlink() and '"cadres"' in target.read_text() else ["symlink replaced or target stale"]
    b.record("-o a symlink", "exit 0, link kept, target written", run,
             problems + ([f"exit {run.status}"] if run.status else []),
             stray=b.stray() + [n for n in os.listdir(folder / "real") if n != "export.json"]
             + [n for n in os.listdir(folder) if n not in ("real", "link.json")])

    folder = b.folder("tmpfile")
    (folder / "export.json.tmp").write_text("someone else's")
    run = b.policy("facts", "export", "--format", "json", "-o", folder / "export.json", db=url)
    problems = [] if (folder / "export.json.tmp").read_text() == "someone else's" else ["PATH.tmp clobbered"]
    extra = [n for n in os.listdir(folder) if n not in ("export.json", "export.json.tmp")]
    b.record("-o PATH with an existing PATH.tmp", "exit 0, PATH.tmp untouched", run,
             problems + ([f"exit {run.status}"] if run.status else []), stray=b.stray() + extra)

    folder = b.folder("nodir")
    b.expect("-o into a missing folder", "check", "--all", "--as-of", AS_OF, "-o", folder / "no" / "x.txt", db=url,
             fragments=["cannot write"], folders=[folder])
    for fmt in ("text", "csv", "xlsx", "html"):
        target = folder / f"w.{fmt}"
        target.write_text("old")
        b.expect(f"whatif --format {fmt} -o over an existing file", "whatif", "-q", "--set", RATIO, "--as-of", AS_OF,
                 "--format", fmt, "-o", target, db=url, status=0, folders=[folder],
                 check=lambda r, t=target: [] if t.stat().st_size > 3 else ["not written"])


def _spooling(process: subprocess.Popen, tmp: Path) -> bool:
    """Wait until the what-if has begun (its spool file exists)."""
    deadline = time.monotonic() + 180
    while not any(n.startswith("whatif-") for n in os.listdir(tmp)):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


POPULATION_WHATIF = ["whatif", "-q", "--engine", "durable", "--no-shortcut", "--workers", "2", "--chunk-size", "50",
                     "--set", RATIO, "--as-of", AS_OF]


def attack_population_runs(b: Bench) -> None:
    """A what-if interrupted: signals, a worker killed, an import committing mid-run."""
    faults = [("SIGINT to the what-if", "parent", signal.SIGINT), ("SIGTERM to the what-if", "parent", signal.SIGTERM),
              ("SIGKILL to a worker", "worker", signal.SIGKILL), ("SIGABRT to a worker (engine abort)", "worker",
                                                                   signal.SIGABRT),
              ("SIGTERM to a worker", "worker", signal.SIGTERM)]
    for attack, whom, signum in faults:
        url = b.population()
        before = b.digest(url)
        process = b.popen(*POPULATION_WHATIF, db=url)
        started = time.monotonic()
        if not _spooling(process, b.tmp):
            out, err = process.communicate()
            b.record(attack, "ended, no spool file", Run(process.returncode, out, err, 0), ["ended before it began"])
            continue
        time.sleep(0.5)
        if whom == "parent":
            process.send_signal(signum)
        else:
            workers = _children(process.pid)
            if workers:
                os.kill(workers[0], signum)
        try:
            out, err = process.communicate(timeout=120)
            run = Run(process.returncode, out, err, time.monotonic() - started)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            run = Run(None, out, err, time.monotonic() - started)
        problems = []
        if run.status == 0:
            problems.append("exit 0 after the fault")
        if whom == "worker" and run.status not in (None, 2):
            problems.append(f"exit {run.status}, wanted 2")
        if whom == "worker" and run.status == 2 and "worker process died" not in run.stderr:
            problems.append("no 'worker process died'")
        if run.status is not None and len(run.stderr.strip().splitlines()) > 1:
            problems.append(f"{len(run.stderr.strip().splitlines())} lines on stderr")
        b.record(attack, "exit ≠ 0 (2 for a worker), one line, no spool file", run, problems,
                 changed=b.digest(url) != before, stray=b.stray())

    _parent_killed(b)
    url = b.population()
    doc = json.loads(b.policy("facts", "export", "--format", "json", db=url).stdout)
    cadre = doc["cadres"][0]
    cadre["reviews"] = [{"date": "2017-01-01", "total": 10, "dissatisfied": 9}]
    change = b.folder("torn") / "change.json"
    change.write_text(json.dumps({"cadres": [cadre]}, ensure_ascii=False), encoding="utf-8")
    process = b.popen(*POPULATION_WHATIF, db=url)
    began = _spooling(process, b.tmp)
    imported = b.policy("facts", "import", change, db=url)
    try:
        out, err = process.communicate(timeout=300)
        run = Run(process.returncode, out, err, 0)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        run = Run(None, out, err, 0)
    problems = [] if began else ["what-if ended before the import"]
    if imported.status != 0:
        problems.append(f"import exit {imported.status}")
    if run.status != 2 or "would mix two states" not in run.last:
        problems.append("figures of two states reported")
    b.record("import committing during a what-if (torn read)", "exit 2: …would mix two states…", run, problems,
             stray=b.stray())


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _parent_killed(b: Bench) -> None:
    """SIGKILL to the what-if itself: nothing can clean up, but its workers must not outlive it."""
    url = b.population()
    process = b.popen(*POPULATION_WHATIF, db=url)
    if not _spooling(process, b.tmp):
        process.communicate()
        b.record("SIGKILL to the what-if: workers end", "workers gone", None, ["ended before it began"])
        return
    time.sleep(0.5)
    workers = _children(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 15
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = [pid for pid in workers if _alive(pid)]
    for pid in orphans:         # this script started them: end them (they hold its pipes open)
        os.kill(pid, signal.SIGKILL)
    out, err = process.communicate()
    run = Run(process.returncode, out, err, 0)
    problems = ([f"{len(orphans)} of {len(workers)} workers still running 15 s after their parent died"]
                if orphans else [])
    spool = [n for n in b.stray() if n.startswith("whatif-")]      # SIGKILL cannot be caught: noted, not judged
    b.record("SIGKILL to the what-if: its workers end", "workers gone, no traceback", run, problems,
             observed=f"killed; {len(workers) - len(orphans)} of {len(workers)} workers ended"
                      + (f"; spool file left ({len(spool)}, SIGKILL cannot be caught)" if spool else ""))
    b.rows[-1].hang = bool(orphans)     # workers waiting forever on a queue nobody writes


# ---- the server (issue 24): accounts of each role against a real `policy serve` --------------

PASSWORD = "pass-word-1"


class Served:
    """A `policy serve` subprocess on a fresh copy of the sample store, with accounts of each role."""

    def __init__(self, b: Bench, name: str, *options: str, engine: str | None = None):
        self.url, self.path = b.sample_sqlite(name)
        for user, role, unit in (("admin", "admin", None), ("lq", "author", "QJ-LQ"), ("qj", "author", "QJ-PC"),
                                 ("bs", "viewer", "BH-BS"), ("victim", "viewer", None), ("racer", "viewer", None)):
            run = b.policy("users", "add", user, "--role", role, *(["--unit", unit] if unit else []),
                           db=self.url, env={"POLICY_PASSWORD": PASSWORD})
            assert run.status == 0, run.stderr
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(self.path.with_suffix(".log"), "w")
        self.process = subprocess.Popen(
            [POLICY, "--db", self.url, "serve", "--port", str(self.port), "--policies", str(ROOT / "policies"),
             *(["--engine", engine] if engine else []), *options],
            stdout=self.log, stderr=subprocess.STDOUT, env={**b.env, "TMPDIR": str(self.path.parent)},
            cwd=self.path.parent, start_new_session=True)
        import httpx
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                httpx.get(self.base + "/login", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def client(self, name: str | None = None):
        import httpx
        client = httpx.Client(base_url=self.base, timeout=60)
        if name:
            answer = client.post("/login", json={"name": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _answer(b: Bench, attack: str, expected: str, response, status: int, check=None) -> None:
    """One HTTP attack: passes with ``status``, problem+json for an error, no traceback, ``check`` empty."""
    problems = []
    if response.status_code != status:
        problems.append(f"wanted {status}")
    if status >= 400 and not response.headers.get("content-type", "").startswith("application/problem+json") \
            and response.status_code != 303:
        problems.append("not problem+json")
    if "Traceback" in response.text:
        problems.append("traceback")
    if check:
        problems += check(response)
    detail = ""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        detail = str(response.json().get("detail", ""))[:90]
    b.record(attack, expected, None, problems, observed=f"HTTP {response.status_code}" + (f": {detail}" if detail
                                                                                          else ""))


def _wait(client, job: dict, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/v1/jobs/{job['id']}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    return job


def attack_server(b: Bench) -> None:
    """Sessions, tokens, scope, forged records, bounded bodies, logins and jobs against a real server."""
    import httpx
    s = Served(b, "server", "--job-time-limit", "120", "--max-jobs", "3")
    try:
        admin, lq, bs = s.client("admin"), s.client("lq"), s.client("bs")
        # 1. sessions follow the account
        gone = s.client("victim")
        token = gone.post("/api/v1/tokens", json={"label": "x"}).json()["token"]
        b.policy("users", "role", "victim", "--role", "admin", db=s.url)
        _answer(b, "promoted user: the new role applies at once", "200", gone.get("/api/v1/users"), 200)
        b.policy("users", "remove", "victim", db=s.url)
        _answer(b, "removed admin's cookie", "401", gone.post("/api/v1/users", json={
            "name": "evil", "password": "x" * 10, "role": "admin"}), 401)
        _answer(b, "removed admin's API token", "401",
                httpx.get(s.base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)
        mine = lq.post("/api/v1/tokens", json={"label": "t"}).json()["token"]
        listed = lq.get("/api/v1/tokens").json()["tokens"]
        lq.delete(f"/api/v1/tokens/{listed[-1]['id']}")
        _answer(b, "revoked API token", "401",
                httpx.get(s.base + "/api/v1/me", headers={"Authorization": f"Bearer {mine}"}), 401)
        # 2. scope
        _answer(b, "township author: what-if of another county's unit", "403",
                lq.post("/api/v1/whatif", json={"set": [RATIO], "as_of": AS_OF, "unit": "BH-BS"}), 403)
        job = _wait(lq, lq.post("/api/v1/whatif", json={"set": [RATIO], "as_of": AS_OF}).json())
        result = lq.get(f"/api/v1/jobs/{job['id']}/result").json() if job["status"] == "done" else {}
        theirs = {c["id"] for c in lq.get("/api/v1/cadres", params={"as_of": AS_OF, "limit": 500}).json()["cadres"]}
        outside = [c["cadre"] for c in result.get("changes", []) if c["cadre"] not in theirs]
        b.record("township author's what-if: only that township", "population ⊆ township", None,
                 ([] if job["status"] == "done" else [f"job {job['status']}"]) + ([f"outside: {outside[:3]}"]
                                                                                   if outside else []),
                 observed=f"{result.get('cadres')} cadres, {len(result.get('changes', []))} changed, "
                          f"{len(outside)} outside")
        _answer(b, "township viewer: a past date to read a former member", "403",
                bs.get("/api/v1/cadres/C0002", params={"as_of": "2008-12-31"}), 403)
        structure = bs.get("/api/v1/structure", params={"as_of": AS_OF}).json()
        listed_ids = {m["id"] for r in structure.get("results", []) for m in r["listed"] if m["id"].startswith("C")}
        leaked = [c for c in listed_ids if bs.get(f"/api/v1/cadres/{c}", params={"as_of": AS_OF}).status_code != 200]
        b.record("township viewer: structure member lists", "only cadres in scope", None,
                 [f"outside: {leaked[:3]}"] if leaked else [], observed=f"{len(listed_ids)} listed, {len(leaked)} outside")
        anon = httpx.Client(base_url=s.base, timeout=60)
        _answer(b, "openapi.json without signing in", "401", anon.get("/api/v1/openapi.json"), 401)
        # 3. a forged record
        record = admin.post("/api/v1/check", json={"cadre": "C0007", "as_of": AS_OF}).json()["record"]
        with sqlite3.connect(s.path) as db:
            stored = json.loads(db.execute("SELECT result FROM decision_records WHERE id = ?", (record,)).fetchone()[0])
            stored["promotion"]["eligibility"] = "eligible"
            db.execute("UPDATE decision_records SET result = ? WHERE id = ?", (json.dumps(stored), record))
        b.expect("forged record: records verify ID", "records", "verify", record, db=s.url, status=1,
                 fragments=("stored result does not match its digest",), unchanged=False)
        _answer(b, "forged record: the workbench's API", "intact false", admin.get(f"/api/v1/records/{record}"), 200,
                lambda r: [] if r.json()["integrity"]["intact"] is False else ["shown as intact"])
        page = admin.get("/records").text
        b.record("forged record: the records page", "marked broken", None,
                 [] if "已被改动" in page else ["not marked"], observed="marked" if "已被改动" in page else "unmarked")
        # 4, 5. bounded bodies and logins
        _answer(b, "2 MB check body (a million numbers)", "413",
                admin.post("/api/v1/check", content=b"[" + b"1," * 1_000_000 + b"1]",
                           headers={"content-type": "application/json"}), 413)
        _answer(b, "200 MB login (Content-Length only)", "413",
                anon.post("/login", content=b"x" * 200_000_000,
                          headers={"content-type": "application/x-www-form-urlencoded"}), 413)
        before = s.rss_kb()
        for n in range(150):
            anon.post("/login", json={"name": f"{n}" + "n" * 15_000, "password": "wrong-password"})
        grown = s.rss_kb() - before
        b.record("150 logins with 15 kB names", "memory grows < 20 MB", None,
                 [] if grown < 20_000 else [f"+{grown} kB"], observed=f"+{grown} kB")
        statuses = []

        def guess():
            with httpx.Client(base_url=s.base, timeout=60) as c:
                statuses.append(c.post("/login", json={"name": "racer", "password": "wrong-pw-1"}).status_code)
        threads = [threading.Thread(target=guess) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tried = statuses.count(401)
        b.record("40 parallel wrong passwords", "5 tried, 35 refused (429)", None,
                 [] if tried == 5 else [f"{tried} tried"], observed=f"{tried} tried, {statuses.count(429)} refused")
        _answer(b, "duplicate keys in a JSON body", "422",
                admin.post("/api/v1/check", content=b'{"cadre":"C0007","cadre":"C0018"}',
                           headers={"content-type": "application/json"}), 422)
        _answer(b, "lone surrogate in input", "422",
                admin.post("/api/v1/check", content=b'{"input":{"cadre":{"id":"\\ud800"}}}',
                           headers={"content-type": "application/json"}), 422)
        _answer(b, "as_of 9999-12-31", "422", admin.post("/api/v1/check", json={"cadre": "C0007",
                                                                                 "as_of": "9999-12-31"}), 422)
        _answer(b, "20-digit record id", "422", admin.get("/api/v1/records/99999999999999999999"), 422)
        _answer(b, "a 20 kB value echoed", "answer < 5 kB", admin.get("/api/v1/cadres/" + "C" * 20_000), 422,
                lambda r: [] if len(r.content) < 5000 else [f"{len(r.content)} bytes"])
        # 12. jobs
        qj = s.client("qj")
        answers = [qj.post("/api/v1/whatif", json={"set": [RATIO], "as_of": AS_OF}).status_code for _ in range(5)]
        b.record("5 what-if jobs at once by one author", "2 accepted, 3 refused (429)", None,
                 [] if answers.count(202) == 2 and answers.count(429) == 3 else ["not capped"],
                 observed=" ".join(map(str, answers)))
        # idle connections
        with socket.create_connection(("127.0.0.1", s.port)) as sock:
            sock.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")       # headers that never end
            sock.settimeout(60)
            started = time.monotonic()
            closed = sock.recv(100) == b""
        waited = time.monotonic() - started
        b.record("a connection sending headers that never end", "closed within 20 s", None,
                 [] if closed and waited < 20 else ["kept open"], observed=f"closed after {waited:.1f} s")
        # 15. headers
        login = anon.post("/login", data={"name": "admin", "password": PASSWORD},
                          headers={"Origin": "https://evil.example"})
        _answer(b, "login CSRF from another site", "403", login, 403)
        answer = admin.get("/api/v1/cadres/C0007", params={"as_of": AS_OF})
        csp = admin.get("/records").headers.get("content-security-policy", "")
        b.record("Cache-Control and CSP", "no-store; no unsafe-inline script", None,
                 ([] if answer.headers.get("cache-control") == "no-store" else ["cacheable"])
                 + ([] if "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0] else ["unsafe-inline"]),
                 observed=f"{answer.headers.get('cache-control')}")
    finally:
        s.stop()


def _append(url: str, n: int, tag: str, env: dict) -> None:
    os.environ.update(env)
    from types import SimpleNamespace
    from cadre_policy.decisions.store import RecordStore
    from cadre_policy.store.fact_store import FactStore
    with FactStore(url) as store:
        records = RecordStore(store.engine)
        policy_set = SimpleNamespace(path=str(ROOT / "policies"), digest="sha256:" + "1" * 64)
        for i in range(n):
            records.append(kind="check", actor=tag, channel="cli", request={"i": i}, policy_set=policy_set,
                           facts=({}, [{"id": f"C{i % 7:04d}"}]), result={"i": i})


def attack_records(b: Bench) -> None:
    """Two processes appending 300 records each: one whole chain; the newest removed: the anchor sees it."""
    import multiprocessing
    from cadre_policy.decisions.store import RecordStore
    from cadre_policy.decisions.verify import verify_chain
    from cadre_policy.store.fact_store import FactStore
    stores = [("sqlite", b.sample_sqlite("records")[0]), ("postgresql", b.server("postgresql", "records")),
              ("mariadb", b.server("mariadb", "records"))]
    env = {"POLICY_RECORDS_KEY_FILE": str(b.root / "records.key")}
    os.environ.update(env)
    for backend, url in stores:
        if url is None:
            continue
        with FactStore(url) as store:
            RecordStore(store.engine)
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=_append, args=(url, 300, tag, env)) for tag in ("a", "b")]
        started = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:
            w.join(600)
        with FactStore(url) as store:
            records = RecordStore(store.engine)
            problems = verify_chain(records)
            count = records.count()
        b.record(f"two processes append 300 records each ({backend})", "600 records, chain whole", None,
                 ([] if count == 600 else [f"{count} records"]) + ([f"{len(problems)} breaks"] if problems else [])
                 + ([] if [w.exitcode for w in workers] == [0, 0] else ["an append failed"]),
                 observed=f"{count} records, {len(problems)} breaks, {time.monotonic() - started:.1f} s")
        anchors = b.root / f"anchors-{backend}.txt"
        b.expect(f"anchor written ({backend})", "records", "anchor", "--append", anchors, db=url, status=0,
                 env=env, unchanged=False)
        _sql(url, "DELETE FROM decision_records WHERE id = 600")
        b.expect(f"newest record deleted: verify --chain --anchor ({backend})", "records", "verify", "--chain",
                 "--anchor", anchors, db=url, status=1, fragments=("record 600 of an anchor is missing",), env=env,
                 unchanged=False)


def _hammer(s: "Served", clients: int, seconds: float, dates: bool, sample=None) -> tuple[int, int, list]:
    """``clients`` threads checking cadres for ``seconds`` (at random dates when ``dates``); (answers, failures,
    RSS samples in kB every 5 s)."""
    import random
    import httpx
    token = s.client("admin").post("/api/v1/tokens", json={"label": "load"}).json()["token"]
    counts, stop, samples = {"ok": 0, "failed": 0}, time.monotonic() + seconds, []
    lock = threading.Lock()

    def client(n):
        rng = random.Random(n)
        with httpx.Client(base_url=s.base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
            while time.monotonic() < stop:
                day = f"{rng.randint(1995, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if dates else AS_OF
                try:
                    ok = c.post("/api/v1/check", json={"cadre": f"C{rng.randint(1, 40):04d}",
                                                       "as_of": day}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    counts["ok" if ok else "failed"] += 1
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        samples.append(s.rss_kb())
        time.sleep(5)
    for t in threads:
        t.join()
    return counts["ok"] + counts["failed"], counts["failed"], samples


def attack_server_load(b: Bench) -> None:
    """Load: 30 clients while a what-if runs; 50 clients at random dates, memory flat within 20 %.

    ``$REDTEAM_LOAD_SECONDS`` (default 120) is the length of the random-date run."""
    seconds = float(os.environ.get("REDTEAM_LOAD_SECONDS", "120"))
    s = Served(b, "load")
    try:
        admin = s.client("admin")
        job = admin.post("/api/v1/whatif", json={"set": [RATIO], "as_of": AS_OF}).json()
        total, failed, _ = _hammer(s, 30, 30, dates=False)
        job = _wait(admin, job)
        b.record("30 clients for 30 s while a what-if runs", "no failure; the job done", None,
                 ([f"{failed} failed"] if failed else []) + ([] if job["status"] == "done" else [job["status"]]),
                 observed=f"{total} checks ({total / 30:.0f}/s), {failed} failed, job {job['status']}")
        total, failed, samples = _hammer(s, 50, seconds, dates=True)
        warm = samples[min(4, len(samples) - 1)]           # after 20 s: runners of the first dates compiled
        peak = max(samples[min(4, len(samples) - 1):])
        b.record(f"50 clients at random dates for {seconds:.0f} s", "no failure; memory within 20 %", None,
                 ([f"{failed} failed"] if failed else []) + ([] if peak <= warm * 1.2 else ["memory grows"]),
                 observed=f"{total} checks ({total / seconds:.0f}/s), {failed} failed, RSS {warm // 1024} MB at 20 s, "
                          f"peak {peak // 1024} MB, last {samples[-1] // 1024} MB")
    finally:
        s.stop()


def attack_inputs(b: Bench) -> None:
    """Issue 24's input holes: --set with an unknown enumeration value, control characters from a CSV cell,
    an XLSX zip bomb, a huge LSP Content-Length, a PostgreSQL connection that stalls behind an open socket."""
    import zipfile
    url, _ = b.sample_sqlite("inputs")
    b.expect("--set grassroots_levels=moon", "whatif", "--set", "grassroots_levels=moon", "--as-of", AS_OF, "-q",
             db=url, fragments=("'moon' is not a value of 'unit.level'",))
    folder = b.folder("csv_escape")
    sheet = folder / "干部.csv"
    sheet.write_text("id,name,gender,birth_date\nX1,a,\x07\x1b]0;owned\x07moon,1970-01-01\n", encoding="utf-8")
    b.expect("BEL and OSC in a CSV cell, in the import error", "facts", "import", sheet, db=url,
             fragments=("\\x07\\x1b]0;owned",), absent=("\x07", "\x1b"), folders=(folder,))
    book = b.folder("zip_bomb") / "bomb.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(1024):
                part.write(b" " * 1_048_576)        # 1 GiB of blanks in about 1 MB
    b.expect(f"XLSX zip bomb ({book.stat().st_size:,} bytes holding 1 GiB)", "facts", "import", book, db=url,
             fragments=("part xl/worksheets/sheet1.xml unpacks",))
    started = time.monotonic()
    lsp = subprocess.run([POLICY, "lsp"], input=b"Content-Length: 99999999999\r\n\r\n", capture_output=True,
                         timeout=60, env=b.env)
    err = lsp.stderr.decode("utf-8", "replace")
    b.record("policy lsp: Content-Length 99999999999", "exit 1, one line", None,
             ([] if lsp.returncode == 1 else [f"exit {lsp.returncode}"]) + (["traceback"] if "Traceback" in err else []),
             observed=f"exit {lsp.returncode} in {time.monotonic() - started:.1f} s: {err.strip()[:90]}")
    pg = b.server("postgresql", "stall")
    if pg is None:
        return
    from sqlalchemy.engine import make_url
    from test_network_stall import FreezingProxy
    target = make_url(pg)
    proxy = FreezingProxy(target.host or "127.0.0.1", target.port or 5432, b"posts")
    try:
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        b.expect("what-if while the PostgreSQL network stalls (timeouts 2 s + 3 s)", "whatif", "--set", RATIO,
                 "--as-of", AS_OF, "--engine", "python", "--workers", "1", "-q", db=proxied, timeout=60,
                 env={"POLICY_DB_CONNECT_TIMEOUT": "2", "POLICY_DB_STATEMENT_TIMEOUT": "3"},
                 fragments=("did not answer within 5 s",), unchanged=False)
    finally:
        proxy.close()


ATTACKS = [attack_import_files, attack_nul_every_backend, attack_policy_files, attack_options, attack_huge_fractions,
           attack_durable_limits, attack_database, attack_output_text, attack_output_paths, attack_population_runs,
           attack_server, attack_records, attack_inputs, attack_server_load]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("POLICY_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--mysql", default=os.environ.get("POLICY_TEST_MYSQL_URL", DEFAULT_MYSQL))
    parser.add_argument("--only", help="run only the attack groups whose function name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    bench = Bench(None if args.pg == "none" else args.pg, None if args.mysql == "none" else args.mysql, args.keep)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; folder {bench.root}", flush=True)
    started = time.monotonic()
    try:
        for attack in ATTACKS:
            if args.only and args.only not in attack.__name__:
                continue
            bench.group = attack.__name__.removeprefix("attack_")
            try:
                attack(bench)
            except Exception as exc:        # the bench's own failure: a FAIL row, the others still run
                bench.record(attack.__name__, "the attack runs", None, [f"bench error {type(exc).__name__}: {exc}"])
    finally:
        bench.drop_servers()
        if not args.keep:
            shutil.rmtree(bench.root, ignore_errors=True)
    print()
    print(bench.table())
    totals = bench.totals()
    print()
    keys = list(totals)
    print("| group | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for group in dict.fromkeys(r.group for r in bench.rows):
        print(f"| {group} | " + " | ".join(str(v) for v in bench.totals(group).values()) + " |")
    print("| **all** | " + " | ".join(f"**{v}**" for v in totals.values()) + " |")
    print()
    print(", ".join(f"{k}: {v}" for k, v in totals.items()))
    print(f"{time.monotonic() - started:.0f} s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
