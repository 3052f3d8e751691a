"""`policy check ID --format html --layout appointment`: the cadre in the layout of the 干部任免审批表."""
from __future__ import annotations

from datetime import date as D

import yaml

from cadre_policy import data


def _store(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    units = yaml.safe_load((data.POLICIES / "test_units.yaml").read_text(encoding="utf-8"))["units"]
    cadre = {"id": "A1", "name": "张<b>伟", "gender": "male", "birth_date": D(1975, 4, 12), "party": "cpc",
             "ethnicity": "汉族", "native_region": "东山县", "work_start": D(1997, 7, 1),
             "party_joined": D(1996, 6, 1), "status": "civil_servant",
             "educations": [{"level": "bachelor", "degree": "bachelor_degree", "mode": "full_time",
                             "school": "江城大学", "date": D(1997, 7, 1)},
                            {"level": "master", "mode": "in_service", "school": "省委党校", "date": D(2008, 12, 1)}],
             "posts": [{"unit": "DS-T1", "title": "科员", "rank": "clerk", "principal": False, "leadership": False,
                        "start": D(1997, 7, 1), "end": D(2001, 2, 28)},
                       {"unit": "DS-T1", "title": "镇长", "rank": "section", "principal": True, "leadership": True,
                        "start": D(2001, 3, 1)}],
             "appraisals": [{"year": y, "grade": "competent", "date": D(y + 1, 1, 20)} for y in range(2012, 2017)],
             "nominations": [{"date": D(2017, 5, 1), "target_rank": "deputy_county", "target_unit": "DS-GOV"}],
             "sanctions": [{"date": D(2016, 3, 1), "kind": "party_serious_warning", "note": "违反工作纪律"}]}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump({"units": units, "cadres": [cadre]}, allow_unicode=True), encoding="utf-8")
    assert run_cli(url, "facts", "import", path).exit_code == 0
    return url


def test_the_appointment_form_holds_the_record_and_the_conclusion(run_cli, tmp_path):
    url = _store(run_cli, tmp_path)
    out = tmp_path / "form.html"
    result = run_cli(url, "check", "A1", "--as-of", "2017-06-30", "--format", "html", "--layout", "appointment",
                     "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<h1>干部任免审批表</h1>" in page and "张&lt;b&gt;伟" in page and "<b>伟" not in page
    assert "1975.04（42岁）" in page and "<td>1996.06</td>" in page and "<td>1997.07</td>" in page
    assert "大学本科 学士 江城大学" in page and "硕士研究生 省委党校" in page
    assert "东山县青石镇镇长（正科）" in page and "东山县人民政府（副县）" in page
    assert "1997.07--2001.03  东山县青石镇科员\n2001.03--         东山县青石镇镇长" in page
    assert "2016-03-01 党内严重警告 违反工作纪律" in page
    assert "2014年度 称职；2015年度 称职；2016年度 称职" in page
    assert "不在处分、组织处理或者诫勉的影响期内：不符合" in page and ">不符合：" in page


def test_layout_is_a_layout_of_html(run_cli, tmp_path):
    url = _store(run_cli, tmp_path)
    result = run_cli(url, "check", "A1", "--layout", "appointment")
    assert result.exit_code == 2 and "--layout" in result.output


def test_facts_show_prints_the_new_records(run_cli, tmp_path):
    url = _store(run_cli, tmp_path)
    shown = run_cli(url, "facts", "show", "A1").stdout
    assert "入党时间：1996-06-01" in shown and "身份：公务员" in shown
    assert "学历学位\n  1997-07-01  全日制  大学本科  学士  江城大学" in shown
    assert "处分和组织处理\n  2016-03-01  党内严重警告  违反工作纪律" in shown
