"""The conformance corpus notices a one-line change in any derivation.

Each mutation below changes one line of a derivation (a tie-break, the end of a window, the day a
post stops being held) in a copy of the package; the corpus (tests/test_conformance.py: the
per-cadre derivation, the population derivation and engine in columns, the Kleene evaluator) must
fail on the copy. A mutation
the corpus lets through means an edge of the language has no case: add one to the corpus.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow      # 17 runs of the corpus in subprocesses: ~1 minute

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "cadre_policy"

#: (file below the package, the text as it is, the text mutated, what the mutation breaks)
MUTATIONS = [
    ("run/derive.py", "day >= best[field]", "day > best[field]", "latest: a same-date tie goes to the earlier record"),
    ("run/derive.py", "return min(dated, key=", "return min(dated[::-1], key=", "first: a tie goes to the later record"),
    ("run/derive.py", "r[field] >= start]", "r[field] > start]", "count within: the window's first day left out"),
    ("run/derive.py", "r[field] <= as_of]", "r[field] < as_of]", "records of the evaluation day left out"),
    ("run/derive.py", "r[field] >= since]", "r[field] > since]", "count since: the day itself left out"),
    ("run/derive.py", 'p["end"] + timedelta(days=1)', 'p["end"]', "duration: a post's last day not counted"),
    ("language/posts.py", "end >= day", "end > day", "a post ending on the day is no longer held"),
    ("language/posts.py", "max(held, key=", "max(held[::-1], key=", "current: a tie goes to the later post"),
    ("run/columnar/derive.py", "[dated.values, np.arange(records.n)], self.n, last=last)",
     "[dated.values, -np.arange(records.n)], self.n, last=last)", "columns: latest/first ties reversed"),
    ("run/columnar/derive.py", "order = -np.arange(posts.n)", "order = np.arange(posts.n)",
     "columns: current post ties reversed"),
    ("run/columnar/derive.py", "(~end.mask | (end.values >= day))", "(~end.mask | (end.values > day))",
     "columns: a post ending on the day is no longer held"),
    ("run/columnar/derive.py", "(dated.values >= self._window_starts(spec)[records.cadre])",
     "(dated.values > self._window_starts(spec)[records.cadre])", "columns: the window's first day left out"),
    ("run/columnar/derive.py", "(dated.values >= since.values[records.cadre])",
     "(dated.values > since.values[records.cadre])", "columns: count since leaves out the day itself"),
    ("run/columnar/derive.py", "(dated.values <= day[records.cadre])", "(dated.values < day[records.cadre])",
     "columns: records of the evaluation day left out"),
    ("run/columnar/derive.py", "np.where(end.mask, end.values + 1, row_on)", "np.where(end.mask, end.values, row_on)",
     "columns: duration leaves out a post's last day"),
    ("language/model.py", '"超过": ">", "gt": ">"', '"超过": ">=", "gt": ">"', "超过 read as 以上 (every engine)"),
    ("language/kleene.py", "return False if False in results else (None if None in results else True)",
     "return False if False in results else True", "kleene: an unknown part of all read as true"),
]


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """A fresh copy of the package per mutation (made lazily)."""
    base = tmp_path_factory.mktemp("mutants")

    def make(i: int) -> Path:
        root = base / f"m{i}"
        shutil.copytree(PACKAGE, root / "cadre_policy", ignore=shutil.ignore_patterns("__pycache__"))
        return root
    return make


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[3] for m in MUTATIONS])
def test_the_corpus_catches_the_mutation(copies, mutation):
    file, before, after, _what = mutation
    source = (PACKAGE / file).read_text(encoding="utf-8")
    assert source.count(before) == 1, f"{file}: '{before}' should occur once (the code moved: update the mutation)"
    root = copies(MUTATIONS.index(mutation))
    (root / "cadre_policy" / file).write_text(source.replace(before, after), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(ROOT / "tests")]),
               POLICY_CACHE="off")
    run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "test_conformance.py"), "-k", "derivation or population or kleene"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, f"the corpus did not notice: {_what}\n{run.stdout[-1500:]}{run.stderr[-1500:]}"
