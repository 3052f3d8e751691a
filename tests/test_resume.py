"""简历 in: a 干部任免审批表's résumé read into posts, every reading shown, nothing written while a line
is uncertain; the posts it gives are judged as the same career entered as posts."""
from __future__ import annotations

import json
from datetime import date as D

import yaml

from cadre_policy import data

LINES = [
    "1995.07--1997.06  东山县青石镇科员",
    "1997.06--1999.12  东山县青石镇副主任科员",
    "1999.12--2002.03  东山县青石镇主任科员",
    "2002.03--2004.08  东山县青石镇副镇长",
    "2004.08--2006.01  东山县白沙乡副镇长",          # unknown unit: 东山县白沙镇
    "2006.01-2008.09   东山县白沙镇镇长",
    "2008.09--2010.03  东山县白沙镇镇党委书记",
    "2010.03--2011.12  东山县教育局副局长",
    "2011.12--2013.06  东山县教育局局长",
    "2013.06--2015.01  东山县公安局政委",            # unknown title
    "2015.01--2016.03  东山县公安局局长",
    "2016.03—          东山县人民政府副县长",
]


def _store(run_cli, tmp_path, cadres):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    units = yaml.safe_load((data.POLICIES / "test_units.yaml").read_text(encoding="utf-8"))["units"]
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump({"units": units, "cadres": cadres}, allow_unicode=True), encoding="utf-8")
    assert run_cli(url, "facts", "import", path).exit_code == 0
    return url


def _cadre(cid, posts=None):
    cadre = {"id": cid, "name": "刘明", "gender": "male", "birth_date": D(1973, 5, 1), "party": "cpc",
             "education": "bachelor", "work_start": D(1995, 7, 1),
             "appraisals": [{"year": y, "grade": "excellent", "date": D(y + 1, 1, 20)} for y in (2014, 2015, 2016)],
             "nominations": [{"date": D(2017, 5, 1), "target_rank": "county", "target_unit": "DS-GOV"}]}
    if posts:
        cadre["posts"] = posts
    return cadre


def test_a_resume_with_an_unknown_unit_and_title_imports_nothing_and_names_both(run_cli, tmp_path):
    url = _store(run_cli, tmp_path, [_cadre("R1")])
    resume = tmp_path / "R1.txt"
    resume.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    checked = run_cli(url, "facts", "import", resume, "--cadre", "R1", "--check")
    assert checked.exit_code == 0
    assert f"{resume}:5: 2004.08--2006.01  东山县白沙乡副镇长" in checked.stdout
    assert "unknown unit '东山县白沙乡' (did you mean '东山县白沙镇'?)" in checked.stdout
    assert "unknown title in '东山县公安局政委'" in checked.stdout
    assert "12 lines, 2 problems; nothing written" in checked.stdout
    assert "2006-01-01 ~ 2008-08-31  东山县白沙镇 (DS-T2)  镇长  section" in checked.stdout
    refused = run_cli(url, "facts", "import", resume, "--cadre", "R1")
    assert refused.exit_code == 2
    assert f"{resume}:5:1" in refused.stderr and f"{resume}:10:1" in refused.stderr
    from cadre_policy.store.fact_store import FactStore
    with FactStore(url) as store:
        assert store.cadre("R1")["posts"] == []           # nothing written


def test_a_corrected_resume_gives_the_same_check_as_the_posts(run_cli, tmp_path):
    posts = [
        ("DS-T1", "科员", "clerk", False, False, D(1995, 7, 1), D(1997, 5, 31)),
        ("DS-T1", "副主任科员", "clerk", False, False, D(1997, 6, 1), D(1999, 11, 30)),
        ("DS-T1", "主任科员", "clerk", False, False, D(1999, 12, 1), D(2002, 2, 28)),
        ("DS-T1", "副镇长", "deputy_section", False, True, D(2002, 3, 1), D(2004, 7, 31)),
        ("DS-T2", "副镇长", "deputy_section", False, True, D(2004, 8, 1), D(2005, 12, 31)),
        ("DS-T2", "镇长", "section", True, True, D(2006, 1, 1), D(2008, 8, 31)),
        ("DS-T2", "镇党委书记", "section", True, True, D(2008, 9, 1), D(2010, 2, 28)),
        ("DS-EDU", "副局长", "deputy_section", False, True, D(2010, 3, 1), D(2011, 11, 30)),
        ("DS-EDU", "局长", "section", True, True, D(2011, 12, 1), D(2013, 5, 31)),
        ("DS-PSB", "副局长", "deputy_section", False, True, D(2013, 6, 1), D(2014, 12, 31)),
        ("DS-PSB", "局长", "section", True, True, D(2015, 1, 1), D(2016, 2, 29)),
        ("DS-GOV", "副县长", "deputy_county", False, True, D(2016, 3, 1), None),
    ]
    entered = [dict({"unit": u, "title": t, "rank": r, "principal": p, "leadership": lead, "start": s},
                    **({"end": e} if e else {})) for u, t, r, p, lead, s, e in posts]
    url = _store(run_cli, tmp_path, [_cadre("R1"), _cadre("P1", entered)])
    fixed = [line.replace("白沙乡", "白沙镇").replace("公安局政委", "公安局副局长") for line in LINES]
    resume = tmp_path / "R1.txt"
    resume.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    result = run_cli(url, "facts", "import", resume, "--cadre", "R1")
    assert result.exit_code == 0, result.output
    assert "R1: 12 posts written from the 简历" in result.stdout

    def check(cid):
        out = json.loads(run_cli(url, "check", cid, "--as-of", "2017-06-30", "--format", "json").stdout)
        for key in ("cadre", "name", "policy_set"):
            out.pop(key, None)
        return out
    assert check("R1") == check("P1")


def test_out_of_order_and_overlapping_periods_are_named(run_cli, tmp_path):
    url = _store(run_cli, tmp_path, [_cadre("R1")])
    resume = tmp_path / "R1.txt"
    resume.write_text("2002.03--2004.08 东山县青石镇副镇长\n1999.12--2002.03 东山县青石镇主任科员\n"
                      "2003.01-- 东山县白沙镇镇长\n", encoding="utf-8")
    checked = run_cli(url, "facts", "import", resume, "--cadre", "R1", "--check").stdout
    line2, line3 = checked.split(f"{resume}:2:")[1].split(f"{resume}:3:")
    assert "out of order: starts before line 1" in line2 and "overlaps" not in line2
    assert "overlaps line 1" in line3 and "3 lines, 2 problems" in checked


def test_a_sheet_of_resumes_names_the_cell_and_line_then_imports_them_all(run_cli, tmp_path):
    import csv
    url = _store(run_cli, tmp_path, [_cadre("R1"), _cadre("R2")])
    sheet = tmp_path / "简历.csv"

    def write(second_title):
        with open(sheet, "w", encoding="utf-8", newline="") as out:
            rows = csv.writer(out)
            rows.writerow(["干部编号", "姓名", "简历"])
            rows.writerow(["R1", "刘明", "1995.07--2002.03 东山县青石镇科员\n2002.03-- 东山县青石镇副镇长"])
            rows.writerow(["R2", "刘明", f"1995.07--2002.03 东山县白沙镇科员\n2002.03-- 东山县白沙镇{second_title}"])
    write("政委")
    checked = run_cli(url, "facts", "import", sheet, "--resumes", "--check")
    assert checked.exit_code == 0 and f"{sheet}:简历!C3: R2" in checked.stdout
    assert "4 lines, 1 problems; nothing written" in checked.stdout
    refused = run_cli(url, "facts", "import", sheet, "--resumes")
    assert refused.exit_code == 2 and f"{sheet}:简历!C3: line 2: unknown title in '东山县白沙镇政委'" in refused.stderr
    write("镇长")
    done = run_cli(url, "facts", "import", sheet, "--resumes")
    assert done.exit_code == 0 and "2 cadres' posts written from their 简历" in done.stdout
    from cadre_policy.store.fact_store import FactStore
    with FactStore(url) as store:
        assert [(p["title"], p["rank"]) for p in store.cadre("R2")["posts"]] == [("科员", "clerk"), ("镇长", "section")]
