"""Every lint code on a small bad file, asserting file, line, column and code."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.load.policyset import lint
from policy_builder import HEADER, write_set

GOOD_RULE = """\
rules:
  - id: r.ok
    title: 正常
    provision: P004-5
    quote: 原文
    when: {fact: cadre.age, 以上: 40}
    finding: admonishment_talk
"""


def diagnostics(tmp_path, body: str, raw: bool = False):
    directory = tmp_path / "p"
    write_set(directory, {"bad": body if raw else HEADER.format(id="bad") + body})
    _, found = lint(directory)
    return [(Path(d.location.file).name, d.location.line, d.location.column, d.code) for d in found], found


# (code, body below the header, expected line as if the header had 5 lines, column)
CASES = [
    ("E001", "rules: [\n", 7, 1),
    ("E002", "rules: []\nrules: []\n", 7, 1),
    ("E101", "rules:\n  - id: r.x\n    title: 标题\n    provision: P004-5\n    quote: 原文\n", 7, 5),
    ("E102", GOOD_RULE.replace("    quote: 原文\n", "    quote: 原文\n    qoute: 原文\n"), 11, 5),
    ("E103", GOOD_RULE.replace("{fact: cadre.age, 以上: 40}", "{fact: cadre.age, 以上: 40, 超过: 50}"), 11, 11),
    ("E201", GOOD_RULE.replace("cadre.age", "cadre.aeg"), 11, 11),
    ("E202", GOOD_RULE.replace("以上: 40", "以上: {param: min_age}"), 11, 33),
    ("E203", GOOD_RULE.replace("finding: admonishment_talk", "finding: admonishment_tlak"), 7, 5),
    ("E204", GOOD_RULE + "    supersedes: [r.missing]\n", 7, 5),
    ("E205", GOOD_RULE + GOOD_RULE.replace("rules:\n", ""), 13, 5),
    ("E206", GOOD_RULE.replace("{fact: cadre.age, 以上: 40}", "{derived: nobody_derives_this}"), 11, 11),
    ("E301", GOOD_RULE.replace("{fact: cadre.age, 以上: 40}", "{fact: cadre.gender, eq: 3}"), 11, 11),
    ("E302", GOOD_RULE.replace("{fact: cadre.age, 以上: 40}", "{fact: cadre.gender, eq: mail}"), 11, 36),
    ("E303", "parameters:\n  ratio:\n    kind: ratio\n    title: 比例\n    values: {2008-01-01: 0.33}\n" +
     GOOD_RULE.replace("以上: 40", "以上: 1").replace("{fact: cadre.age", "{ratio: [cadre.age, cadre.age]").replace(
         "以上: 1}", "超过: {param: ratio}}"), 7, 3),
    ("E304", GOOD_RULE.replace("{fact: cadre.age, 以上: 40}", "{fact: cadre.gender, 以上: male}"), 11, 11),
    ("E401", GOOD_RULE + "    supersedes: [r.ok]\n", 7, 5),
    ("E402", """\
rules:
  - id: r.a
    title: 甲
    provision: P004-5
    quote: 原文
    when: {not: {finding: demotion_or_removal}}
    finding: admonishment_talk
  - id: r.b
    title: 乙
    provision: P004-5
    quote: 原文
    when: {not: {finding: admonishment_talk}}
    finding: demotion_or_removal
""", 7, 5),
    ("E403", "derived:\n  a: {title: 甲, elapsed: b}\n  b: {title: 乙, age: a}\n" + GOOD_RULE, 7, 3),
    ("W501", "parameters:\n  unused:\n    kind: count\n    title: 未用\n    values: {2008-01-01: 3}\n" + GOOD_RULE, 7, 3),
]


@pytest.mark.parametrize("code,body,line,column", CASES, ids=[c[0] for c in CASES])
def test_lint_code_names_the_place(tmp_path, code, body, line, column):
    found, raw = diagnostics(tmp_path, body)
    line += HEADER.count("\n") - 5        # the expected lines are counted below a 5-line header
    assert ("bad.yaml", line, column, code) in found, "\n".join(str(d) for d in raw)


def test_a_policy_without_jurisdiction_is_refused_with_its_file(tmp_path):
    header = "".join(line + "\n" for line in HEADER.format(id="bad").splitlines() if not line.startswith("jurisdiction"))
    found, raw = diagnostics(tmp_path, header + GOOD_RULE, raw=True)
    assert ("bad.yaml", 1, 1, "E408") in found, "\n".join(str(d) for d in raw)
    assert "jurisdiction" in next(d.message for d in raw if d.code == "E408")


def test_a_jurisdiction_without_regions_is_a_schema_error(tmp_path):
    header = HEADER.format(id="bad").replace("jurisdiction: {regions: [全国]}", "jurisdiction: {management: [county]}")
    found, raw = diagnostics(tmp_path, header + GOOD_RULE, raw=True)
    assert any(code == "E101" and line == 6 for _f, line, _c, code in found), "\n".join(str(d) for d in raw)


def test_a_set_mixing_regions_without_a_note_is_warned(tmp_path):
    directory = tmp_path / "p"
    body = GOOD_RULE
    write_set(directory, {
        "a": HEADER.format(id="a").replace("[全国]", "[宜昌市]") + body,
        "b": HEADER.format(id="b").replace("{regions: [全国]}", "{regions: [清江县], note: 江苏某县的文件，样例县}")
        + body.replace("r.ok", "r.other")})
    _, found = lint(directory)
    warned = [(Path(d.location.file).name, d.location.line, d.code) for d in found if d.code == "W505"]
    assert warned == [("a.yaml", 6, "W505")], found       # b says why in its note; a does not
    assert "清江县" in next(d.message for d in found if d.code == "W505")


def test_every_shipped_policy_states_its_jurisdiction():
    from cadre_policy.load.policies import load_policy_set
    policy_set, _ = load_policy_set(Path(__file__).resolve().parent.parent / "policies")
    assert all(p.jurisdiction is not None and p.jurisdiction.note for p in policy_set.policies)
    regions = {p.id: p.jurisdiction.regions for p in policy_set.policies}
    assert regions["regulation_2019"] == ("全国",) and regions["yichang_grassroots"] == ("宜昌市",)
    assert regions["supervision"] == regions["industrial_park"] == ("清江县",)


def test_missing_schema_line_is_a_warning(tmp_path):
    found, _ = diagnostics(tmp_path, HEADER.format(id="bad").split("\n", 1)[1] + GOOD_RULE, raw=True)
    assert ("bad.yaml", 1, 1, "W503") in found


def test_empty_directory_and_unreadable_file(tmp_path):
    (tmp_path / "empty").mkdir()
    _, found = lint(tmp_path / "empty")
    assert "E004" in [d.code for d in found]
    directory = write_set(tmp_path / "p", {})
    (directory / "blank.yaml").write_text("", encoding="utf-8")
    _, found = lint(directory)
    assert [(Path(d.location.file).name, d.code) for d in found] == [("blank.yaml", "E003")]


def test_suggestion_for_a_misspelt_fact(tmp_path):
    _, raw = diagnostics(tmp_path, GOOD_RULE.replace("cadre.age", "cadre.aeg"))
    assert any(d.code == "E201" and d.suggestion == "cadre.age" for d in raw)
    assert "did you mean 'cadre.age'?" in str(next(d for d in raw if d.code == "E201"))


def test_lint_command_exit_codes_and_sorted_lines(tmp_path):
    directory = write_set(tmp_path / "p", {"bad": HEADER.format(id="bad") + GOOD_RULE.replace(
        "cadre.age", "cadre.aeg").replace("finding: admonishment_talk", "finding: nope")})
    result = CliRunner().invoke(main, ["lint", str(directory)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": E" in line]
    assert [line.split(": ")[1].split()[0] for line in lines] == ["E203", "E201"]
    assert lines[0].startswith(f"{directory}/bad.yaml:8:5: E203 unknown finding code 'nope'")
    clean = CliRunner().invoke(main, ["lint", str(Path(__file__).resolve().parent.parent / "policies")])
    assert clean.exit_code == 0, clean.output
