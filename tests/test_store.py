"""Fact-store tests; each runs on SQLite, PostgreSQL and MariaDB (see ``store_url``)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import event, select, text, update

from conftest import FIXTURE, SAMPLE
from cadre_policy.parse.issues import ImportRejected
from cadre_policy.store.errors import SchemaVersionError
from cadre_policy.intake.exporter import export_store
from cadre_policy.intake.streaming import import_files
from cadre_policy.store.models import schema_meta
from cadre_policy.store import migrate
from cadre_policy.store.fact_store import FactStore

D = dt.date


def _export(store, fmt="yaml") -> str:
    out = io.StringIO()
    export_store(store, out, fmt)
    return out.getvalue()


class _Statements:
    """Record every SQL statement a store's engine runs."""

    def __init__(self, store):
        self.sql: list[str] = []
        event.listen(store.engine, "before_cursor_execute", self._record)
        self.store = store

    def _record(self, conn, cursor, statement, *args):
        self.sql.append(statement.lstrip().split(None, 1)[0].upper())

    def writes(self) -> list[str]:
        return [s for s in self.sql if s in ("INSERT", "UPDATE", "DELETE")]

    def close(self):
        event.remove(self.store.engine, "before_cursor_execute", self._record)


def test_new_store_is_empty(store):
    assert store.count_cadres() == 0
    assert store.units() == {}
    assert store.cadre("C0001") is None
    assert list(store.iter_cadre_chunks()) == []


def test_import_fixture_gives_canonical_documents(store):
    result = import_files(store, [str(FIXTURE)])
    assert (result.units.added, result.cadres.added) == (4, 2)
    c1 = store.cadre("C0001")
    assert list(c1) == ["id", "name", "gender", "birth_date", "party", "ethnicity", "education",
                        "native_region", "management", "reserve", "recruitment", "posts",
                        "appraisals", "reviews", "nominations", "polls", "opinions", "assessments",
                        "educations", "sanctions"]
    assert c1["birth_date"] == D(1975, 4, 12)
    assert c1["recruitment"] == {"date": D(1998, 7, 1), "fresh_graduate": True, "unit": "XL-PC"}
    # posts sorted by start; current post has no `end`; optional flags kept only when given
    assert [p["start"] for p in c1["posts"]] == [D(2009, 3, 1), D(2013, 7, 1)]
    assert c1["posts"][0] == {"unit": "XL-TOWN1", "title": "街道党工委书记", "rank": "section",
                              "principal": True, "leadership": True, "middle_level": False,
                              "grassroots": True, "start": D(2009, 3, 1), "end": D(2013, 6, 30)}
    assert "end" not in c1["posts"][1] and "middle_level" not in c1["posts"][1]
    # appraisal date defaults to 31 Dec of its year; sorted by year
    assert c1["appraisals"] == [{"year": 2014, "grade": "basically_competent", "date": D(2014, 12, 31)},
                                {"year": 2015, "grade": "excellent", "date": D(2016, 1, 20)}]
    assert [r["stage"] for r in c1["reviews"][0]["rectification"]] == ["three_month", "six_month"]
    assert [o["department"] for o in c1["opinions"]] == ["work_safety", "discipline"]
    c2 = store.cadre("C0002")
    assert c2 == {"id": "C0002", "name": "李娜", "gender": "female", "birth_date": D(1988, 11, 30),
                  "party": "non_cpc",
                  "posts": [{"unit": "XL-TOWN1", "title": "副主任科员", "rank": "deputy_section",
                             "principal": False, "leadership": False, "start": D(2012, 9, 1)}],
                  "appraisals": [], "reviews": [], "nominations": [], "polls": [], "opinions": [],
                  "assessments": [], "educations": [], "sanctions": []}
    units = store.units()
    assert units["XL-PC"] == {"id": "XL-PC", "name": "西陵区委", "kind": "party_committee",
                              "level": "county", "region": "西陵区", "parent": "YC-PC",
                              "flags": ["provincial_bottom_ranked"]}
    assert "flags" not in units["YC-PC"] and "region" not in units["YC-PC"]


@pytest.mark.skipif(not SAMPLE.exists(), reason="facts/sample/city.yaml not written yet")
def test_import_sample(store):
    result = import_files(store, [str(SAMPLE)])
    assert result.cadres.added == store.count_cadres() > 0
    assert result.units.added == len(store.units())


@pytest.mark.parametrize("source", [
    FIXTURE, pytest.param(SAMPLE, marks=pytest.mark.skipif(not SAMPLE.exists(), reason="no sample yet"))],
    ids=["fixture", "sample"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip(store, tmp_path, fmt, source):
    import_files(store, [str(source)])
    first = _export(store, fmt)
    path = tmp_path / f"export.{fmt}"
    path.write_text(first, encoding="utf-8")
    store.drop_all()
    store.close()
    with FactStore(store.engine.url.render_as_string(hide_password=False)) as fresh:
        assert fresh.count_cadres() == 0
        result = import_files(fresh, [str(path)])
        assert result.cadres.updated == result.cadres.unchanged == 0
        assert _export(fresh, fmt) == first


def test_chinese_round_trip(store, tmp_path):
    # 𠮷 is outside the BMP: needs utf8mb4 on MariaDB
    name, title = "𠮷野·阿依古丽", "党工委书记（兼）"
    path = tmp_path / "zh.yaml"
    path.write_text(f"""units:
  - {{id: U1, name: 测试单位「甲」, kind: other, level: village, region: 西双版纳傣族自治州}}
cadres:
  - {{id: Z1, name: {name}, gender: female, birth_date: 1990-01-01, party: cpc, ethnicity: 维吾尔族,
     posts: [{{unit: U1, title: {title}, rank: clerk, principal: false, leadership: false,
              start: 2015-01-01}}]}}
""", encoding="utf-8")
    import_files(store, [str(path)])
    doc = store.cadre("Z1")
    assert (doc["name"], doc["ethnicity"], doc["posts"][0]["title"]) == (name, "维吾尔族", title)
    assert store.units()["U1"]["name"] == "测试单位「甲」"
    assert name in _export(store) and name in _export(store, "json")


def test_reimport_is_idempotent_and_writes_nothing(store):
    import_files(store, [str(FIXTURE)])
    before = _export(store)
    spy = _Statements(store)
    try:
        result = import_files(store, [str(FIXTURE)])
    finally:
        spy.close()
    assert (result.units.added, result.units.updated, result.units.unchanged) == (0, 0, 4)
    assert (result.cadres.added, result.cadres.updated, result.cadres.unchanged) == (0, 0, 2)
    assert spy.writes() == []
    assert _export(store) == before


def test_update_replaces_record_lists_as_a_whole(store, tmp_path):
    import_files(store, [str(FIXTURE)])
    path = tmp_path / "upd.yaml"
    path.write_text("""cadres:
  - id: C0002
    name: 李娜
    gender: female
    birth_date: 1988-11-30
    party: cpc
    appraisals: [{year: 2016, grade: competent}]
""", encoding="utf-8")
    result = import_files(store, [str(path)])
    assert (result.cadres.updated, result.units.unchanged) == (1, 0)
    doc = store.cadre("C0002")
    assert doc["party"] == "cpc" and doc["posts"] == []
    assert doc["appraisals"] == [{"year": 2016, "grade": "competent", "date": D(2016, 12, 31)}]
    assert store.cadre("C0001")["posts"]  # others untouched


def test_units_may_come_from_the_store(store, tmp_path):
    import_files(store, [str(FIXTURE)])
    path = tmp_path / "more.yaml"
    path.write_text("""cadres:
  - {id: C0100, name: 王芳, gender: female, birth_date: 1980-01-01, party: cpc,
     posts: [{unit: YC-PARK, title: 副主任, rank: deputy_county, principal: false, leadership: true,
              start: 2016-01-01}]}
""", encoding="utf-8")
    assert import_files(store, [str(path)]).cadres.added == 1


def test_bad_record_among_good_ones_changes_nothing(store, tmp_path):
    import_files(store, [str(FIXTURE)])
    before = _export(store)
    path = tmp_path / "mixed.yaml"
    path.write_text("""units:
  - {id: NEW-U, name: 新单位, kind: other, level: county}
  - {id: XL-PC, name: 西陵区委（改名）, kind: party_committee, level: county}
cadres:
  - {id: C0003, name: 好人, gender: male, birth_date: 1980-01-01, party: cpc}
  - {id: C0002, name: 李娜, gender: female, birth_date: 1988-11-30, party: cpc}
  - {id: C0004, name: 坏记录, gender: male, birth_date: 1980-01-01, party: cpc,
     polls: [{date: 2017-01-01, approve: 50, total: 45}]}
""", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_files(store, [str(path)])
    assert len(info.value.issues) == 1
    assert _export(store) == before
    assert store.cadre("C0003") is None and "NEW-U" not in store.units()


def test_chunks_are_bulk_reads_in_id_order(store):
    units = [{"id": "U1", "name": "单位", "kind": "other", "level": "county"},
             {"id": "U2", "name": "单位二", "kind": "other", "level": "county"}]
    cadres = [_synthetic(i, "U1" if i % 2 else "U2") for i in range(25, 0, -1)]
    assert store.bulk_load(units, cadres) == 25
    assert store.count_cadres() == 25
    ids = [f"B{i:05d}" for i in range(1, 26)]
    assert store.cadre_ids() == ids
    assert store.cadre_ids(unit="U1", as_of=ON) == [i for n, i in enumerate(ids, 1) if n % 2]
    spy = _Statements(store)
    try:
        chunks = list(store.iter_cadre_chunks(chunk_size=10))
    finally:
        spy.close()
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert [d["id"] for c in chunks for d in c] == ids
    # per chunk: one id query, one cadre query, one per record table (+ rectifications)
    assert len(spy.sql) <= 3 * 13
    by_unit = [d["id"] for c in store.iter_cadre_chunks(unit="U2", chunk_size=4, as_of=ON) for d in c]
    assert by_unit == store.cadre_ids(unit="U2", as_of=ON) and len(by_unit) == store.count_cadres("U2", ON) == 12
    doc = store.cadre("B00003")
    assert doc["appraisals"][0]["date"] == D(2015, 12, 31)  # defaulted by bulk_load
    assert [p["start"] for p in doc["posts"]] == sorted(p["start"] for p in doc["posts"])
    assert doc["reviews"][0]["rectification"][0]["stage"] == "three_month"


def test_unit_filter_means_a_post_covering_the_day(store):
    units = [{"id": "U1", "name": "甲", "kind": "other", "level": "county"},
             {"id": "U2", "name": "乙", "kind": "other", "level": "county"}]
    doc = _synthetic(1, "U2")  # U1 from 2010-01-01 to its last day 2011-12-31 (held that day); U2 from 2012-01-01
    store.bulk_load(units, [doc])
    assert store.cadre_ids(unit="U2", as_of=ON) == ["B00001"]
    assert store.cadre_ids(unit="U1", as_of=ON) == []
    assert list(store.iter_cadre_chunks(unit="U1", as_of=ON)) == []
    assert store.cadre_ids(unit="U1", as_of=D(2011, 12, 31)) == ["B00001"]   # the end day: the last day held
    assert store.cadre_ids(unit="U1", as_of=D(2012, 1, 1)) == []             # the day after the end
    assert store.cadre_ids(unit="U2", as_of=D(2011, 12, 31)) == []           # the day before the start
    assert store.cadre_ids(unit="U2", as_of=D(2012, 1, 1)) == ["B00001"]     # the start day
    assert store.count_cadres("U1", D(2010, 1, 1)) == 1 and store.count_cadres("U1", D(2009, 12, 31)) == 0
    with pytest.raises(ValueError):
        store.cadre_ids(unit="U1")


def test_older_schema_version_is_refused(store_url):
    with FactStore(store_url) as store:
        with store.engine.begin() as conn:
            conn.execute(update(schema_meta).values(value="0"))
    with pytest.raises(SchemaVersionError, match="schema version 0.*needs version 5"):
        FactStore(store_url)


#: What each released schema version lacks of the current one: (columns by table, tables).
_RELEASED = {
    "4": ({}, ["store_settings"]),
    "3": ({}, ["draft_versions", "drafts", "store_settings"]),
}
_RELEASED["2"] = ({"cadres": ["party_joined", "party_full", "status"], "posts": ["probation_end"]},
                  ["educations", "sanctions", *_RELEASED["3"][1]])
_RELEASED["1"] = ({**_RELEASED["2"][0], "cadres": _RELEASED["2"][0]["cadres"] + ["work_start"],
                   "nominations": ["exceptional"]}, _RELEASED["2"][1])


@pytest.mark.parametrize("version", sorted(_RELEASED))
def test_released_store_is_refused_then_upgraded_in_place(store_url, run_cli, version):
    """A store of every released schema version is refused with the advice to upgrade; `policy facts
    upgrade` brings it to the current version through the Alembic revisions, records intact, and it
    takes the fields added since. Version 1 was made before migrations were revisions (unstamped)."""
    cadre = dict(_synthetic(1, "U1"), nominations=[{"date": D(2017, 2, 1), "target_rank": "deputy_county",
                                                   "target_unit": "U1"}])
    columns, tables = _RELEASED[version]
    with FactStore(store_url) as store:
        store.bulk_load([{"id": "U1", "name": "单位一", "kind": "department", "level": "county"}], [cadre])
        before = store.cadre("B00001")
        with store.engine.begin() as conn:
            for table, names in columns.items():
                for name in names:
                    conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {name}"))
            for table in tables:
                conn.execute(text(f"DROP TABLE {table}"))
            if version == "1":
                conn.execute(text("DROP TABLE alembic_version"))
            else:
                conn.execute(text(f"UPDATE alembic_version SET version_num = '{migrate.RELEASES[version]}'"))
            conn.execute(update(schema_meta).where(schema_meta.c.key == "schema_version").values(value=version))
    with pytest.raises(SchemaVersionError, match=f"version {version}, this program needs version 5: upgrade it"):
        FactStore(store_url)
    refused = run_cli(store_url, "facts", "show", "B00001")
    assert refused.exit_code == 2 and "facts upgrade" in refused.output
    upgraded = run_cli(store_url, "facts", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "fact-store schema version 5" in upgraded.output
    with FactStore(store_url) as store:
        assert store.cadre("B00001") == before
        newer = dict(cadre, work_start=D(1990, 7, 1), party_joined=D(1996, 7, 1), status="civil_servant",
                     nominations=[dict(cadre["nominations"][0], exceptional=True)],
                     posts=[dict(cadre["posts"][0], probation_end=D(2016, 12, 31))],
                     educations=[{"level": "bachelor", "mode": "full_time", "date": D(1995, 7, 1)}],
                     sanctions=[{"date": D(2015, 3, 1), "kind": "party_probation", "years": 2}])
        store.upsert([], [newer])
        doc = store.cadre("B00001")
        assert doc["work_start"] == D(1990, 7, 1) and doc["nominations"][0]["exceptional"] is True
        assert doc["party_joined"] == D(1996, 7, 1) and doc["status"] == "civil_servant"
        assert doc["posts"][0]["probation_end"] == D(2016, 12, 31)
        assert doc["educations"] == newer["educations"] and doc["sanctions"] == newer["sanctions"]
        with store.engine.connect() as conn:
            assert conn.execute(select(schema_meta.c.value).where(schema_meta.c.key == "schema_version")).scalar() == "5"
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
    assert run_cli(store_url, "facts", "upgrade").exit_code == 0           # the newest: nothing to run


def test_every_released_version_has_its_revision():
    from cadre_policy.store.models import SCHEMA_VERSION
    assert migrate.RELEASES[str(SCHEMA_VERSION)] == migrate.head()
    assert list(migrate.RELEASES) == [str(v) for v in range(1, SCHEMA_VERSION + 1)]


def test_tables_without_version_are_refused(store_url):
    with FactStore(store_url) as store:
        with store.engine.begin() as conn:
            conn.execute(text("DROP TABLE schema_meta"))
    with pytest.raises(SchemaVersionError, match="without a schema version"):
        FactStore(store_url)


def test_cli_on_backend(store_url, run_cli):
    result = run_cli(store_url, "facts", "import", FIXTURE)
    assert result.exit_code == 0, result.output
    assert "cadres: 2 added, 0 updated, 0 unchanged" in result.stdout
    shown = run_cli(store_url, "facts", "show", "C0001")
    assert shown.exit_code == 0 and "张伟" in shown.stdout


ON = D(2017, 6, 30)


def _synthetic(i: int, unit: str) -> dict:
    """A canonical-enough cadre for bulk_load (record lists deliberately unsorted)."""
    return {
        "id": f"B{i:05d}", "name": f"测试{i}", "gender": "male", "birth_date": D(1970, 1, 1) + dt.timedelta(i),
        "party": "cpc",
        "posts": [{"unit": unit, "title": "科员", "rank": "clerk", "principal": False, "leadership": False,
                   "start": D(2012, 1, 1)},
                  {"unit": "U1", "title": "科员", "rank": "clerk", "principal": False, "leadership": False,
                   "start": D(2010, 1, 1), "end": D(2011, 12, 31)}],
        "appraisals": [{"year": 2015, "grade": "competent"}],
        "reviews": [{"date": D(2016, 1, 1), "total": 10, "dissatisfied": 2,
                     "rectification": [{"stage": "three_month", "date": D(2016, 4, 1), "result": "effective"}]}],
        "nominations": [], "polls": [{"date": D(2017, 1, 1), "approve": 8, "total": 10}],
        "opinions": [], "assessments": [],
    }
