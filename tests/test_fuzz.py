"""Fuzzing the import format and the policy language: exit 0 or a diagnostic, never a traceback.

Generated documents, valid and broken. The CLI runs in-process with exceptions not caught,
so any traceback fails the example; a valid import must round-trip (export, import into an
empty store, export again: the same text). Examples are bounded to keep the suite fast.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import invoke
from cadre_policy.load.policyset import lint
from policy_builder import HEADER, write_set

FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.from_regex(r"\A[A-Z][A-Z0-9]{0,5}\Z")
names = st.text(st.characters(min_codepoint=0x4e00, max_codepoint=0x4e40), min_size=1, max_size=4)
dates = st.dates(min_value=__import__("datetime").date(1950, 1, 1),
                 max_value=__import__("datetime").date(2016, 12, 31)).map(lambda d: d.isoformat())
counts = st.integers(0, 2**31 - 1)

unit = st.fixed_dictionaries({"id": ids.map(lambda s: "U" + s), "name": names,
                              "kind": st.sampled_from(["department", "township", "government"]),
                              "level": st.sampled_from(["county", "township", "city"])})


@st.composite
def documents(draw):
    units = draw(st.lists(unit, min_size=1, max_size=3, unique_by=lambda u: u["id"]))
    unit_ids = [u["id"] for u in units]
    cadres = []
    for ident in draw(st.lists(ids.map(lambda s: "C" + s), max_size=4, unique=True)):
        cadre = {"id": ident, "name": draw(names), "gender": draw(st.sampled_from(["male", "female"])),
                 "birth_date": "1940-01-01", "party": draw(st.sampled_from(["cpc", "non_cpc"]))}
        posts = draw(st.lists(st.fixed_dictionaries({
            "unit": st.sampled_from(unit_ids), "title": names,
            "rank": st.sampled_from(["clerk", "section", "county"]),
            "principal": st.booleans(), "leadership": st.booleans(), "start": dates}), max_size=3))
        if posts:
            cadre["posts"] = posts
        reviews = []
        for total, dissatisfied, day in draw(st.lists(st.tuples(counts, counts, dates), max_size=2,
                                                      unique_by=lambda r: r[2])):
            total = max(total, 1)
            reviews.append({"date": day, "total": total, "dissatisfied": min(dissatisfied, total)})
        if reviews:
            cadre["reviews"] = reviews
        cadres.append(cadre)
    return {"units": units, "cadres": cadres}


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=10)


@st.composite
def broken_documents(draw):
    """A valid document with one value somewhere replaced by anything."""
    doc = draw(documents())
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append(key)
        node = node[key]
    if not path:
        return draw(json_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = draw(json_values)
    return doc


def _import(directory: Path, name: str, text: str):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return invoke(f"sqlite:///{directory / 'facts.db'}", "facts", "import", str(path))


@FUZZ
@given(documents(), st.sampled_from(["json", "yaml"]))
def test_valid_imports_round_trip(doc, fmt):
    import yaml
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "a", Path(folder) / "b"
        first.mkdir()
        second.mkdir()
        text = json.dumps(doc, ensure_ascii=False) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
        result = _import(first, f"in.{fmt}", text)
        assert result.exit_code == 0, result.stderr
        exported = invoke(f"sqlite:///{first / 'facts.db'}", "facts", "export").stdout
        assert _import(second, "out.yaml", exported).exit_code == 0
        assert invoke(f"sqlite:///{second / 'facts.db'}", "facts", "export").stdout == exported


@FUZZ
@given(broken_documents(), st.sampled_from(["json", "yaml"]))
def test_broken_imports_are_diagnostics(doc, fmt):
    import yaml
    with tempfile.TemporaryDirectory() as folder:
        text = json.dumps(doc, ensure_ascii=False) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
        result = _import(Path(folder), f"in.{fmt}", text)
        assert result.exit_code in (0, 2), result.stderr
        if result.exit_code == 2:
            assert result.stderr.strip().splitlines()[-1].startswith("Error: ")


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_as_an_import_file(text):
    with tempfile.TemporaryDirectory() as folder:
        for name in ("in.yaml", "in.json"):
            assert _import(Path(folder), name, text).exit_code in (0, 2)


FACTS = ["cadre.age", "cadre.gender", "latest_review.total", "current_post.start", "reviews", "cadre.nope"]
WORDS = ["以上", "超过", "eq", "in", "not_in", "within", "has", "gte", "bogus"]
VALUES = st.one_of(st.integers(-5, 10**40), st.sampled_from(["male", "1/0", "1/3", "2017-02-30", "2017-06-30",
                                                             "一", "yes"]), st.booleans(), st.none(),
                   st.lists(st.integers(0, 3), max_size=2), st.just({"years": 3}), st.just({"param": "x"}))


@st.composite
def conditions(draw, depth=0):
    if depth < 3 and draw(st.booleans()):
        word = draw(st.sampled_from(["all", "any", "not"]))
        if word == "not":
            return {"not": draw(conditions(depth + 1))}
        return {word: draw(st.lists(conditions(depth + 1), max_size=3))}
    return {"fact": draw(st.sampled_from(FACTS)), draw(st.sampled_from(WORDS)): draw(VALUES)}


@FUZZ
@given(conditions(), st.sampled_from(["when", "applies"]))
def test_generated_policy_conditions_lint_without_a_traceback(cond, key):
    body = ("derived:\n  latest_review: {title: 最近一次评议, latest: reviews}\nrules:\n"
            "  - id: r.x\n    title: 生成\n    provision: P004-5\n    quote: 原文\n"
            f"    {key}: {json.dumps(cond, ensure_ascii=False)}\n    finding: admonishment_talk\n")
    with tempfile.TemporaryDirectory() as folder:
        _, diagnostics = lint(write_set(Path(folder) / "p", {"gen": HEADER.format(id="gen") + body}))
        assert all(d.location.line >= 1 for d in diagnostics)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_as_a_policy_file(text):
    with tempfile.TemporaryDirectory() as folder:
        _, diagnostics = lint(write_set(Path(folder) / "p", {"gen": HEADER.format(id="gen") + text}))
        assert all(d.code for d in diagnostics)
