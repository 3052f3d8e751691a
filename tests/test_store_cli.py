"""The `policy facts` commands: output, exit codes, one-line errors."""
from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import create_engine, text

from conftest import FIXTURE


@pytest.fixture
def loaded(run_cli, sqlite_url):
    assert run_cli(sqlite_url, "facts", "import", FIXTURE).exit_code == 0
    return sqlite_url


def _one_line_error(result, *needles):
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_show_uses_chinese_labels_and_values(run_cli, loaded):
    result = run_cli(loaded, "facts", "show", "C0001")
    assert result.exit_code == 0
    out = result.stdout
    for text_ in ("姓名：张伟", "性别：男", "出生日期：1975-04-12", "任职经历", "正科", "副县",
                  "基本称职", "优秀", "不满意 16/45", "整改不力", "拟任 正县", "同意 38/45", "安监局",
                  "问题突出", "2013-07-01 至今"):
        assert text_ in out, text_
    assert "\x1b[" not in out  # not a terminal: plain text


def test_list_one_line_per_cadre(run_cli, loaded):
    lines = run_cli(loaded, "facts", "list").stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:5] == ["C0001", "张伟", "区委副书记", "西陵区委(XL-PC)", "副县"]
    only = run_cli(loaded, "facts", "list", "--unit", "XL-TOWN1").stdout.splitlines()
    assert [x.split()[0] for x in only] == ["C0002"]


def test_list_reads_the_current_post_and_the_unit_on_the_as_of_day(run_cli, loaded):
    # C0001 held XL-TOWN1 from 2009-03-01 to its last day 2013-06-30 (held that day), then XL-PC
    before = run_cli(loaded, "facts", "list", "--as-of", "2013-06-30").stdout.splitlines()
    assert before[0].split()[:5] == ["C0001", "张伟", "街道党工委书记", "窑湾街道(XL-TOWN1)", "正科"]
    town = run_cli(loaded, "facts", "list", "--unit", "XL-TOWN1", "--as-of", "2013-06-30").stdout.splitlines()
    assert [x.split()[0] for x in town] == ["C0001", "C0002"]
    town = run_cli(loaded, "facts", "list", "--unit", "XL-TOWN1", "--as-of", "2013-07-01").stdout.splitlines()
    assert [x.split()[0] for x in town] == ["C0002"]
    early = run_cli(loaded, "facts", "list", "--as-of", "2009-02-28").stdout.splitlines()
    assert early[0].split()[:3] == ["C0001", "张伟", "（无现职）"]


def test_unknown_cadre_id(run_cli, loaded):
    _one_line_error(run_cli(loaded, "facts", "show", "C9999"), "unknown cadre id", "C9999")


def test_unknown_unit_id(run_cli, loaded):
    _one_line_error(run_cli(loaded, "facts", "list", "--unit", "NOPE"), "unknown unit id", "NOPE")


def test_export_yaml_and_json_to_file(run_cli, loaded, tmp_path):
    out = tmp_path / "all.json"
    assert run_cli(loaded, "facts", "export", "--format", "json", "--output", out).exit_code == 0
    text_ = out.read_text(encoding="utf-8")
    assert "张伟" in text_  # unescaped
    data = json.loads(text_)
    assert [c["id"] for c in data["cadres"]] == ["C0001", "C0002"]
    as_yaml = run_cli(loaded, "facts", "export").stdout
    assert "张伟" in as_yaml and yaml.safe_load(as_yaml)["cadres"][0]["name"] == "张伟"


def test_export_of_empty_store_imports(run_cli, sqlite_url, tmp_path):
    for fmt in ("yaml", "json"):
        out = tmp_path / f"empty.{fmt}"
        assert run_cli(sqlite_url, "facts", "export", "--format", fmt, "-o", out).exit_code == 0
        result = run_cli(sqlite_url, "facts", "import", out)
        assert result.exit_code == 0 and "cadres: 0 added" in result.stdout


def test_schema_version_mismatch_is_one_line(run_cli, loaded):
    engine = create_engine(loaded)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_meta SET value = '0'"))
    engine.dispose()
    _one_line_error(run_cli(loaded, "facts", "list"), "schema version 0")


@pytest.mark.parametrize("url,needle", [
    ("nonsense", "cannot use database URL"),
    ("nosuchdb+driver://x/y", "cannot use database URL"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", "cannot open database"),
    ("sqlite:////nonexistent-dir/x/policy.db", "cannot open database"),
])
def test_unusable_database_is_one_line(run_cli, url, needle):
    _one_line_error(run_cli(url, "facts", "list"), needle)
