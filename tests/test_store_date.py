"""The store's default evaluation date (issue 23 §8): set by an admin (`policy store set-date`, the 本库设置
page), followed by the commands' --as-of and every page's date, shown in the header; a date outside every
document's force says which dates are covered, and offers one."""
from __future__ import annotations

import re
from datetime import date

import pytest

from cadre_policy import data
from cadre_policy.explain.coverage import choices, covered, outside_force
from cadre_policy.i18n import using
from cadre_policy.load.policyset import load
from conftest import ROOT, invoke
from serve_server import AS_OF, served

DRAFT = str(data.DRAFTS / "admonish_30pct.yaml")


def test_set_show_and_clear_the_date(sqlite_url):
    assert invoke(sqlite_url, "facts", "import", data.SAMPLE / "city.yaml").exit_code == 0
    shown = invoke(sqlite_url, "--lang", "zh", "store", "set-date")
    assert shown.exit_code == 0 and "未设默认评估日期" in shown.output
    assert "2017-06-30" in invoke(sqlite_url, "store", "set-date", AS_OF).output
    checked = invoke(sqlite_url, "check", "C0007", "--format", "json")
    assert '"as_of": "2017-06-30"' in checked.stdout and "admonishment_talk" in checked.stdout
    structure = invoke(sqlite_url, "--lang", "zh", "structure")
    assert "2017-06-30" in structure.stdout and "没有有效的结构目标" not in structure.stdout
    whatif = invoke(sqlite_url, "whatif", "--draft", DRAFT, "--format", "json", "-q")
    assert '"as_of": "2017-06-30"' in whatif.stdout
    assert invoke(sqlite_url, "check", "C0007", "--as-of", "2020-06-30", "--format", "json").stdout.count(
        '"as_of": "2020-06-30"') == 1                                         # --as-of still wins
    cleared = invoke(sqlite_url, "--lang", "zh", "store", "set-date", "--clear")
    assert cleared.exit_code == 0 and "使用今天" in cleared.output
    assert f'"as_of": "{date.today().isoformat()}"' in invoke(sqlite_url, "check", "C0007", "--format", "json").stdout
    both = invoke(sqlite_url, "--lang", "zh", "store", "set-date", AS_OF, "--clear")
    assert both.exit_code == 2 and "不能同时" in both.output
    bad = invoke(sqlite_url, "--lang", "zh", "store", "set-date", "2017-02-30")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_a_date_outside_every_document_says_which_are_covered(sqlite_url):
    policy_set = load(ROOT / "policies")
    assert covered(policy_set) == [(date(2000, 1, 1), None)] and choices(policy_set) == [date(2000, 1, 1)]
    assert outside_force(policy_set, date(2017, 6, 30)) is None
    with using("zh"):
        assert outside_force(policy_set, date(1990, 1, 1)) == \
            "1990-01-01 不在任何政策文件的有效期内；各文件涵盖的日期：自 2000-01-01 起。"
    assert invoke(sqlite_url, "facts", "import", data.SAMPLE / "city.yaml").exit_code == 0
    result = invoke(sqlite_url, "--lang", "zh", "check", "C0007", "--as-of", "1990-01-01")
    assert "不在任何政策文件的有效期内" in result.stderr and "--as-of" in result.stderr
    assert "不在任何政策文件" not in result.stdout
    assert "不在任何政策文件" not in invoke(sqlite_url, "check", "C0007", "--as-of", AS_OF).stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory, "dated")


def _header(html: str) -> str:
    found = re.search(r'<p class="as-of" id="as-of">([^<]*)</p>', html)
    return found.group(1) if found else ""


def test_pages_follow_the_store_date(server):
    admin = server.client("admin")
    admin.headers["Accept"] = "text/html"
    today = date.today()
    assert _header(admin.get("/units").text) == f"评估日期：{today.year}年{today.month}月{today.day}日（今天）"

    form = admin.get("/settings").text                           # the admin's form sets it
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    saved = admin.post("/settings", data={"csrf_token": csrf, "default_as_of": AS_OF, "action": "set"},
                       follow_redirects=True)
    assert saved.status_code == 200 and "默认评估日期为 2017-06-30" in saved.text
    assert _header(admin.get("/units").text) == "评估日期：2017年6月30日（本库默认）"
    assert _header(admin.get("/rules").text) == "评估日期：2017年6月30日（本库默认）"
    check = admin.get("/cadres/C0007").text
    assert "诫勉谈话" in check and _header(check) == "评估日期：2017年6月30日（本库默认）"
    assert _header(admin.get("/cadres/C0007?as_of=2020-06-30").text) == "评估日期：2020年6月30日"
    assert admin.get("/api/v1/cadres/C0007").status_code == 200
    assert admin.get("/api/v1/structure").json()["as_of"] == AS_OF       # the API's default too

    outside = admin.get("/cadres/C0007?as_of=1990-01-01").text     # outside every document: why, and a choice
    assert "1990-01-01 不在任何政策文件的有效期内" in outside
    assert 'href="/cadres/C0007?as_of=2000-01-01"' in outside
    assert "不在任何政策文件" not in check

    viewer = server.client("bh")
    assert viewer.get("/settings", headers={"Accept": "text/html"}).status_code == 403   # admins only
    bad = admin.post("/settings", data={"csrf_token": csrf, "default_as_of": "2017-02-30", "action": "set"})
    assert bad.status_code == 422 and "2017-02-30" in bad.text
    token = admin.headers.pop("X-CSRF-Token")
    assert admin.post("/settings", data={"default_as_of": AS_OF, "action": "set"}).status_code == 403
    admin.headers["X-CSRF-Token"] = token
    assert admin.post("/settings", data={"csrf_token": csrf, "action": "clear"}).status_code == 303
    assert "（今天）" in _header(admin.get("/units").text)
    assert invoke(server.db_url, "store", "set-date", "2016-12-31").exit_code == 0     # the CLI, at once
    assert _header(admin.get("/").text) == "评估日期：2016年12月31日（本库默认）"
    assert invoke(server.db_url, "store", "set-date", "--clear").exit_code == 0


@pytest.mark.parametrize("name", ["cadre_policy.render.times", "cadre_policy.serve.app"])
def test_doctests_of_dates_and_languages(name):
    """long_day (the header's date) and request_language (?lang, cookie, Accept-Language)."""
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
