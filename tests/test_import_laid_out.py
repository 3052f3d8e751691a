"""The laid-out path of the JSON import (intake/fastcadre.py, intake/typed.py): a cadre on its own
line becomes the store's rows without its canonical form. The same rows as the old way, the
same verdict and words, on every backend."""
from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadre_policy.generate.population import generate
from cadre_policy.intake import streaming
from cadre_policy.intake.typed import fast_text
from cadre_policy.store.fact_store import FactStore
from cadre_policy.store.rows import TABLES
from test_import_stream import TRICKY, _one_per_line, _same, _streamed, _whole

@cache
def _generated() -> str:
    units, cadres = generate(120, seed=3)
    return json.dumps({"units": units, "cadres": list(cadres)}, default=dt.date.isoformat, ensure_ascii=False)


def _population() -> dict:
    doc = json.loads(_generated())
    units = doc["units"]
    extra = copy.deepcopy(doc["cadres"][:12])
    for n, cadre in enumerate(extra):                  # the shapes the generator does not write
        cadre["id"] = f"X{n}"
        if n == 0:
            cadre.pop("education", None)
        if n == 1 and cadre.get("posts"):
            cadre["posts"].reverse()
            cadre["posts"][0]["grassroots"] = True
        if n == 2:
            cadre["appraisals"] = [{"year": 2015, "grade": "excellent"}, {"year": 2014, "grade": "competent",
                                                                             "date": "2015-01-10"}]
        if n == 3:
            cadre["reviews"] = [{"date": "2016-03-01", "total": 5, "dissatisfied": 2, "rectification": [
                {"stage": "six_month", "date": "2016-09-01", "result": "effective"},
                {"stage": "three_month", "date": "2016-09-01", "result": "ineffective"}]}]
        if n == 4:
            cadre["nominations"] = [{"date": "2016-01-02", "target_rank": "county", "target_unit": units[0]["id"],
                                     "exceptional": True},
                                    {"date": "2015-01-02", "target_rank": "section", "target_unit": units[1]["id"]}]
        if n == 5:
            cadre["sanctions"] = [{"date": "2012-01-01", "kind": "party_probation", "years": 2, "note": "注"},
                                  {"date": "2011-01-01", "kind": "admonishment"}]
        if n == 6:
            for key in ("recruitment", "work_start", "ethnicity", "native_region", "status"):
                cadre.pop(key, None)
        if n == 7:
            cadre["educations"] = [{"level": "master", "mode": "in_service", "date": "2010-01-01", "major": "法学"},
                                   {"level": "bachelor", "mode": "full_time", "date": "2005-01-01",
                                    "degree": "bachelor_degree"}]
            cadre.pop("education", None)
        if n == 8:
            cadre["opinions"] = [{"department": "discipline", "date": "2016-02-01", "adverse": True}]
            cadre["assessments"] = [{"date": "2016-02-01", "kind": "special", "prominent_problems": False}]
            cadre["polls"] = [{"date": "2016-02-01", "approve": 3, "total": 3}]
    doc["cadres"] += extra
    return doc


def _tables(url: str) -> dict:
    with FactStore(url) as store, store.engine.connect() as conn:
        return {table.name: sorted(map(tuple, conn.execute(table.select())), key=repr) for table in TABLES}


def _import(url: str, path: Path, laid_out: bool, monkeypatch) -> streaming.UpsertResult:
    with monkeypatch.context() as patch:
        if not laid_out:
            patch.setattr(streaming, "_cadre_decoder", lambda: None)
        with FactStore(url) as store:
            return streaming.import_files(store, [str(path)])


@pytest.fixture(params=[False, True], ids=["here", "child"])
def in_child(request, monkeypatch):
    """Checked in this process, or in a forked child while this one writes (intake/child.py)."""
    monkeypatch.setenv("POLICY_IMPORT_CHILD_MB", "0" if request.param else "off")
    if request.param:           # other tests of the suite may leave threads running, which turns the child off
        monkeypatch.setattr(streaming, "can_fork", lambda: True)
    return request.param


def test_laid_out_rows_are_the_old_ways(tmp_path, monkeypatch, in_child):
    doc = _population()
    path = tmp_path / "in.json"
    path.write_text(_one_per_line(doc), encoding="utf-8")
    laid = _import(f"sqlite:///{tmp_path / 'a.db'}", path, True, monkeypatch)
    old = _import(f"sqlite:///{tmp_path / 'b.db'}", path, False, monkeypatch)
    assert laid == old and laid.cadres.added == len(doc["cadres"])
    assert _tables(f"sqlite:///{tmp_path / 'a.db'}") == _tables(f"sqlite:///{tmp_path / 'b.db'}")


def test_the_population_is_laid_out(tmp_path):
    """Every generated cadre takes the laid-out path (else the figures measure the old way)."""
    from cadre_policy.intake.fastcadre import FastCadres
    laid_out = FastCadres(streaming._cadre_decoder()[0], fast_text)
    for cadre in _population()["cadres"]:
        assert laid_out.add(json.dumps(cadre, ensure_ascii=False)) is not None, cadre["id"]


def test_laid_out_import_again_and_changed(store_url, tmp_path, monkeypatch, in_child):
    """On every backend: a second import of the same file changes nothing, a changed cadre is
    replaced whole, with the old way's counts and rows."""
    doc = _population()
    path = tmp_path / "in.json"
    path.write_text(_one_per_line(doc), encoding="utf-8")
    assert _import(store_url, path, True, monkeypatch).cadres.added == len(doc["cadres"])
    again = _import(store_url, path, True, monkeypatch)
    assert (again.cadres.added, again.cadres.updated, again.cadres.unchanged) == (0, 0, len(doc["cadres"]))
    doc["cadres"][5]["name"] = "改名"
    doc["cadres"][6]["opinions"] = [{"department": "mass_work", "date": "2016-02-01", "adverse": False}]
    path.write_text(_one_per_line(doc), encoding="utf-8")
    changed = _import(store_url, path, True, monkeypatch)
    assert (changed.cadres.updated, changed.cadres.unchanged) == (2, len(doc["cadres"]) - 2)
    if store_url.startswith("sqlite"):
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        _import(fresh, path, False, monkeypatch)
        assert _tables(store_url) == _tables(fresh)


def test_rejected_in_the_child_nothing_written(run_cli, sqlite_url, tmp_path, monkeypatch):
    """The child's issues are the parent's words, the batches written before are rolled back."""
    monkeypatch.setenv("POLICY_IMPORT_CHILD_MB", "0")
    monkeypatch.setattr(streaming, "can_fork", lambda: True)    # as in_child
    monkeypatch.setattr(streaming, "BATCH", 5)
    doc = _population()
    doc["cadres"][40]["birth_date"] = "2999-01-01"
    doc["cadres"][60]["id"] = doc["cadres"][3]["id"]
    path = tmp_path / "in.json"
    path.write_text(_one_per_line(doc), encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", path)
    assert result.exit_code == 2
    whole = [f"{x}" for x in sorted(_whole([str(path)]), key=lambda x: (x.line, x.column))]
    assert result.stderr.splitlines()[:-1] == whole and len(whole) >= 2
    assert run_cli(sqlite_url, "facts", "list").stdout == ""


def test_a_checker_that_dies_is_a_message_and_writes_nothing(run_cli, sqlite_url, tmp_path, monkeypatch):
    """The checking child killed mid-import (the kernel's OOM killer, say): one line, exit 2, no rows."""
    import os
    from cadre_policy.intake import child
    monkeypatch.setenv("POLICY_IMPORT_CHILD_MB", "0")
    monkeypatch.setattr(streaming, "can_fork", lambda: True)    # as in_child
    monkeypatch.setattr(child, "_child", lambda batches, send: os._exit(9))
    path = tmp_path / "in.json"
    path.write_text(_one_per_line(_population()), encoding="utf-8")
    result = run_cli(sqlite_url, "--lang", "zh", "facts", "import", path)
    assert result.exit_code == 2 and "校验进程" in result.stderr and "退出状态 9" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli(sqlite_url, "facts", "list").stdout == ""


DATES = st.sampled_from(["1899-12-31", "1900-01-01", "1939-12-31", "1960-05-05", "2016-01-01", "2016-09-01",
                         "3000-01-01", "2016-02-30"])


@st.composite
def mutated_population(draw):
    """Generated cadres (every record kind) with a few values replaced, records repeated or keys dropped."""
    doc = _population()
    doc["cadres"] = draw(st.lists(st.sampled_from(doc["cadres"]), min_size=1, max_size=6, unique_by=id))
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        node, parent, key = draw(st.sampled_from(doc["cadres"])), None, None
        while isinstance(node, (dict, list)) and node and (parent is None or draw(st.booleans())):
            parent, key = node, draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            node = node[key]
        how = draw(st.sampled_from(["value", "date", "repeat", "drop"]))
        if how == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(node))
        elif how == "drop" and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = copy.deepcopy(draw(DATES if how == "date" else TRICKY))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_population(), st.sampled_from([(",", ":"), (", ", ": ")]))
def test_laid_out_issues_are_the_whole_readers(doc, separators):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.json"
        path.write_text(_one_per_line(doc, separators), encoding="utf-8")
        _same(_streamed([str(path)]), _whole([str(path)]))


@pytest.mark.parametrize("text,fast", [
    ('{"a":"1990-01-01"}', True), ('{"a":"2999-12-31"}', True), ('{"a":"1899-12-31"}', False),
    ('{"a":"3000-01-01"}', False), ('{"a":null}', False), ('{"a":"x\\n"}', False), ('{"a":"\x85"}', False), ('{"a":"\x7f"}', False), ('{"a":"\xa0"}', True),
    ('{"a":"阿·热"}', True)])
def test_fast_text(text, fast):
    assert fast_text(text.encode()) is fast


def test_rows_without_texts_cannot_be_compared():
    """Texts are left out when the store had no cadre at the start; if it has one of these ids by
    the time of writing, another import wrote it meanwhile: refused as a collision."""
    import pickle
    from cadre_policy.store.errors import ImportCollisionError
    from cadre_policy.store.rows import Rows
    rows = Rows(sources=False)
    rows.lists[0].append(("C1",) + (None,) * 16)
    again = pickle.loads(pickle.dumps(rows))
    assert again.lists == rows.lists and again.sources is None and again.ids() == ["C1"]
    with pytest.raises(ImportCollisionError):
        again.document(0)
