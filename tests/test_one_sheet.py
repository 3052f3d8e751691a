"""One per-cadre sheet and one reason phraser: the CLI and the workbench print the same bytes for the same check,
and every reason is said the way the terminal says it."""
from __future__ import annotations

from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.render.reasons import phrase
from conftest import ROOT
from serve_server import AS_OF


def test_the_cli_and_the_workbench_print_the_same_sheet(workbench_server):
    client = workbench_server.client("admin")
    page = client.get(f"/cadres/C0007/sheet?as_of={AS_OF}")
    assert page.status_code == 200
    result = CliRunner().invoke(main, ["--lang", "zh", "--db", workbench_server.db_url, "check", "C0007",
                                       "--as-of", AS_OF, "--policies", str(ROOT / "policies"), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert page.content == result.stdout_bytes
    text = page.text
    # the post as it is named, the reasons as the terminal says them, no operator symbols
    assert "清江县龙泉镇党委书记" in text and "龙泉镇镇" not in text
    assert "最近一次年度考核·等次为称职，不是优秀" in text and "16/45，超过 1/3" in text
    assert "= 优秀" not in text and "已认定 ✗" not in text and "审查结论" in text


def test_a_threshold_is_said_through_the_label_table():
    label = {"current_post.rank": "现任职务·职务层次", "promotion.target_rank": "提拔·拟任职务层次",
             "principal_rank_of_target_level": "拟任职务所在级别的正职层次", "nomination.date": "拟提拔·日期",
             "latest_poll.date": "最近一次民意征询·日期", "cadre.education": "学历"}.get
    from cadre_policy.i18n import using
    from cadre_policy.render.check import value_label
    with using("zh"):
        said = [phrase(entry, label, value_label) for entry in (
            {"fact": "current_post.rank", "op": "以下", "value": "clerk", "threshold": "section", "holds": True},
            {"fact": "cadre.education", "op": "以上", "value": "bachelor", "threshold": "college", "holds": True},
            {"fact": "promotion.target_rank", "op": "eq", "value": "deputy_county",
             "threshold": "principal_rank_of_target_level = county", "holds": False},
            {"fact": "latest_poll.date", "op": "on_or_after", "value": "2017-03-20",
             "threshold": "nomination.date = 2017-03-01", "holds": True})]
    assert said == ["现任职务·职务层次 科员，正科以下", "学历 大学本科，大专以上",
                    "提拔·拟任职务层次为副县，不是拟任职务所在级别的正职层次（正县）",
                    "最近一次民意征询·日期 2017-03-20，不早于 拟提拔·日期（2017-03-01）"]


def test_a_post_is_named_as_it_is_said():
    from cadre_policy.language.posts import post_name
    assert post_name("清江县龙泉镇", "镇党委书记") == "清江县龙泉镇党委书记"
    assert post_name("中共清江县委", "县委书记") == "中共清江县委书记"
    assert post_name("清江县人民政府", "县长") == "清江县人民政府县长"
    assert post_name("清江县龙泉镇", "镇长") == "清江县龙泉镇镇长" and post_name("清江县龙泉镇", "镇政府科员") == "清江县龙泉镇政府科员"
    assert post_name("清江县人民法院", "院长") == "清江县人民法院院长"
    assert post_name(None, "科员") == "科员" and post_name("清江县教育局", None) == "清江县教育局"


def test_a_look_writes_no_record_and_核查并留痕_writes_one(workbench_server):
    import re
    client = workbench_server.client("qj")
    csrf = client.headers["X-CSRF-Token"]
    before = len(client.get("/api/v1/records", params={"limit": 500}).json()["records"])
    page = client.get(f"/cadres/C0007?as_of={AS_OF}").text
    assert 'id="record-button"' in page
    assert len(client.get("/api/v1/records", params={"limit": 500}).json()["records"]) == before
    done = client.post("/cadres/C0007/record", data={"csrf_token": csrf, "as_of": AS_OF}, follow_redirects=True)
    record = re.search(r'id="record">#(\d+)<', done.text).group(1)
    assert "已留痕" in done.text and 'id="record-button"' not in done.text
    assert client.get(f"/api/v1/records/{record}").json()["request"]["cadre"] == "C0007"
    assert client.post("/cadres/C0007/record", data={"csrf_token": "x", "as_of": AS_OF}).status_code == 403
