"""Import validation: one test per kind of error, each asserting the file:line and JSON path."""
from __future__ import annotations

import json

import pytest

from conftest import FIXTURE, SAMPLE
from cadre_policy.intake.importer import validator

BASE = """\
units:
  - {id: U1, name: 单位一, kind: department, level: county}
cadres:
  - id: C1
    name: 王五
    gender: male
    birth_date: 1970-01-01
    party: cpc
    posts:
      - {unit: U1, title: 局长, rank: county, principal: true, leadership: true, start: 2010-01-01}
    reviews:
      - {date: 2016-05-10, total: 10, dissatisfied: 3}
    polls:
      - {date: 2017-02-10, approve: 5, total: 10}
    appraisals:
      - {year: 2015, grade: excellent}
"""
EXTRA_CADRE = """\
  - {id: C2, name: 赵六, gender: female, birth_date: 1980-01-01, party: cpc}
"""


def _edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


# (case id, file text, line, JSON path, message fragment)
CASES = [
    ("missing_field", _edit("    gender: male\n", ""), 4, "$.cadres[0]", "'gender' is a required property"),
    ("unknown_field", BASE + "    hobby: chess\n", 17, "$.cadres[0].hobby", "unknown field 'hobby'"),
    ("bad_enum", _edit("rank: county", "rank: boss"), 10, "$.cadres[0].posts[0].rank", "'boss' is not one of"),
    ("bad_date", _edit("1970-01-01", "1970-02-30"), 7, "$.cadres[0].birth_date", "is not a 'date'"),
    ("date_format", _edit("1970-01-01", "'1970/01/01'"), 7, "$.cadres[0].birth_date", "does not match"),
    ("wrong_type", _edit("total: 10, dissatisfied", "total: ten, dissatisfied"), 12,
     "$.cadres[0].reviews[0].total", "is not of type 'integer'"),
    ("negative", _edit("dissatisfied: 3", "dissatisfied: -1"), 12,
     "$.cadres[0].reviews[0].dissatisfied", "less than the minimum of 0"),
    ("unknown_unit", _edit("{unit: U1", "{unit: U9"), 10, "$.cadres[0].posts[0].unit", "unknown unit id 'U9'"),
    ("unknown_parent", _edit("level: county}", "level: county, parent: NOPE}"), 2, "$.units[0].parent",
     "unknown unit id 'NOPE'"),
    ("parent_cycle", _edit("level: county}", "level: county, parent: U1}"), 2, "$.units[0].parent",
     "parent cycle"),
    ("end_before_start", _edit("start: 2010-01-01}", "start: 2010-01-01, end: 2009-12-31}"), 10,
     "$.cadres[0].posts[0].end", "end 2009-12-31 is before start 2010-01-01"),
    ("start_before_birth", _edit("start: 2010-01-01}", "start: 1960-01-01}"), 10,
     "$.cadres[0].posts[0].start", "before birth_date"),
    ("dissatisfied_above_total", _edit("dissatisfied: 3", "dissatisfied: 11"), 12,
     "$.cadres[0].reviews[0].dissatisfied", "dissatisfied 11 is greater than total 10"),
    ("approve_above_total", _edit("approve: 5", "approve: 11"), 14, "$.cadres[0].polls[0].approve",
     "approve 11 is greater than total 10"),
    ("duplicate_cadre_id", BASE + EXTRA_CADRE.replace("C2", "C1"), 17, "$.cadres[1].id",
     "duplicate cadre id 'C1' (first at"),
    ("duplicate_unit_id", _edit("cadres:\n", "  - {id: U1, name: 又一, kind: other, level: county}\ncadres:\n"),
     3, "$.units[1].id", "duplicate unit id 'U1'"),
    ("duplicate_key", _edit("    party: cpc\n", "    party: cpc\n    party: non_cpc\n"), 9,
     "$.cadres[0].party", "duplicate key 'party' (first at line 8)"),
    ("duplicate_appraisal_year", BASE + "      - {year: 2015, grade: competent}\n", 17,
     "$.cadres[0].appraisals[1].year", "duplicate appraisal year 2015"),
    ("appraisal_date_before_year", _edit("{year: 2015, grade: excellent}",
                                         "{year: 2015, grade: excellent, date: 2014-12-01}"), 16,
     "$.cadres[0].appraisals[0].date", "before the appraisal year"),
    ("duplicate_rectification_stage",
     _edit("dissatisfied: 3}", "dissatisfied: 3, rectification: [{stage: three_month, date: 2016-08-10, "
                               "result: effective}, {stage: three_month, date: 2016-09-10, result: effective}]}"),
     12, "$.cadres[0].reviews[0].rectification[1].stage", "duplicate rectification stage 'three_month'"),
    ("rectification_before_review",
     _edit("dissatisfied: 3}", "dissatisfied: 3, rectification: [{stage: six_month, date: 2016-01-10, "
                               "result: effective}]}"),
     12, "$.cadres[0].reviews[0].rectification[0].date", "before the review date"),
    ("duplicate_review_date",
     _edit("      - {date: 2016-05-10, total: 10, dissatisfied: 3}\n",
           "      - {date: 2016-05-10, total: 10, dissatisfied: 3}\n      - {date: 2016-05-10, total: 48, dissatisfied: 17}\n"),
     13, "$.cadres[0].reviews[1].date", "duplicate review date 2016-05-10 (also reviews[0])"),
    ("two_polls_one_date",
     _edit("      - {date: 2017-02-10, approve: 5, total: 10}\n",
           "      - {date: 2017-02-10, approve: 5, total: 10}\n      - {date: 2017-02-10, approve: 9, total: 10}\n"),
     15, "$.cadres[0].polls[1].date", "two polls on 2017-02-10 (also polls[0])"),
    ("two_appraisals_one_date",
     _edit("      - {year: 2015, grade: excellent}\n",
           "      - {year: 2015, grade: excellent}\n      - {year: 2014, grade: competent, date: 2015-12-31}\n"),
     17, "$.cadres[0].appraisals[1].date", "two appraisals confirmed on 2015-12-31 (also appraisals[0])"),
    ("yaml_syntax", _edit("    party: cpc\n", "    party: [cpc\n"), 9, "$", "YAML syntax error"),
    ("not_a_mapping", "- just a list\n", 1, "$", "is not of type 'object'"),
]


def _import(run_cli, url, *paths):
    result = run_cli(url, "facts", "import", *paths)
    return result, result.stderr.splitlines()


@pytest.mark.parametrize("text,line,path,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_file_line_and_path(run_cli, sqlite_url, tmp_path, text, line, path, fragment):
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    result, lines = _import(run_cli, sqlite_url, file)
    assert result.exit_code == 2
    hits = [x for x in lines if x.startswith(f"{file}:{line}:") and f": {path}: " in x and fragment in x]
    assert hits, "\n".join(lines)
    assert lines[-1].endswith("nothing written")
    assert "Traceback" not in result.output
    assert run_cli(sqlite_url, "facts", "list").stdout == ""


def test_base_text_is_valid(run_cli, sqlite_url, tmp_path):
    file = tmp_path / "ok.yaml"
    file.write_text(BASE + EXTRA_CADRE, encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", file)
    assert result.exit_code == 0, result.output
    assert "cadres: 2 added" in result.stdout


def test_every_error_is_listed_at_once(run_cli, sqlite_url, tmp_path):
    text = (_edit("rank: county", "rank: boss").replace("approve: 5", "approve: 11")
            .replace("{unit: U1", "{unit: U9") + "    hobby: chess\n")
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    result, lines = _import(run_cli, sqlite_url, file)
    assert result.exit_code == 2
    assert len(lines) == 5 and lines[-1] == "Error: import rejected: 4 errors, nothing written"
    assert [int(x.split(":")[1]) for x in lines[:-1]] == sorted(int(x.split(":")[1]) for x in lines[:-1])


def test_json_input_gets_lines_and_paths(run_cli, sqlite_url, tmp_path):
    import yaml
    data = yaml.load(_edit("approve: 5", "approve: 11"), Loader=yaml.BaseLoader)  # all strings
    data = json.loads(json.dumps(data))
    for c in data["cadres"]:
        for p in c["polls"]:
            p["approve"], p["total"] = int(p["approve"]), int(p["total"])
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    result, lines = _import(run_cli, sqlite_url, file)
    assert result.exit_code == 2
    text = file.read_text(encoding="utf-8").splitlines()
    approve_line = next(n for n, x in enumerate(text, 1) if '"approve": 11' in x)
    assert any(x.startswith(f"{file}:{approve_line}:") and "$.cadres[0].polls[0].approve" in x for x in lines)
    # booleans came in as strings from BaseLoader: reported as type errors with their place
    assert any("$.cadres[0].posts[0].principal: 'true' is not of type 'boolean'" in x for x in lines)


def test_json_syntax_error(run_cli, sqlite_url, tmp_path):
    file = tmp_path / "bad.json"
    file.write_text('{"units": [\n  {"id": "U1",}\n]}\n', encoding="utf-8")
    result, lines = _import(run_cli, sqlite_url, file)
    assert result.exit_code == 2 and lines[0].startswith(f"{file}:2:") and "JSON syntax error" in lines[0]


def test_errors_across_files_name_each_file(run_cli, sqlite_url, tmp_path):
    good, bad = tmp_path / "a.yaml", tmp_path / "b.yaml"
    good.write_text(BASE, encoding="utf-8")
    bad.write_text("cadres:\n" + EXTRA_CADRE.replace("C2", "C1"), encoding="utf-8")
    result, lines = _import(run_cli, sqlite_url, good, bad)
    assert result.exit_code == 2
    assert lines[0].startswith(f"{bad}:2:") and f"first at {good}:4" in lines[0]
    assert run_cli(sqlite_url, "facts", "list").stdout == ""


def test_units_of_another_file_in_the_same_import(run_cli, sqlite_url, tmp_path):
    units, cadres = tmp_path / "units.yaml", tmp_path / "cadres.yaml"
    head, tail = BASE.split("cadres:\n")
    units.write_text(head, encoding="utf-8")
    cadres.write_text("cadres:\n" + tail, encoding="utf-8")
    result = run_cli(sqlite_url, "facts", "import", cadres, units)
    assert result.exit_code == 0, result.output


def test_missing_file(run_cli, sqlite_url, tmp_path):
    result, lines = _import(run_cli, sqlite_url, tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "cannot read file" in lines[0] and "nope.yaml" in lines[0]


def test_import_prints_counts_and_is_idempotent(run_cli, sqlite_url):
    first = run_cli(sqlite_url, "facts", "import", FIXTURE)
    assert first.stdout == "units: 4 added, 0 updated, 0 unchanged\ncadres: 2 added, 0 updated, 0 unchanged\n"
    again = run_cli(sqlite_url, "facts", "import", FIXTURE)
    assert again.stdout == "units: 0 added, 0 updated, 4 unchanged\ncadres: 0 added, 0 updated, 2 unchanged\n"


@pytest.mark.skipif(not SAMPLE.exists(), reason="facts/sample/city.yaml not written yet")
def test_sample_imports_and_shows(run_cli, sqlite_url):
    assert run_cli(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    shown = run_cli(sqlite_url, "facts", "show", "C0001")
    assert shown.exit_code == 0 and "姓名" in shown.stdout


def test_schema_is_draft_2020_12_and_documents_every_enum():
    from cadre_policy.language.labels import VALUES
    schema = validator().schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    defs = schema["$defs"]
    enums = {
        "rank": defs["rank"]["enum"], "grade": defs["appraisal"]["properties"]["grade"]["enum"],
        "unit_kind": defs["unit"]["properties"]["kind"]["enum"],
        "level": defs["unit"]["properties"]["level"]["enum"],
        "assessment_kind": defs["assessment"]["properties"]["kind"]["enum"],
        "department": defs["opinion"]["properties"]["department"]["enum"],
        "stage": defs["rectification"]["properties"]["stage"]["enum"],
        "result": defs["rectification"]["properties"]["result"]["enum"],
    }
    for key in ("gender", "party", "education", "management", "reserve"):
        enums[key] = defs["cadre"]["properties"][key]["enum"]
    for kind, values in enums.items():
        assert set(values) == set(VALUES[kind]), kind


def test_one_validator_configuration_refuses_a_count_written_as_a_float():
    """The import and the lint of policy, draft and tests files share one validator: 45.0 is no count."""
    from cadre_policy.parse.schemas import record_validator, validator
    review = {"date": "2016-05-10", "total": 45.0, "dissatisfied": 3}
    cadre = {"id": "C1", "name": "甲", "gender": "male", "birth_date": "1970-01-01", "party": "cpc",
             "reviews": [review]}
    assert any(e.validator == "type" for e in record_validator("cadres").iter_errors(cadre))
    assert any(e.validator == "type" for e in validator("facts").iter_errors({"cadres": [cadre]}))
    case_file = {"policy": "supervision", "as_of": "2017-06-30",
                 "cases": [{"name": "x", "cadre": {k: v for k, v in cadre.items() if k != "id"}, "expect": {}}]}
    assert any(e.validator == "type" for e in validator("tests").iter_errors(case_file))
    assert not list(record_validator("cadres").iter_errors(dict(cadre, reviews=[dict(review, total=45)])))
