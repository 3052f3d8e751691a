"""Red-team attacks on inputs, options and the database: each a one-line error, exit 2, store unchanged.

Every input is generated here, small. A traceback fails the test by itself (the CLI runs
in-process with ``catch_exceptions=False``).
"""
from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import threading

import pytest
from click.testing import CliRunner

from conftest import SAMPLE, invoke
from cadre_policy.cli import main
from cadre_policy.parse.limits import MAX_DEPTH, MAX_EXPANDED_NODES
from policy_builder import HEADER, write_set

CADRE = {"id": "X1", "name": "张三", "gender": "male", "birth_date": "1970-01-01", "party": "cpc"}


def _cadre(**fields) -> dict:
    return {**CADRE, **fields}


def _review(total, dissatisfied=1) -> dict:
    return {"date": "2016-01-01", "total": total, "dissatisfied": dissatisfied}


def _dump(store_url) -> str:
    result = invoke(store_url, "facts", "export", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The sample city in an SQLite store (refused before any write, so one backend is enough;
    text refused alike on every backend: see test_control_characters_refused_on_every_backend);
    the URL and the export before the attack."""
    url = f"sqlite:///{tmp_path_factory.mktemp('loaded') / 'facts.db'}"
    assert invoke(url, "facts", "import", str(SAMPLE)).exit_code == 0
    return url, _dump(url)


def _one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return result.stderr


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))

# (id, file name, file text, fragments the error must name: place and reason)
IMPORT_ATTACKS = [
    ("int_10e30_yaml", "a.yaml", "cadres:\n- " + json.dumps(_cadre(reviews=[_review(10**30)])) + "\n",
     ["a.yaml:2:", "$.cadres[0].reviews[0].total", "maximum"]),
    ("int_10e30_json", "a.json", json.dumps({"cadres": [_cadre(reviews=[_review(10**30)])]}),
     ["$.cadres[0].reviews[0].total", "maximum"]),
    ("int_3e9_poll", "a.json", json.dumps({"cadres": [_cadre(polls=[{"date": "2016-01-01", "approve": 1,
                                                                      "total": 3_000_000_000}])]}),
     ["$.cadres[0].polls[0].total", "2147483647"]),
    ("int_5000_digits", "a.json", '{"cadres": [{"id": "X1", "n": ' + "9" * 5000 + "}]}", ["a.json", "digits"]),
    ("nested_json", "a.json", '{"cadres": ' + "[" * 5000 + "]" * 5000 + "}", ["a.json", f"deeper than {MAX_DEPTH}"]),
    ("nested_yaml", "a.yaml", "cadres: " + "[" * 5000 + "]" * 5000 + "\n", ["a.yaml:1:", f"deeper than {MAX_DEPTH}"]),
    ("alias_bomb", "a.yaml", BOMB, ["a.yaml:2:", "aliases (*name) are not allowed"]),
    ("alias_merge", "a.yaml", "base: &b {party: cpc}\ncadres:\n- {<<: *b, id: X1}\n", ["a.yaml:3:", "aliases"]),
    ("nul_in_name", "a.json", json.dumps({"cadres": [_cadre(name="张\x00三")]}), ["$.cadres[0].name", "U+0000"]),
    ("esc_in_name", "a.json", json.dumps({"cadres": [_cadre(name="张\x1b[2J三")]}), ["$.cadres[0].name", "U+001B"]),
    ("c1_in_name", "a.yaml", 'cadres:\n- {id: X1, name: "张\\x9b三", gender: male, birth_date: 1970-01-01, '
                             'party: cpc}\n', ["a.yaml:2:", "U+009B"]),
    ("yaml11_yes", "a.yaml", "cadres:\n- {id: X1, name: 张三, gender: male, birth_date: 1970-01-01, party: cpc,\n"
                             "   recruitment: {date: 1990-01-01, fresh_graduate: yes}}\n",
     ["a.yaml:3:", "'yes' is not of type 'boolean'"]),
    ("json_float_int", "a.json", json.dumps({"cadres": [_cadre(reviews=[_review(16.0)])]}),
     ["$.cadres[0].reviews[0].total", "16.0 is not of type 'integer'"]),
    ("date_year_1", "a.json", json.dumps({"cadres": [_cadre(birth_date="0001-01-01")]}),
     ["$.cadres[0].birth_date", "outside 1900-01-01..2999-12-31"]),
    ("date_year_9999", "a.yaml", "cadres:\n- {id: X1, name: 张三, gender: male, birth_date: 9999-12-31, party: cpc}\n",
     ["a.yaml:2:", "outside"]),
]


@pytest.mark.parametrize("name,text,fragments", [a[1:] for a in IMPORT_ATTACKS], ids=[a[0] for a in IMPORT_ATTACKS])
def test_hostile_import_is_refused_with_its_place(loaded, tmp_path, name, text, fragments):
    store_url, before = loaded
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    stderr = _one_line_error(invoke(store_url, "facts", "import", str(path)), *fragments)
    assert "nothing written" in stderr.splitlines()[-1]
    assert _dump(store_url) == before


@pytest.mark.parametrize("name", ["张\x00三", "张\x1b]0;title\x07三"], ids=["nul", "osc"])
def test_control_characters_refused_on_every_backend(store_url, tmp_path, name):
    path = tmp_path / "nul.json"
    path.write_text(json.dumps({"cadres": [_cadre(name=name)]}))
    _one_line_error(invoke(store_url, "facts", "import", str(path)), "$.cadres[0].name", "control character")
    assert invoke(store_url, "facts", "list").stdout == ""


def test_largest_column_value_is_accepted(sqlite_url, tmp_path):
    path = tmp_path / "max.json"
    path.write_text(json.dumps({"cadres": [_cadre(reviews=[_review(2**31 - 1, 2**31 - 1)])]}))
    assert invoke(sqlite_url, "facts", "import", str(path)).exit_code == 0


# ---- policy and draft files ----------------------------------------------------------------

def _lint(directory):
    return CliRunner().invoke(main, ["lint", str(directory)], catch_exceptions=False)


@pytest.mark.parametrize("body,fragment", [
    ("rules: " + "[" * 5000 + "]" * 5000 + "\n", f"deeper than {MAX_DEPTH} levels"),
    (BOMB, f"beyond {MAX_EXPANDED_NODES:,} values"),
    ("a: &a [x]\nb: &b [*a, *a]\nc: &c " + "[" * 40 + "*b" + "]" * 40 + "\nd: " + "[" * 40 + "*c" + "]" * 40 + "\n",
     "aliases nest this document deeper"),
    ("rules:\n" + "  - x\n" * 10 + "x: " + "y" * (5 * 1024 * 1024) + "\n", "policy and draft files have at most"),
], ids=["nested", "alias_bomb", "alias_depth", "size"])
def test_hostile_policy_file_is_a_lint_error(tmp_path, body, fragment):
    directory = write_set(tmp_path / "p", {"bad": HEADER.format(id="bad") + body})
    result = _lint(directory)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "bad.yaml:" in result.output and "E001" in result.output and fragment in result.output


RULE = """\
derived:
  last_review: {title: 最近一次评议, latest: reviews}
rules:
  - id: r.x
    title: 比例
    provision: P004-5
    quote: 原文
    when: {ratio: [last_review.dissatisfied, last_review.total], 超过: %s}
    finding: admonishment_talk
"""


def test_division_by_zero_in_a_fraction_is_a_lint_error(tmp_path):
    directory = write_set(tmp_path / "p", {"bad": HEADER.format(id="bad") + RULE % "1/0"})
    result = _lint(directory)
    assert result.exit_code == 1
    assert "bad.yaml:14:11: E303" in result.output and "E303" in result.output and "'1/0'" in result.output


def test_calendar_invalid_date_in_a_draft_is_a_lint_error(tmp_path):
    draft = tmp_path / "d.yaml"
    draft.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-02-30}\n"
                     "parameters:\n  supervision.review_cycle: 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(draft)], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{draft}:3:18: E104 '2017-02-30' is not a calendar date" in result.output


# ---- options: dates, periods, numbers -------------------------------------------------------

@pytest.mark.parametrize("args,fragment", [
    (["check", "--all", "--as-of", "9999-12-31"], "9999-12-31 is outside 1900-01-01..2999-12-31"),
    (["check", "--all", "--as-of", "٢٠١٧-٠٦-٣٠"], "is not a date (YYYY-MM-DD)"),
    (["whatif", "-q", "--set", "supervision.admonish_ratio=3/10", "--as-of", "9999-12-31"], "is outside"),
    (["whatif", "-q", "--set", "supervision.review_cycle=100000000"], "100000000 is more than 200 years"),
    (["whatif", "-q", "--set", "yichang_grassroots.plan_start=20170101"], "'20170101' is not a date (YYYY-MM-DD)"),
    (["whatif", "-q", "--set", "supervision.review_cycle=٣"], "'٣' is not a whole number"),
    (["whatif", "-q", "--set", "supervision.admonish_ratio=١/٣"], "is not an exact fraction"),
    (["whatif", "-q", "--set", "supervision.admonish_ratio=1/" + "1" * 40], "at most 30 digits"),
    (["whatif", "-q", "--set", "supervision.admonish_ratio=3/10", "--near", "-1"], "-1 is less than 0"),
    (["whatif", "-q", "--set", "supervision.admonish_ratio=3/10", "--workers", "٢"], "is not a whole number"),
], ids=["as_of_9999", "as_of_arabic", "whatif_as_of_9999", "cycle_1e8", "plan_start_basic", "arabic_digits",
        "arabic_fraction", "fraction_digits", "near_negative", "workers_arabic"])
def test_bad_option_value_is_a_one_line_error(loaded, args, fragment):
    store_url, before = loaded
    _one_line_error(invoke(store_url, *args), fragment)
    assert _dump(store_url) == before


def test_draft_with_a_2100_year_cycle_is_refused(loaded, tmp_path):
    store_url, _ = loaded
    draft = tmp_path / "cycle.yaml"
    draft.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-06-30}\n"
                     "parameters:\n  supervision.review_cycle: 2100\n", encoding="utf-8")
    stderr = _one_line_error(invoke(store_url, "whatif", "-q", "--draft", str(draft)), "has errors")
    assert f"{draft}:5:" in stderr and "2100 is more than 200 years" in stderr


# ---- the database ---------------------------------------------------------------------------

def _sqlite_store(tmp_path, name="facts.db") -> tuple[str, str]:
    path = str(tmp_path / name)
    url = f"sqlite:///{path}"
    assert invoke(url, "facts", "import", str(SAMPLE)).exit_code == 0
    return url, path


def _execute(path: str, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_a_dropped_table_is_an_error_not_recreated(tmp_path):
    url, path = _sqlite_store(tmp_path)
    _execute(path, "DROP TABLE polls")
    _one_line_error(invoke(url, "facts", "list"), "lacks the fact tables polls")
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "polls" not in tables


@pytest.mark.parametrize("sql,fragment", [
    ("UPDATE cadres SET birth_date = '1970-13-45' WHERE id = 'C0001'",
     "table cadres, row id=C0001, column birth_date: '1970-13-45' is not a date"),
    ("UPDATE posts SET start_date = 'yesterday' WHERE cadre_id = 'C0002' AND seq = 1",
     "table posts, row cadre_id=C0002, seq=1, column start_date: 'yesterday' is not a date"),
    ("UPDATE reviews SET total = 'abc' WHERE cadre_id = 'C0007'",
     "table reviews, row cadre_id=C0007, seq=0, column total: 'abc' is not an integer"),
], ids=["bad_month", "not_a_date", "text_in_integer"])
@pytest.mark.parametrize("command", [
    ["check", "--all", "--as-of", "2017-06-30"], ["facts", "export"],
    ["whatif", "-q", "--workers", "1", "--set", "supervision.admonish_ratio=3/10", "--as-of", "2017-06-30"],
], ids=["check", "export", "whatif"])
def test_corrupt_stored_row_names_table_row_and_column(tmp_path, sql, fragment, command):
    url, path = _sqlite_store(tmp_path)
    _execute(path, sql)
    _one_line_error(invoke(url, *command), fragment)


def test_import_into_a_page_corrupted_sqlite_file_is_refused(tmp_path):
    url, path = _sqlite_store(tmp_path)
    conn = sqlite3.connect(path)     # leave the schema's pages alone (it may span more than page 1)
    keep = {n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name IN ('sqlite_schema', 'schema_meta')")}
    conn.close()
    data = bytearray(open(path, "rb").read())
    page = 4096
    for offset in range(3 * page, len(data), page):
        if offset // page + 1 not in keep:
            data[offset + 100:offset + 400] = bytes(range(256)) + bytes(44)
    open(path, "wb").write(bytes(data))
    before = open(path, "rb").read()
    _one_line_error(invoke(url, "facts", "import", str(SAMPLE)), "is damaged", "nothing written")
    assert open(path, "rb").read() == before


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted, stop = [], threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_a_server_that_never_answers_is_a_one_line_error(silent_server, monkeypatch, scheme):
    monkeypatch.setenv("POLICY_DB_CONNECT_TIMEOUT", "1")
    result = invoke(f"{scheme}://u@127.0.0.1:{silent_server}/x", "facts", "list")
    _one_line_error(result, "cannot open database", f"127.0.0.1:{silent_server}")


def test_timeout_setting_must_be_a_whole_number(monkeypatch, sqlite_url):
    monkeypatch.setenv("POLICY_DB_STATEMENT_TIMEOUT", "soon")
    _one_line_error(invoke(sqlite_url, "facts", "list"), "$POLICY_DB_STATEMENT_TIMEOUT must be a whole number")


def test_mariadb_refuses_out_of_range_values_instead_of_clipping(store_url):
    if not store_url.startswith("mysql"):
        pytest.skip("MariaDB's sql_mode")
    from sqlalchemy.exc import DBAPIError
    from cadre_policy.record.canonical import canonical_cadre
    from cadre_policy.store.fact_store import FactStore
    with FactStore(store_url) as store:
        with pytest.raises(DBAPIError, match="Out of range"):
            store.bulk_load([], [canonical_cadre(_cadre(reviews=[_review(3_000_000_000)]))])
        assert store.count_cadres() == 0


# ---- output: spreadsheet cells ----------------------------------------------------------------

@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","点击")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|",
                                  "-2+3+cmd|' /C calc'!A0"], ids=["hyperlink", "plus_cmd", "at_sum", "minus"])
def test_whatif_csv_cells_are_never_formulas(tmp_path, name):
    import csv
    url, _ = _sqlite_store(tmp_path)
    args = ["whatif", "-q", "--workers", "1", "--set", "supervision.admonish_ratio=3/10", "--as-of", "2017-06-30",
            "--format", "csv"]
    first = next(csv.DictReader(invoke(url, *args).stdout.lstrip("\ufeff").splitlines()))
    doc = json.loads(invoke(url, "facts", "export", "--format", "json").stdout)
    cadre = next(c for c in doc["cadres"] if c["id"] == first["ID"])
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps({"cadres": [dict(cadre, name=name)]}, ensure_ascii=False), encoding="utf-8")
    assert invoke(url, "facts", "import", str(renamed)).exit_code == 0
    rows = [row for row in csv.DictReader(invoke(url, *args).stdout.lstrip("\ufeff").splitlines())
            if row["ID"] == first["ID"]]
    assert rows and all(row["Name"] == "'" + name for row in rows)
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


# ---- text written into the store by another program -----------------------------------------

def _rename(path: str, names: dict) -> None:
    conn = sqlite3.connect(path)
    conn.executemany("UPDATE cadres SET name = ? WHERE id = ?", [(name, ident) for ident, name in names.items()])
    conn.commit()
    conn.close()


WHATIF = ["whatif", "-q", "--workers", "1", "--set", "supervision.admonish_ratio=1/20", "--as-of", "2017-06-30"]


def _changed_ids(url) -> list[str]:
    doc = json.loads(invoke(url, *WHATIF, "--format", "json").stdout)
    return [change["cadre"] for change in doc["changes"]]


@pytest.mark.parametrize("command", [["facts", "show", "{id}"], ["facts", "list"], ["check", "{id}", "--as-of",
                                     "2017-06-30"], ["check", "--all", "--as-of", "2017-06-30"], WHATIF],
                         ids=["facts_show", "facts_list", "check", "check_all", "whatif"])
def test_control_characters_stored_in_a_name_never_reach_the_terminal(tmp_path, command):
    url, path = _sqlite_store(tmp_path)
    cadre = _changed_ids(url)[0]
    _rename(path, {cadre: "张\x1b[2J\x1b]0;pwned\x07\x00三"})
    result = invoke(url, *[arg.format(id=cadre) for arg in command])
    assert result.exit_code == 0, result.stderr
    assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\x00")
    assert "\\x1b[2J" in result.stdout


def test_tab_and_carriage_return_stored_in_a_name_are_no_csv_formula(tmp_path):
    import csv
    url, path = _sqlite_store(tmp_path)
    first, second = _changed_ids(url)[:2]
    _rename(path, {first: "\t=1+1", second: "\r=1+1"})
    for args in (WHATIF + ["--format", "csv"], ["check", "--all", "--as-of", "2017-06-30", "--format", "csv"]):
        result = invoke(url, *args)
        assert result.exit_code == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
        # shown as text: the control character as a visible escape, never the cell's first character
        assert {row["Name"] for row in rows if row["ID"] in (first, second)} == {"'\\x09=1+1", "'\\x0d=1+1"}
        assert not [v for row in rows for v in row.values() if v[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_dropped_table_is_an_error_on_every_backend(store_url):
    from sqlalchemy import create_engine, inspect, text
    assert invoke(store_url, "facts", "import", str(SAMPLE)).exit_code == 0
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE polls"))
    for args in (["facts", "list"], ["facts", "import", str(SAMPLE)]):
        _one_line_error(invoke(store_url, *args), "lacks the fact tables polls")
    assert "polls" not in inspect(engine).get_table_names()
    engine.dispose()


def test_a_worker_error_leaves_no_spool_file(tmp_path, monkeypatch):
    import tempfile
    url, path = _sqlite_store(tmp_path)
    _execute(path, "UPDATE reviews SET total = 'abc' WHERE cadre_id = 'C0007'")
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    args = ["whatif", "-q", "--workers", "2", "--chunk-size", "10", "--set", "supervision.admonish_ratio=3/10",
            "--as-of", "2017-06-30"]
    _one_line_error(invoke(url, *args), "table reviews, row cadre_id=C0007")
    assert os.listdir(spool) == []


# ---- every engine alike, through the command line -------------------------------------------

ENGINES = ["durable", "python", "columnar"]


@pytest.mark.parametrize("fraction", ["1/10000000000000000000", "1/" + "1" + "0" * 29], ids=["20_digits", "30_digits"])
def test_a_huge_fraction_gives_one_answer_on_every_engine(loaded, fraction):
    store_url, _ = loaded
    answers = set()
    for engine, extra in [(e, []) for e in ENGINES] + [("durable", ["--no-shortcut"])]:
        result = invoke(store_url, "whatif", "-q", "--engine", engine, *extra, "--set",
                        f"supervision.admonish_ratio={fraction}", "--as-of", "2017-06-30", "--format", "json")
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        answers.add(json.dumps([doc["summary"], [(c["cadre"], c["draft"]) for c in doc["changes"]]], sort_keys=True))
        admonished = next(s["draft"] for s in doc["summary"] if s["key"] == "finding:admonishment_talk")
        # every 清江县 cadre (004's jurisdiction) whose latest review, with a dissatisfied vote, is of
        # the last five years (the measure's cycle): the exact answer
        assert admonished == 12
    assert len(answers) == 1


def _derived_fields(n: int) -> str:
    derived = "derived:\n" + "".join(f"  q{i}: {{title: 数{i}, count: appraisals}}\n" for i in range(n))
    rules = "".join(f"  - id: r.f{i}\n    title: 规则\n    provision: P004-5\n    quote: 原文\n"
                    f"    when: {{fact: q{i}, 以上: {i % 3}}}\n    finding: admonishment_talk\n" for i in range(n))
    return derived + "rules:\n" + rules


@pytest.mark.parametrize("engine", ENGINES)
def test_too_many_fields_are_refused_alike_on_every_engine(loaded, tmp_path, engine):
    store_url, before = loaded
    directory = write_set(tmp_path / "p", {"wide": HEADER.format(id="wide") + _derived_fields(250)})
    stderr = _one_line_error(invoke(store_url, "check", "--all", "--as-of", "2017-06-30", "--engine", engine,
                                    "--policies", str(directory)), "E404", "read 250 fields")
    assert "wide.yaml:" in stderr
    assert _dump(store_url) == before


@pytest.mark.parametrize("body,fragment", [(BOMB, "E001"), ("parameters: " + "[" * 1000 + "]" * 1000 + "\n",
                                                             f"deeper than {MAX_DEPTH}")], ids=["alias_bomb", "nested"])
def test_a_hostile_draft_is_refused_by_whatif(loaded, tmp_path, body, fragment):
    store_url, before = loaded
    draft = tmp_path / "d.yaml"
    draft.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-06-30}\n" + body, encoding="utf-8")
    stderr = _one_line_error(invoke(store_url, "whatif", "-q", "--draft", str(draft), "--as-of", "2017-06-30"),
                             fragment)
    assert f"{draft}:" in stderr
    assert _dump(store_url) == before


LINK = "  - id: s.{i}\n    title: 第{i}层\n    provision: P004-5\n    quote: 原文\n    when: {{{cond}}}\n    derive: d{i}\n"
CHAIN = "rules:\n" + (
    "  - id: s.end\n    title: 结论\n    provision: P004-5\n    quote: 原文\n    when: {derived: d69}\n"
    "    finding: admonishment_talk\n") + "".join(reversed(
        [LINK.format(i=0, cond="fact: cadre.age, 以上: 0")]
        + [LINK.format(i=i, cond=f"not: {{derived: d{i - 1}}}") for i in range(1, 70)]))


@pytest.mark.parametrize("body", [RULE % "1/100000000000000000000000000000", CHAIN], ids=["fraction_30_digits",
                                                                                          "strata_70_reversed"])
def test_every_engine_gives_the_same_check_all(loaded, tmp_path, body):
    store_url, _ = loaded
    directory = write_set(tmp_path / "p", {"set": HEADER.format(id="set") + body})
    outputs = set()
    for engine in ENGINES:
        result = invoke(store_url, "check", "--all", "--as-of", "2017-06-30", "--engine", engine,
                        "--policies", str(directory), "--format", "json")
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        outputs.add(json.dumps(doc["cadres"], sort_keys=True, ensure_ascii=False))
        if body is not CHAIN:       # every cadre with a dissatisfied vote: the exact answer
            assert [f["cadres"] for f in doc["summary"]["findings"]] == [15]
    assert len(outputs) == 1
