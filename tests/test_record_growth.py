"""The record a department keeps: party dates, status, probation, education and sanction records,
in every import format (codes or Chinese names), through the store on every backend and back out."""
from __future__ import annotations

import datetime as dt
import io
import json
from itertools import islice

import openpyxl
import pytest
import yaml

from cadre_policy.generate.population import generate
from cadre_policy.intake.exporter import export_store
from cadre_policy.intake.streaming import import_files
from cadre_policy.parse.issues import ImportRejected
from cadre_policy.store.fact_store import FactStore

D = dt.date
UNITS = [{"id": "XL-PC", "name": "西陵区委", "kind": "party_committee", "level": "county"},
         {"id": "XL-TOWN1", "name": "西陵街道", "kind": "township", "level": "township", "parent": "XL-PC"}]


def _cadre(**changes) -> dict:
    cadre = {
        "id": "C0001", "name": "张伟", "gender": "male", "birth_date": "1975-04-12", "party": "cpc",
        "party_joined": "1996-07-01", "party_full": "1997-07-01", "status": "公务员",
        "posts": [{"unit": "XL-TOWN1", "title": "街道办事处主任", "rank": "正科", "principal": True,
                   "leadership": True, "start": "2016-03-01", "probation_end": "2017-02-28"}],
        "educations": [
            {"level": "大学本科", "degree": "学士", "mode": "全日制", "school": "武汉大学", "major": "法学",
             "date": "1997-07-01"},
            {"level": "master", "degree": "master_degree", "mode": "in_service", "date": "2008-12-01"}],
        "sanctions": [{"date": "2016-03-01", "kind": "严重警告", "note": "违反工作纪律"},
                      {"date": "2014-05-01", "kind": "留党察看", "years": 1},
                      {"date": "2013-01-10", "kind": "gov_major_demerit"}],
    }
    cadre.update(changes)
    return cadre


def _write(tmp_path, cadres, name="facts.yaml", fmt="yaml"):
    path = tmp_path / name
    doc = {"units": UNITS, "cadres": cadres}
    path.write_text(json.dumps(doc, ensure_ascii=False) if fmt == "json" else
                    yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(path)


def _export(store, fmt="yaml") -> str:
    out = io.StringIO()
    export_store(store, out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_chinese_names_are_read_as_codes_in_yaml_and_json(sqlite_url, tmp_path, fmt):
    with FactStore(sqlite_url) as store:
        import_files(store, [_write(tmp_path, [_cadre()], f"facts.{fmt}", fmt)])
        doc = store.cadre("C0001")
    assert doc["status"] == "civil_servant" and doc["party_joined"] == D(1996, 7, 1)
    assert doc["posts"][0]["rank"] == "section" and doc["posts"][0]["probation_end"] == D(2017, 2, 28)
    assert doc["educations"] == [
        {"level": "bachelor", "degree": "bachelor_degree", "mode": "full_time", "school": "武汉大学",
         "major": "法学", "date": D(1997, 7, 1)},
        {"level": "master", "degree": "master_degree", "mode": "in_service", "date": D(2008, 12, 1)}]
    assert doc["education"] == "master"                  # derived: the highest level on record
    assert [(s["kind"], s.get("years")) for s in doc["sanctions"]] == [
        ("gov_major_demerit", None), ("party_probation", 1), ("party_serious_warning", None)]


@pytest.mark.parametrize("change, place, words", [
    ({"sanctions": [{"date": "2016-03-01", "kind": "警告"}]}, "$.cadres[0].sanctions[0].kind",
     "'警告' is ambiguous: did you mean party_warning 党内警告 or gov_warning 政务警告?"),
    ({"sanctions": [{"date": "2016-03-01", "kind": "party_probation"}]}, "$.cadres[0].sanctions[0]",
     "years (1 or 2) is required for party_probation"),
    ({"sanctions": [{"date": "2016-03-01", "kind": "记过", "years": 1}]}, "$.cadres[0].sanctions[0].years",
     "years is for party_probation 留党察看 only, not gov_demerit"),
    ({"sanctions": [{"date": "2016-03-01", "kind": "留党察看", "years": 3}]}, "$.cadres[0].sanctions[0].years",
     "3 is greater than the maximum of 2"),
    ({"education": "doctor"}, "$.cadres[0].education",
     "education 'doctor' is not the highest level of the education records ('master')"),
    ({"party_full": "1995-01-01"}, "$.cadres[0].party_full", "party_full 1995-01-01 is before party_joined"),
    ({"status": "干部"}, "$.cadres[0].status", "'干部' is not one of"),
])
def test_bad_records_name_the_place(sqlite_url, tmp_path, change, place, words):
    path = _write(tmp_path, [_cadre(**change)])
    with FactStore(sqlite_url) as store:
        with pytest.raises(ImportRejected) as caught:
            import_files(store, [path])
        assert store.count_cadres() == 0
    found = [(issue.path, issue.message) for issue in caught.value.issues]
    assert any(p == place and words in m for p, m in found), found
    assert all(issue.line > 0 for issue in caught.value.issues)       # file:line:column


def test_export_import_export_is_identical_with_every_new_record(store, tmp_path):
    plain = {k: v for k, v in _cadre(id="C0002", sanctions=[], educations=[]).items()
             if k not in ("party_joined", "party_full", "status")}
    import_files(store, [_write(tmp_path, [_cadre(), plain])])
    for fmt in ("yaml", "json"):
        first = _export(store, fmt)
        assert "party_serious_warning" in first and "probation_end" in first and "in_service" in first
        path = tmp_path / f"export.{fmt}"
        path.write_text(first, encoding="utf-8")
        url = store.engine.url.render_as_string(hide_password=False)
        with FactStore(url) as other:
            other.drop_all()
        with FactStore(url) as fresh:
            result = import_files(fresh, [str(path)])
            assert result.cadres.added == 2
            assert _export(fresh, fmt) == first


def test_spreadsheets_carry_the_new_records_in_chinese(run_cli, sqlite_url, tmp_path):
    with FactStore(sqlite_url) as store:
        import_files(store, [_write(tmp_path, [_cadre()])])
        first = _export(store)
    book = tmp_path / "facts.xlsx"
    assert run_cli(sqlite_url, "facts", "export", "--format", "xlsx", "-o", book).exit_code == 0
    wb = openpyxl.load_workbook(book)
    rows = [[c.value for c in row] for row in wb["处分"].iter_rows()]
    assert rows[0][:3] == ["干部编号", "日期", "类别"] and ["党内严重警告", "留党察看", "记大过"] == sorted(
        (r[2] for r in rows[1:]), key=["党内严重警告", "留党察看", "记大过"].index)
    assert [c.value for c in wb["学历学位"][2]][3] == "全日制"
    headers = [c.value for c in wb["干部"][1]]
    assert {"入党时间", "转正时间", "身份"} <= set(headers)
    # 入党时间 written as year and month: read as the 1st, and counted
    column = headers.index("入党时间") + 1
    wb["干部"].cell(2, column).value = "1996.07"
    wb.save(book)
    db = f"sqlite:///{tmp_path / 'again.db'}"
    result = run_cli(db, "facts", "import", book)
    assert result.exit_code == 0, result.output
    assert "入党时间 with year and month only (taken as the 1st): 1" in result.stdout
    with FactStore(db) as again:
        assert _export(again) == first


def test_spreadsheet_refuses_an_ambiguous_name_naming_both(run_cli, sqlite_url, tmp_path):
    with FactStore(sqlite_url) as store:
        import_files(store, [_write(tmp_path, [_cadre()])])
    book = tmp_path / "facts.xlsx"
    run_cli(sqlite_url, "facts", "export", "--format", "xlsx", "-o", book)
    wb = openpyxl.load_workbook(book)
    wb["处分"].cell(2, 3).value = "警告"
    wb.save(book)
    result = run_cli(f"sqlite:///{tmp_path / 'b.db'}", "facts", "import", book)
    assert result.exit_code == 2
    assert "处分!C2" in result.stderr and "党内警告" in result.stderr and "政务警告" in result.stderr


def test_generator_draws_every_new_record():
    _units, cadres = generate(3000, seed=7)
    docs = list(islice(cadres, 3000))
    assert sum("party_joined" in d for d in docs) > 2000 and sum("status" in d for d in docs) > 2000
    assert sum(bool(d.get("educations")) for d in docs) > 1500
    assert sum(bool(d.get("sanctions")) for d in docs) > 50
    assert sum(any("probation_end" in p for p in d["posts"]) for d in docs) > 20
    for d in docs:                               # education is the highest level of the records
        levels = [e["level"] for e in d.get("educations", ())]
        if levels:
            assert d["education"] in levels
        for s in d.get("sanctions", ()):
            assert ("years" in s) == (s["kind"] == "party_probation")


def test_generator_keeps_the_earlier_fields_of_a_seed():
    """The new records come from a stream of their own: a seed's careers are what they were."""
    _units, cadres = generate(50, seed=3)
    first = next(cadres)
    assert (first["id"], first["birth_date"], [p["start"] for p in first["posts"]]) == (
        "C0000001", D(1969, 1, 1), [D(1993, 2, 9), D(2001, 6, 3), D(2007, 2, 19)])
