"""The streamed import (intake/streaming.py, parse/stream.py): the same verdict and the same
messages, with their places, as reading each file whole; all or nothing across batches."""
from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadre_policy.intake import importer, streaming
from cadre_policy.parse.issues import ImportRejected
from cadre_policy.intake.streaming import import_files
from cadre_policy.intake.importer import read_files, validate
from test_fuzz import broken_documents, documents

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _whole(files: list[str]) -> list:
    """The issues of the whole-document reader (read_document + validate)."""
    docs, issues = read_files(files)
    return issues + validate(docs, ())


class _Validating:
    """A store that holds nothing and writes nothing: the streamed import only validates."""

    def units(self) -> dict:
        return {}

    def upsert_batches(self, batches) -> None:
        for _ in batches:
            pass


def _streamed(files: list[str], _folder=None) -> list:
    try:
        import_files(_Validating(), files)
    except ImportRejected as exc:
        return exc.issues
    return []


def _same(streamed: list, whole: list) -> None:
    """The same problems at the same places; where the whole reader had no place (JSON that
    YAML cannot compose, e.g. a raw U+007F), the streamed one may name it."""
    assert sorted((x.file, x.path, x.message) for x in streamed) == sorted((x.file, x.path, x.message) for x in whole)
    placed = {(x.file, x.path, x.message, x.line, x.column) for x in whole if x.line}
    assert placed <= {(x.file, x.path, x.message, x.line, x.column) for x in streamed}


def _text(doc, fmt: str) -> str:
    if fmt == "lines":
        return _one_per_line(doc)
    return json.dumps(doc, ensure_ascii=False, indent=1) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)


def _one_per_line(doc, separators=(",", ":")) -> str:
    """JSON with each record on its own line, as ``facts generate`` writes it (the laid-out path)."""
    if not isinstance(doc, dict):
        return json.dumps(doc, ensure_ascii=False)
    entries = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            records = ",\n".join(json.dumps(x, ensure_ascii=False, separators=separators) for x in value)
            entries.append(f"{json.dumps(key, ensure_ascii=False)}:[\n{records}\n]")
        else:
            entries.append(f"{json.dumps(key, ensure_ascii=False)}:{json.dumps(value, ensure_ascii=False)}")
    return "{" + ",\n".join(entries) + "}\n"


def _suffix(fmt: str) -> str:
    return "json" if fmt == "lines" else fmt


@SETTINGS
@given(st.one_of(documents(), broken_documents()), st.sampled_from(["json", "yaml", "lines"]))
def test_streamed_issues_are_the_whole_readers(doc, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"in.{_suffix(fmt)}"
        path.write_text(_text(doc, fmt), encoding="utf-8")
        _same(_streamed([str(path)], Path(folder)), _whole([str(path)]))


def _records(doc):
    for kind in ("units", "cadres"):
        items = doc.get(kind) if isinstance(doc, dict) else None
        for item in items if isinstance(items, list) else ():
            yield kind, item


TRICKY = st.sampled_from([True, False, 1, 0, -1, 1.0, 16.0, 2**31 - 1, 2**31, 10**30, float("inf"), None, "",
                          "x" * 101, "1970-02-30", "1970-1-1", "1970-01-01", "0001-01-01", "yes", "male",
                          "cpc", "county", "U1", [], {}, [1, 1], ["a", "a"], ["a", "b"], {"id": "U1"}])


@st.composite
def mutated_records(draw):
    """A valid document with a few values (anywhere in a record) replaced by tricky ones."""
    doc = draw(documents())
    for _ in range(draw(st.integers(1, 3))):
        node, parent, key = doc, None, None
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            parent, key = node, draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            node = node[key]
        if parent is not None:
            value = draw(TRICKY | st.just({**node, "extra": 1}) if isinstance(node, dict) else TRICKY)
            parent[key] = copy.deepcopy(value)      # the constants are shared between examples
    return doc


@settings(max_examples=150, deadline=None)
@given(st.one_of(documents(), broken_documents(), mutated_records()))
def test_fast_check_is_sound(doc):
    """The fast check never passes a record jsonschema refuses (so the import decides exactly as before)."""
    from cadre_policy.parse.schemas import record_validator
    fast = importer.fast_checks()
    for kind, item in _records(doc):
        if fast[kind](item):
            assert not list(record_validator(kind).iter_errors(item)), item


@settings(max_examples=50, deadline=None)
@given(documents())
def test_fast_check_passes_valid_records(doc):
    fast = importer.fast_checks()
    assert all(fast[kind](item) for kind, item in _records(doc))


@settings(max_examples=100, deadline=None)
@given(st.one_of(documents(), broken_documents(), mutated_records()))
def test_whole_document_schema_issues_record_by_record_are_jsonschemas(doc):
    """validate() checks a parsed document (a workbook, posted facts) record by record, the fast
    check first: the issues are jsonschema's on the whole document, no more and no fewer."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.json"
        path.write_text(_text(doc, "json"), encoding="utf-8")
        docs, _ = read_files([str(path)])
    for parsed in docs:
        fast = sorted((x.path, x.line, x.column, x.message) for x in importer.document_schema_issues(parsed))
        whole = sorted((x.path, x.line, x.column, x.message) for x in importer.schema_issues(parsed))
        assert fast == whole
        walked = sorted((x.path, x.message) for x in importer.text_issues(parsed))
        assert sorted((x.path, x.message) for x in importer.document_text_issues(parsed)) == walked


def test_whole_document_text_issues_find_what_the_walk_finds():
    from cadre_policy.parse.positioned import Document
    cadre = {"id": "C1", "name": "张\x07三", "posts": [{"title": "镇长\x85", "start": "0001-01-01"}],
             "birth_date": "1970-01-01"}
    doc = Document("posted.json", {"units": [{"id": "U\x00"}], "cadres": [cadre, {"id": "C2", "name": "李四"}]})
    walked = sorted((x.path, x.message) for x in importer.text_issues(doc))
    assert len(walked) == 4
    assert sorted((x.path, x.message) for x in importer.document_text_issues(doc)) == walked


@SETTINGS
@given(mutated_records(), st.sampled_from(["json", "yaml", "lines"]))
def test_streamed_issues_on_mutated_records(doc, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"in.{_suffix(fmt)}"
        path.write_text(_text(doc, fmt), encoding="utf-8")
        _same(_streamed([str(path)]), _whole([str(path)]))


# ---- places, all or nothing, order of files --------------------------------------------------

UNITS = [{"id": "U1", "name": "单位一", "kind": "department", "level": "county"}]


def _cadre(n: int, **fields) -> dict:
    return {"id": f"C{n}", "name": "王五", "gender": "male", "birth_date": "1970-01-01", "party": "cpc",
            "posts": [{"unit": "U1", "title": "局长", "rank": "county", "principal": True, "leadership": True,
                       "start": "2010-01-01"}], **fields}


def _lines(result) -> list[str]:
    return result.stderr.splitlines()


@pytest.fixture
def one_per_batch(monkeypatch):
    """Every cadre its own batch: the earlier records are written before the bad one is read."""
    monkeypatch.setattr(streaming, "BATCH", 1)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_error_in_the_third_record_names_its_place_and_nothing_is_written(run_cli, sqlite_url, tmp_path, fmt,
                                                                        one_per_batch):
    cadres = [_cadre(1), _cadre(2), _cadre(3, polls=[{"date": "2017-02-10", "approve": 11, "total": 10}]), _cadre(4)]
    file = tmp_path / f"in.{fmt}"
    if fmt == "json":
        file.write_text('{"units": [\n' + json.dumps(UNITS[0], ensure_ascii=False) + '\n],\n"cadres": [\n'
                        + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cadres) + "\n]}\n", encoding="utf-8")
        text = file.read_text(encoding="utf-8").splitlines()
        line = next(n for n, x in enumerate(text, 1) if '"approve": 11' in x)
        column = text[line - 1].index('11') + 1
    else:
        file.write_text(yaml.safe_dump({"units": UNITS, "cadres": cadres}, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        text = file.read_text(encoding="utf-8").splitlines()
        line = next(n for n, x in enumerate(text, 1) if "approve: 11" in x)
        column = text[line - 1].index("11") + 1
    result = run_cli(sqlite_url, "facts", "import", file)
    assert result.exit_code == 2
    assert _lines(result) == [f"{file}:{line}:{column}: $.cadres[2].polls[0].approve: approve 11 is greater than "
                              f"total 10", "Error: import rejected: 1 error, nothing written"]
    assert run_cli(sqlite_url, "facts", "list").stdout == ""
    assert run_cli(sqlite_url, "facts", "export", "--format", "json").stdout.count('"id"') == 0


def test_a_rejected_import_leaves_earlier_contents_unchanged(run_cli, store_url, tmp_path, one_per_batch):
    """Batches already written in the transaction are rolled back, on every backend."""
    sqlite_url = store_url
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"units": UNITS, "cadres": [_cadre(1)]}), encoding="utf-8")
    assert run_cli(sqlite_url, "facts", "import", good).exit_code == 0
    before = run_cli(sqlite_url, "facts", "export").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"cadres": [_cadre(1, name="赵六"), _cadre(2), _cadre(3)]}, allow_unicode=True)
                   + "extra: &a [1]\nmore: *a\n", encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", bad)
    assert result.exit_code == 2 and "aliases (*name) are not allowed" in result.stderr
    assert run_cli(sqlite_url, "facts", "export").stdout == before


QUOTED_U1 = '"U1"'


def test_unit_defined_in_a_later_file(run_cli, sqlite_url, tmp_path, one_per_batch):
    cadres, units = tmp_path / "cadres.json", tmp_path / "units.yaml"
    cadres.write_text(json.dumps({"cadres": [_cadre(1), _cadre(2)]}, ensure_ascii=False, indent=1), encoding="utf-8")
    units.write_text(yaml.safe_dump({"units": UNITS}, allow_unicode=True), encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", cadres, units)
    assert result.exit_code == 0, result.stderr
    assert "2 added" in result.stdout.splitlines()[1]
    # without the file that defines it, each use is named in the file that uses it
    lonely = tmp_path / "lonely.db"
    result = run_cli(f"sqlite:///{lonely}", "facts", "import", cadres)
    assert result.exit_code == 2
    text = cadres.read_text(encoding="utf-8").splitlines()
    lines = [n for n, x in enumerate(text, 1) if '"unit": "U1"' in x]
    places = [f"{cadres}:{n}:{text[n - 1].index(QUOTED_U1) + 1}" for n in lines]
    assert [x.split(": ")[0] for x in _lines(result)[:-1]] == places
    assert all("unknown unit id 'U1'" in x for x in _lines(result)[:-1])


def test_unit_after_the_cadres_that_use_it(run_cli, sqlite_url, tmp_path):
    file = tmp_path / "in.yaml"
    file.write_text(yaml.safe_dump({"cadres": [_cadre(1)], "units": UNITS}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    assert run_cli(sqlite_url, "facts", "import", file).exit_code == 0
    assert run_cli(sqlite_url, "facts", "show", "C1").exit_code == 0


def test_many_errors_are_counted_and_the_first_reported(run_cli, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "MAX_REPORTED", 3)
    file = tmp_path / "in.json"
    file.write_text(json.dumps({"units": UNITS, "cadres": [_cadre(n, gender="x") for n in range(7)]}, indent=1))
    lines = _lines(run_cli(sqlite_url, "facts", "import", file))
    assert lines[-1] == "Error: import rejected: 7 errors, nothing written"
    assert [x.split(": ")[1] for x in lines[:-1]] == [f"$.cadres[{n}].gender" for n in range(3)]


def test_syntax_error_after_records_is_reported_once(run_cli, sqlite_url, tmp_path):
    file = tmp_path / "in.yaml"
    file.write_text(yaml.safe_dump({"units": UNITS, "cadres": [_cadre(1), _cadre(2)]}, allow_unicode=True,
                                   sort_keys=False) + "- [oops\n", encoding="utf-8")
    lines = _lines(run_cli(sqlite_url, "facts", "import", file))
    assert len(lines) == 2 and "YAML syntax error" in lines[0] and lines[-1].endswith("1 error, nothing written")


def test_duplicate_keys_inside_a_json_record(run_cli, sqlite_url, tmp_path):
    file = tmp_path / "in.json"
    file.write_text('{"units": [], "cadres": [\n{"id": "C1", "name": "王五", "name": "赵六", "gender": "male",\n'
                    ' "birth_date": "1970-01-01", "party": "cpc", "party": "cpc"}]}', encoding="utf-8")
    lines = _lines(run_cli(sqlite_url, "facts", "import", file))
    assert lines[:-1] == [f"{file}:2:28: $.cadres[0].name: duplicate key 'name' (first at line 2)",
                          f"{file}:3:46: $.cadres[0].party: duplicate key 'party' (first at line 3)"]
    assert lines[:-1] == [str(x) for x in sorted(_whole([str(file)]), key=lambda x: (x.line, x.column))]


@settings(max_examples=40, deadline=None)
@given(st.one_of(documents(), mutated_records()))
def test_pure_python_parser_reads_as_libyaml(doc):
    """Without libyaml (or when it refuses a file) the pure-Python parser gives the same records and issues."""
    from cadre_policy.parse import stream
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True) + "cadres: 1\n", encoding="utf-8")
        fast = list(stream.read_records(str(path)))
        saved, stream.FastBoundedLoader = stream.FastBoundedLoader, None
        try:
            slow = list(stream.read_records(str(path)))
        finally:
            stream.FastBoundedLoader = saved

    def shown(items):
        return [(x.prefix, x.data, x.line) if isinstance(x, stream.Fragment) else str(x) for x in items]
    assert shown(fast) == shown(slow)


@pytest.mark.parametrize("text", [
    "{[1]: 2}\nfoo: [\n",                                   # unhashable key, then a syntax error
    "cadres:\n- !foo {id: X1}\n- [\n",                       # unknown tag, then a syntax error
    "cadres:\n- {? [a]: 1}\n- *x\n",                         # unhashable key, then an alias
    "cadres:\n- !foo {id: X1}\n",                            # unknown tag alone
    "cadres:\n- {id: !foo X1}\n---\nmore: 1\n",              # unknown scalar tag, then a second document
], ids=["unhashable_then_syntax", "tag_then_syntax", "unhashable_then_alias", "tag", "tag_then_document"])
def test_what_cannot_be_built_waits_for_the_rest_of_the_file(tmp_path, text):
    """The whole reader composed the file before building values: a later syntax error, alias or
    second document is what it reported, and so does the streamed one."""
    path = tmp_path / "in.yaml"
    path.write_text(text, encoding="utf-8")
    whole = _whole([str(path)])
    assert len(whole) == 1 and [str(x) for x in _streamed([str(path)])] == [str(whole[0])]


@settings(max_examples=60, deadline=None)
@given(st.one_of(documents(), mutated_records(), broken_documents()), st.integers(1, 40))
def test_json_read_in_small_chunks(doc, chunk):
    """Records, keys and numbers cut by the end of the buffer read as when the file is read at once."""
    from cadre_policy.parse import stream
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.json"
        path.write_text(_text(doc, "json"), encoding="utf-8")
        saved, stream._CHUNK = stream._CHUNK, chunk
        try:
            small = _streamed([str(path)])
        finally:
            stream._CHUNK = saved
        assert small == _streamed([str(path)])
        _same(small, _whole([str(path)]))


@pytest.mark.parametrize("text", ["11.5", "1e5", '{"cadres": [1.25e3]}', '{"units": -0.5}', '"2019"', "[true]"])
def test_json_values_cut_at_every_place(tmp_path, text):
    from cadre_policy.parse import stream
    path = tmp_path / "in.json"
    path.write_text(text, encoding="utf-8")
    whole = [str(x) for x in _whole([str(path)])]
    for chunk in range(1, len(text) + 1):
        saved, stream._CHUNK = stream._CHUNK, chunk
        try:
            assert [str(x) for x in _streamed([str(path)])] == whole, chunk
        finally:
            stream._CHUNK = saved


def test_unknown_units_beyond_the_places_kept_are_counted(run_cli, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "MAX_PLACES_PER_UNIT", 2)
    file = tmp_path / "in.json"
    file.write_text(json.dumps({"cadres": [_cadre(n) for n in range(5)]}, indent=1))
    lines = _lines(run_cli(sqlite_url, "facts", "import", file))
    assert lines[-1] == "Error: import rejected: 5 errors, nothing written"
    assert [x.split(": ")[1] for x in lines[:-1]] == ["$.cadres[0].posts[0].unit", "$.cadres[1].posts[0].unit"]
