"""Spreadsheet import/export: round trips, Chinese values, one test per error kind with its sheet!cell."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
import yaml

from conftest import ROOT, SAMPLE
from cadre_policy.intake.sheets.layout import NOTES_SHEET, SHEETS
from cadre_policy.intake.sheets.doc import section

D = dt.datetime

UNITS = [["编号", "名称", "类别", "层级", "上级单位"],
         ["U1", "县委", "党委", "县级", None],
         ["U2", "城关镇", "乡镇(街道)", "乡镇级", "U1"]]
CADRES = [["编号", "姓名", "性别", "出生年月", "政治面貌", "学历", "招录日期", "应届毕业生"],
          ["C1", "张伟", "男", 1975.04, "中共党员", "大学本科", D(1996, 7, 1), "是"],
          ["C2", "李娜", "女", "1980年3月", "非中共党员", "master", None, None],
          ["C3", "王强", "male", D(1978, 11, 2), "cpc", None, "2001/9/1", "否"]]
POSTS = [["干部编号", "单位", "职务", "职务层次", "正职", "班子成员", "起始日期", "终止日期"],
         ["C1", "U2", "镇长", "正科", "是", "是", D(2012, 3, 1), None],
         ["C2", "U1", "科员", "科员", "否", "否", "2010.07.01", "2017年6月30日"],
         ["C3", "U2", "副镇长", "deputy_section", "否", "是", "2014-05-04", None]]
REVIEWS = [["干部编号", "日期", "总票数", "不满意票"], ["C1", D(2016, 5, 10), 45, 16]]
CHECKS = [["干部编号", "评议日期", "阶段", "日期", "结果"],
          ["C1", "2016-05-10", "三个月整改检查", D(2016, 8, 10), "整改不力"]]
APPRAISALS = [["cadre", "year", "grade", "date"], ["C1", 2015, "优秀", None], ["C3", "2016", "基本称职", None]]


def _book(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _sheets(**changes) -> dict[str, list[list]]:
    sheets = {"单位": UNITS, "干部": CADRES, "任职": POSTS, "监督评议": REVIEWS, "整改": CHECKS,
              "年度考核": APPRAISALS}
    sheets = {name: [list(r) for r in rows] for name, rows in sheets.items()}
    for name, edit in changes.items():
        edit(sheets[name])
    return sheets


def _export(run_cli, db, *args) -> str:
    result = run_cli(db, "facts", "export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}


def test_sample_round_trips_through_xlsx_and_csv(run_cli, store_url, tmp_path):
    first = store_url
    assert run_cli(first, "facts", "import", SAMPLE).exit_code == 0
    yaml_a = _export(run_cli, first)
    _export(run_cli, first, "--format", "xlsx", "-o", tmp_path / "a.xlsx")
    _export(run_cli, first, "--format", "csv", "-o", tmp_path / "a_csv")
    for source, name in ((tmp_path / "a.xlsx", "x"), (tmp_path / "a_csv", "c")):
        db = f"sqlite:///{tmp_path / (name + '.db')}"
        result = run_cli(db, "facts", "import", source)
        assert result.exit_code == 0, result.stderr
        assert "64 added" in result.stdout
        assert _export(run_cli, db) == yaml_a
        _export(run_cli, db, "--format", "xlsx", "-o", tmp_path / f"{name}.xlsx")
        assert _cells(tmp_path / f"{name}.xlsx") == _cells(tmp_path / "a.xlsx")
        _export(run_cli, db, "--format", "csv", "-o", tmp_path / f"{name}_csv")
        for sheet in SHEETS:
            file = f"{sheet.name}.csv"
            assert (tmp_path / f"{name}_csv" / file).read_bytes() == (tmp_path / "a_csv" / file).read_bytes()
    text = (tmp_path / "a_csv" / "干部.csv").read_bytes()
    assert text.startswith("\ufeff编号,姓名".encode())


@pytest.mark.parametrize("reader", ["openpyxl", "calamine"])
def test_chinese_workbook_imports(run_cli, sqlite_url, tmp_path, reader):
    def blank_rows(rows):
        rows.extend([[None] * 8, ["", " "]])
    path = _book(tmp_path / "名册.xlsx", _sheets(任职=blank_rows))
    result = run_cli(sqlite_url, "facts", "import", "--reader", reader, path)
    assert result.exit_code == 0, result.stderr
    assert "cadres: 3 added" in result.stdout
    assert "birth dates with year and month only (taken as the 1st): 2 cadres" in result.stdout
    assert "blank rows skipped: 2" in result.stdout
    doc = yaml.safe_load(_export(run_cli, sqlite_url))
    c1, c2, c3 = doc["cadres"]
    assert c1["birth_date"] == dt.date(1975, 4, 1) and c2["birth_date"] == dt.date(1980, 3, 1)
    assert c3["birth_date"] == dt.date(1978, 11, 2)
    assert (c1["gender"], c1["party"], c1["education"]) == ("male", "cpc", "bachelor")
    assert c1["recruitment"] == {"date": dt.date(1996, 7, 1), "fresh_graduate": True}
    assert c3["recruitment"] == {"date": dt.date(2001, 9, 1), "fresh_graduate": False}
    assert c1["posts"] == [{"unit": "U2", "title": "镇长", "rank": "section", "principal": True,
                            "leadership": True, "start": dt.date(2012, 3, 1)}]
    assert c2["posts"][0]["start"] == dt.date(2010, 7, 1) and c2["posts"][0]["end"] == dt.date(2017, 6, 30)
    assert c1["reviews"][0]["rectification"] == [
        {"stage": "three_month", "date": dt.date(2016, 8, 10), "result": "ineffective"}]
    assert c3["appraisals"] == [{"year": 2016, "grade": "basically_competent", "date": dt.date(2016, 12, 31)}]
    assert doc["units"][1] == {"id": "U2", "name": "城关镇", "kind": "township", "level": "township",
                               "parent": "U1"}


def _set(cell: str, value):
    col, row = re.fullmatch(r"([A-Z]+)(\d+)", cell).groups()

    def edit(rows):
        r, c = int(row) - 1, openpyxl.utils.column_index_from_string(col) - 1
        while len(rows) <= r:
            rows.append([])
        rows[r].extend([None] * (c + 1 - len(rows[r])))
        rows[r][c] = value
    return edit


def _drop_column(index: int):
    def edit(rows):
        for row in rows:
            del row[index]
    return edit


# (case id, sheet edits, expected "SHEET!CELL: message" fragment)
ERRORS = [
    ("enum_did_you_mean", {"任职": _set("D2", "正科级")}, "任职!D2: rank: '正科级' is not a rank (did you mean '正科'?)"),
    ("bad_date", {"任职": _set("G3", "2010.02.30")}, "任职!G3: start: '2010.02.30' is not a date"),
    ("number_not_date", {"任职": _set("H2", 42000)}, "任职!H2: end: the number 42000 is not a date"),
    ("bad_bool", {"任职": _set("E2", "对")}, "任职!E2: principal: '对' is not 是 or 否"),
    ("bad_int", {"监督评议": _set("C2", "四十五")}, "监督评议!C2: total: '四十五' is not a whole number"),
    ("ambiguous_year_month", {"干部": _set("D2", 1975.1)}, "干部!D2: birth_date: the number 1975.1 may mean"),
    ("unknown_header", {"任职": _set("I1", "备注")}, "任职!I1: unknown column '备注'"),
    ("repeated_header", {"任职": _set("I1", "职务")}, "任职!I1: title: column 职务 appears twice (also C1)"),
    ("missing_column", {"任职": _drop_column(3)}, "任职!1:1: rank: missing required column 职务层次"),
    ("empty_required", {"干部": _set("B3", None)}, "干部!B3: name: 姓名 is empty"),
    ("value_without_header", {"任职": _set("K3", "x")}, "任职!K3: a value in a column without header"),
    ("unknown_cadre", {"任职": _set("A3", "C9")}, "任职!A3: cadre: unknown cadre id 'C9' (no row on sheet 干部)"),
    ("no_such_review", {"整改": _set("B2", "2016-05-11")},
     "整改!B2: review_date: no 监督评议 rows of cadre 'C1' on 2016-05-11"),
    ("schema_length", {"任职": _set("C3", "长" * 201)}, "任职!C3: title: '长长"),
    ("schema_minimum", {"监督评议": _set("D2", -1)}, "监督评议!D2: dissatisfied: -1 is less than the minimum of 0"),
    ("unknown_unit", {"任职": _set("B2", "U9")}, "任职!B2: unit: unknown unit id 'U9'"),
    ("end_before_start", {"任职": _set("H3", "2009-01-01")}, "任职!H3: end: end 2009-01-01 is before start"),
    ("above_total", {"监督评议": _set("D2", 46)}, "监督评议!D2: dissatisfied: dissatisfied 46 is greater than total 45"),
    # the records of C3 now name a cadre that is not on 干部: two more errors
    ("duplicate_id", {"干部": _set("A4", "C1")}, "干部!A4: id: duplicate cadre id 'C1' (first at", 3),
    ("unit_parent_cycle", {"单位": _set("E2", "U2")}, "单位!E2: parent: unit 'U1' is its own ancestor", 2),
]


@pytest.mark.parametrize("edits,expected,errors", [(c[1], c[2], c[3] if len(c) > 3 else 1) for c in ERRORS],
                         ids=[c[0] for c in ERRORS])
def test_error_names_sheet_and_cell(run_cli, sqlite_url, tmp_path, edits, expected, errors):
    path = _book(tmp_path / "名册.xlsx", _sheets(**edits))
    result = run_cli(sqlite_url, "facts", "import", path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{path}:{expected}") for line in lines), result.stderr
    assert len(lines) == errors + 1, result.stderr  # no follow-on errors, no repeats
    assert "nothing written" in lines[-1]


@pytest.mark.parametrize("reader", ["openpyxl", "calamine"])
def test_merged_cells_and_formula_without_cached_value(run_cli, sqlite_url, tmp_path, reader):
    path = _book(tmp_path / "b.xlsx", _sheets(年度考核=_set("B2", "=2014+1")))
    wb = openpyxl.load_workbook(path)
    wb["干部"].merge_cells("F3:F4")
    wb.save(path)
    result = run_cli(sqlite_url, "facts", "import", "--reader", reader, path)
    assert result.exit_code == 2
    assert f"{path}:干部!F3: merged cells F3:F4: unmerge them" in result.stderr
    assert f"{path}:年度考核!B2: formula without a cached value" in result.stderr
    assert "年度 is empty" not in result.stderr
    assert len(result.stderr.splitlines()) == 3


def test_unknown_sheet(run_cli, sqlite_url, tmp_path):
    sheets = _sheets()
    sheets["任职经历"] = sheets.pop("任职")
    result = run_cli(sqlite_url, "facts", "import", _book(tmp_path / "c.xlsx", sheets))
    assert result.exit_code == 2
    assert "c.xlsx:任职经历!A1: unknown sheet '任职经历' (did you mean '任职'?)" in result.stderr


def test_one_bad_row_writes_nothing(run_cli, sqlite_url, tmp_path):
    assert run_cli(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    before = _export(run_cli, sqlite_url)
    path = _book(tmp_path / "d.xlsx", _sheets(任职=_set("F4", "不是")))
    result = run_cli(sqlite_url, "facts", "import", path)
    assert result.exit_code == 2
    assert "任职!F4: leadership: '不是' is not 是 or 否" in result.stderr
    assert _export(run_cli, sqlite_url) == before
    fixed = _book(tmp_path / "e.xlsx", _sheets())
    assert run_cli(sqlite_url, "facts", "import", fixed).exit_code == 0
    assert _export(run_cli, sqlite_url) != before


def test_csv_files_gb18030_and_formula_escape(run_cli, sqlite_url, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "单位.csv").write_bytes("编号,名称,类别,层级\nU1,县委,党委,县级\n".encode("gb18030"))
    (folder / "干部.csv").write_text("\ufeffid,name,gender,birth_date,party\n"
                                     "C1,'=HYPERLINK(1),男,1975.04,中共党员\n", encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", folder / "单位.csv", folder / "干部.csv")
    assert result.exit_code == 0, result.stderr
    doc = yaml.safe_load(_export(run_cli, sqlite_url))
    assert doc["units"][0]["name"] == "县委" and doc["cadres"][0]["name"] == "=HYPERLINK(1)"
    _export(run_cli, sqlite_url, "--format", "csv", "-o", tmp_path / "out")
    assert "C1,'=HYPERLINK(1),男,1975-04-01" in (tmp_path / "out" / "干部.csv").read_text("utf-8-sig")
    _export(run_cli, sqlite_url, "--format", "xlsx", "-o", tmp_path / "out.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "out.xlsx")["干部"]["B2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "干部.csv").write_text("编号,姓名,性别,出生日期,政治面貌\nC2,李,女,1980-13-01,cpc\n", encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", bad)
    assert result.exit_code == 2
    assert f"{bad / '干部.csv'}:干部!D2: birth_date: '1980-13-01' is not a date" in result.stderr


def test_template_has_sheets_validations_and_notes(run_cli, sqlite_url, tmp_path):
    path = tmp_path / "模板.xlsx"
    result = run_cli(sqlite_url, "facts", "template", "-o", path)
    assert result.exit_code == 0, result.stderr
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [s.name for s in SHEETS] + [NOTES_SHEET]
    posts = wb["任职"]
    assert [c.value for c in posts[1]] == [c.header for c in SHEETS[2].columns]
    lists = {str(dv.sqref): dv.formula1 for dv in posts.data_validations.dataValidation}
    assert lists["D2:D1048576"] == '"科员,副科,正科,副县,正县,副厅,正厅"'
    assert lists["E2:E1048576"] == '"是,否"'
    assert posts.column_dimensions["I"].number_format == "yyyy-mm-dd"
    assert wb["干部"].column_dimensions["D"].number_format == "General"  # 出生年月 may be 1975.04
    notes = [[c.value for c in row] for row in wb[NOTES_SHEET].iter_rows(min_row=2)]
    assert len(notes) == sum(len(s.columns) for s in SHEETS)
    assert ["任职", "职务层次", "rank"] == notes[[n[2] for n in notes].index("rank")][:3]
    assert run_cli(sqlite_url, "facts", "import", path).stdout.startswith("units: 0 added")


def test_spreadsheets_doc_is_generated_from_the_layout():
    text = (ROOT / "docs" / "spreadsheets.md").read_text(encoding="utf-8")
    assert section() in text, "docs/spreadsheets.md is stale: run python -m cadre_policy.intake.sheets.doc"


def test_damaged_files_and_repeated_sheets(run_cli, sqlite_url, tmp_path):
    good = _book(tmp_path / "good.xlsx", _sheets())
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:3000])
    result = run_cli(sqlite_url, "facts", "import", cut)
    assert result.exit_code == 2 and f"{cut}: $: cannot read workbook" in result.stderr
    sheets = _sheets()
    sheets["posts"] = sheets["任职"]
    result = run_cli(sqlite_url, "facts", "import", _book(tmp_path / "two.xlsx", sheets))
    assert result.exit_code == 2 and "two.xlsx:posts!A1: a second sheet for 任职 (first: 任职)" in result.stderr
    old = tmp_path / "名册.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    result = run_cli(sqlite_url, "facts", "import", old)
    assert result.exit_code == 2 and f"{old}: $: not an .xlsx workbook: save it as" in result.stderr
    nul = tmp_path / "单位.csv"
    nul.write_bytes(b"id,name,kind,level\nU1,\x00,party_committee,county\n")
    result = run_cli(sqlite_url, "facts", "import", nul)
    assert result.exit_code == 2 and f"{nul}:单位!B2: name: 'U1'" not in result.stderr
    assert f"{nul}:单位!B2: name: control character U+0000 in text" in result.stderr
    assert "Traceback" not in result.stderr


def test_template_to_standard_output_when_piped(run_cli, sqlite_url):
    result = run_cli(sqlite_url, "facts", "template")
    assert result.exit_code == 0 and result.stdout_bytes.startswith(b"PK")


@pytest.mark.parametrize("reader", ["openpyxl", "calamine"])
def test_places_count_from_a1_when_the_sheet_starts_elsewhere(run_cli, sqlite_url, tmp_path, reader):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    ws["C1"], ws["D1"], ws["E1"], ws["F1"] = "编号", "名称", "类别", "层级"
    ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "U1", "县委", "党委", "县"
    late = wb.create_sheet("干部")
    late["A3"] = "编号"
    wb.save(tmp_path / "f.xlsx")
    result = run_cli(sqlite_url, "facts", "import", "--reader", reader, tmp_path / "f.xlsx")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"{tmp_path / 'f.xlsx'}:单位!F3: level: '县' is not a level (did you mean '县级'?)",
        f"{tmp_path / 'f.xlsx'}:干部!A1: row 1 is empty: the header must be in row 1"]
