"""`policy check --all` as an officer reads it: an aligned table, one JSON document, CSV and XLSX."""
from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from cadre_policy import data
from cadre_policy.cli import main

AS_OF = "2017-06-30"


def run(db, *args, columns=None, lang="zh"):
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    result = CliRunner().invoke(main, ["--db", db, "--lang", lang, *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def cells_of(line: str, char: str) -> list[int]:
    """The display cells at which ``char`` stands on a line."""
    return [cell_len(line[:i]) for i, c in enumerate(line) if c == char]


@pytest.mark.parametrize("columns", [80, 160])
def test_every_column_starts_at_the_same_cell_on_every_line(sample_db, columns):
    out = run(sample_db, "check", "--all", "--as-of", AS_OF, columns=columns).stdout
    table = out.split("\n\n")[0].splitlines()
    assert table[0].split()[:2] == ["编号", "│"] and "结论" in table[0]
    rule = cells_of(table[1], "┼")
    assert len(rule) == 4
    for line in [table[0]] + table[2:]:
        assert cells_of(line, "│") == rule, line
        assert cell_len(line) <= columns
    names = [line.split("│")[1].strip() for line in table[2:] if line.split("│")[1].strip()]
    assert len(names) == 64 and "周建国" in names          # 2- and 3-character names alike


def test_findings_by_chinese_title_with_the_code_and_a_summary_table(sample_db):
    out = run(sample_db, "check", "--all", "--as-of", AS_OF).stdout
    table, summary = out.split("\n\n")[:2]
    rows = table.splitlines()[2:]
    assert len(rows) == 64 + sum(line.startswith(" ") for line in rows)    # a line per cadre, nothing wrapped
    c0007 = next(line for line in rows if line.startswith("C0007"))
    assert "诫勉谈话 admonishment_talk" in c0007 and "不符合" in c0007
    lines = summary.splitlines()
    assert lines[0].startswith("汇总：2017-06-30 共 64 名干部")
    assert any("诫勉谈话" in line and "admonishment_talk" in line and line.rstrip().endswith("8") for line in lines)
    assert any(line.startswith("提拔：不符合") for line in lines)
    assert "\x1b[" not in out


def test_unit_team_findings_once_per_unit(sample_db):
    out = run(sample_db, "check", "--all", "--unit", "JL-EDU", "--as-of", AS_OF).stdout
    assert out.count("rotation_share_below_target") == 1
    assert out.startswith("JL-EDU 班子结构未达到的目标：")


def test_english_on_request(sample_db):
    out = run(sample_db, "check", "--all", "--as-of", AS_OF, lang="en").stdout
    head = out.splitlines()[0]
    assert [w for w in head.split() if w != "│"] == ["ID", "Name", "Unit", "Findings", "Promotion"]
    assert "Summary: 64 cadres on 2017-06-30" in out and "Promotion: ineligible" in out


def test_json_is_one_document_with_the_cadres_and_the_summary(sample_db):
    doc = json.loads(run(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "json").stdout)
    jsonschema.validate(doc, data.schema("check.output"))
    assert len(doc["cadres"]) == 64 and doc["summary"]["cadres"] == 64 and doc["unit"] is None
    # 5 cadres of 宜昌 have no promotion requirement in force for them in 2017: nothing to determine
    assert sum(doc["summary"]["promotion"].values()) == 59
    talk = next(f for f in doc["summary"]["findings"] if f["code"] == "admonishment_talk")
    assert talk["title"] == "诫勉谈话" and talk["cadres"] == sum(
        any(f["code"] == "admonishment_talk" and f["status"] == "active" for f in c["findings"]) for c in doc["cadres"])
    one = json.loads(run(sample_db, "check", "C0007", "--as-of", AS_OF, "--format", "json").stdout)
    assert one == next(c for c in doc["cadres"] if c["cadre"] == "C0007")
    unit = json.loads(run(sample_db, "check", "--all", "--unit", "JL-EDU", "--as-of", AS_OF, "--format", "json").stdout)
    jsonschema.validate(unit, data.schema("check.output"))
    assert unit["unit"]["id"] == "JL-EDU" and unit["unit"]["structure"] and "structure" not in unit["cadres"][0]
    lines = run(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == doc["cadres"]


def test_csv_opens_in_excel_with_chinese_headers(sample_db, tmp_path):
    out = tmp_path / "check.csv"
    run(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "csv", "-o", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["编号", "姓名", "单位编号", "单位", "结论", "结论代码", "提拔", "提拔代码"]
    c0007 = next(r for r in rows if r[0] == "C0007")
    assert c0007[1] == "李娟" and "诫勉谈话" in c0007[4] and "admonishment_talk" in c0007[5] and c0007[6] == "不符合"
    assert len(rows) == 65


def test_xlsx_has_a_sheet_per_table_frozen_headers_and_widths(sample_db, tmp_path):
    from openpyxl import load_workbook
    out = tmp_path / "check.xlsx"
    run(sample_db, "check", "--all", "--as-of", AS_OF, "--format", "xlsx", "-o", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["干部", "汇总", "说明"]
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert note["评估日期"] == AS_OF and note["政策集"].startswith("sha256:") and note["导出人"].startswith("cli:")
    assert note["草案"] == "无（按现行政策）" and note["干部"] == book["干部"].max_row - 1
    cadres, summary = book["干部"], book["汇总"]
    assert [c.value for c in cadres[1]] == ["编号", "姓名", "单位编号", "单位", "结论", "结论代码", "提拔", "提拔代码"]
    assert cadres.freeze_panes == "A2" and summary.freeze_panes == "A2"
    assert cadres.column_dimensions["D"].width > cadres.column_dimensions["A"].width
    row = next(r for r in cadres.iter_rows(min_row=2, values_only=True) if r[0] == "C0007")
    assert row[1] == "李娟" and row[6] == "不符合"
    counts = {r[1]: r[2] for r in summary.iter_rows(min_row=2, values_only=True)}
    assert counts["admonishment_talk"] == 8 and isinstance(counts["ineligible"], int)
    assert sum(counts[k] for k in ("eligible", "pending", "ineligible")) == 59


def test_cells_never_run_as_formulas_nor_carry_control_characters(tmp_path):
    from openpyxl import load_workbook
    from cadre_policy.render.tables import Column, Sheet, write_csv, write_xlsx
    hostile = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "王\x1b[31m伟\x00"]
    sheet = Sheet("Summary", [Column("v", "Name"), Column("n", "Number of cadres")],
                  [{"v": v, "n": -3} for v in hostile])
    text = io.StringIO(newline="")
    write_csv(sheet, text)
    rows = list(csv.reader(io.StringIO(text.getvalue().lstrip("\ufeff"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\\x09x", "'\\x0dx",
                                        "王\\x1b[31m伟\\x00"]
    assert {r[1] for r in rows[1:]} == {"-3"}
    path = tmp_path / "t.xlsx"
    with open(path, "wb") as out:
        write_xlsx([sheet], out)
    cells = list(load_workbook(path).active.iter_rows(min_row=2, values_only=True))
    assert [c[0] for c in cells] == [r[0] for r in rows[1:]] and {c[1] for c in cells} == {-3}


def test_structure_and_whatif_as_csv_and_xlsx(sample_db, tmp_path):
    from openpyxl import load_workbook
    from conftest import ROOT
    run(sample_db, "structure", "--as-of", AS_OF, "--format", "csv", "-o", str(tmp_path / "s.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8-sig"), newline="")))
    women = next(r for r in rows if r["规则"] == "structure.teams_with_women")
    assert (women["数值"], women["结果"], women["目标值"]) == ("6/10", "达到", "≥ 40%")     # 6/10 meets "50%左右" (宜昌's teams only)
    run(sample_db, "structure", "--as-of", AS_OF, "--format", "xlsx", "-o", str(tmp_path / "s.xlsx"))
    book = load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["结构目标", "汇总", "说明"] and book["结构目标"].freeze_panes == "A2"
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert note["评估日期"] == AS_OF and note["政策集"].startswith("sha256:") and note["导出人"].startswith("cli:")
    assert note["目标数"] == len(rows) and note["导出时间（北京时间）"][:2] == "20"
    cells = [[c.value if c.value is not None else "" for c in row] for row in book["结构目标"].iter_rows(min_row=2)]
    assert cells == [[r[k] for k in rows[0]] for r in rows]
    draft = str(ROOT / "drafts" / "grassroots_3y.yaml")
    run(sample_db, "whatif", "--draft", draft, "--as-of", AS_OF, "-q", "--workers", "1", "--format", "csv",
        "-o", str(tmp_path / "w.csv"))
    changes = list(csv.DictReader(io.StringIO((tmp_path / "w.csv").read_text(encoding="utf-8-sig"), newline="")))
    assert {r["编号"] for r in changes} == {"C0042", "C0057"}
    assert any(r["原因"].startswith("现行：基层工作经历（累计） 2年，不少于 2年；草案：") for r in changes)
    run(sample_db, "whatif", "--draft", draft, "--as-of", AS_OF, "-q", "--workers", "1", "--format", "xlsx",
        "-o", str(tmp_path / "w.xlsx"))
    book = load_workbook(tmp_path / "w.xlsx")
    assert book.sheetnames == ["汇总", "按单位", "变化明细", "影响面", "说明"]
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert note["评估日期"] == AS_OF and note["政策集"].startswith("sha256:") and note["导出人"].startswith("cli:")
    assert "grassroots_3y" in note["草案"] and "2年 → 3年" in note["草案调整内容"], note
    summary = {r[1]: r[2:] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["promotion:eligible"] == (29, 27, -2)
    detail = [[c.value if c.value is not None else "" for c in row] for row in book["变化明细"].iter_rows(min_row=2)]
    assert detail == [[r[k] for k in changes[0]] for r in changes]
