"""Saved drafts against a real `policy serve`: the form's draft saved under a name, a second version by
another author of the county, the diff against the rules in force and between versions in Chinese
sentences, 另存为, scope (another county's author is refused), and the case simulator (a fact changed,
both sides evaluated, nothing written; a bad value names its field)."""
from __future__ import annotations

import html
import re
from contextlib import closing

import pytest
from serve_server import AS_OF, served


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory, "drafts", ("qj2", "author", "QJ-PC"), ("bha", "author", "BH-PC"))


def _textarea(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="draft"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def _text(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return html.unescape(re.sub(r"<[^>]+>", "", page[start:page.index("</section>", start)]))


def _save(client, text: str, name: str = "诫勉比例草案", note: str = "") -> str:
    answer = client.post("/drafts", data={"csrf_token": client.headers["X-CSRF-Token"], "name": name, "text": text,
                                          "note": note}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_a_saved_draft_its_versions_and_diffs(server):
    with closing(server.client("qj")) as qj, closing(server.client("qj2")) as qj2, \
            closing(server.client("bha")) as bha:
        csrf = qj.headers["X-CSRF-Token"]
        text = _textarea(qj.get("/whatif", params={"param": "supervision.admonish_ratio", "value": "1/4",
                                                   "start": "2017-01-01", "title": "诫勉谈话比例调整"}).text)
        where = _save(qj, text, note="初稿")
        page = qj.get(where).text
        diff = _text(page, "comparison")
        assert "草案与现行对照" in diff
        assert "给予诫勉谈话的“不满意”票比例：三分之一（1/3） → 四分之一（1/4），自2017年1月1日起" in diff
        assert "第 1 版" in page and "初稿" in page

        # a colleague of the same county sees it, switches a rule off from the rule page into it: version 2
        draft_id = where.rsplit("/", 1)[1]
        assert f'href="/drafts/{draft_id}"' in qj2.get("/drafts").text
        assert f'href="/drafts/{draft_id}"' not in qj2.get("/drafts?mine=1").text
        merged = _textarea(qj2.get("/whatif", params={"disable": "supervision.due", "start": "2017-01-01",
                                                      "saved": draft_id}).text)
        assert "supervision.admonish_ratio: 1/4" in merged and "- supervision.due" in merged
        saved = qj2.post(f"/drafts/{draft_id}/versions", data={"csrf_token": qj2.headers["X-CSRF-Token"],
                                                                "text": merged, "note": "停用评议提醒"},
                         follow_redirects=False)
        assert saved.status_code == 303
        page = qj.get(where).text
        assert "共 2 版" in page and "qj2" in page
        assert "停止适用" in _text(page, "comparison")
        versions = qj.get(f"{where}/diff", params={"a": 1, "b": 2}).text
        changed = _text(versions, "comparison")
        assert "停止适用" in changed and "诫勉" not in changed.split("停止适用")[0]     # the ratio did not change
        assert "qj2" in versions and "停用评议提醒" in versions
        # restored in version 3 by the rule page's 恢复适用: the diff says it applies again
        assert 'id="draft-restore"' in qj.get("/rules/supervision.due").text
        restored = _textarea(qj.get("/whatif", params={"restore": "supervision.due", "saved": draft_id}).text)
        assert "supervision.due" not in restored and "supervision.admonish_ratio: 1/4" in restored
        qj.post(f"/drafts/{draft_id}/versions", data={"csrf_token": csrf, "text": restored, "note": "恢复"})
        assert "恢复适用" in _text(qj.get(f"{where}/diff", params={"a": 2, "b": 3}).text, "comparison")

        # another county's author: refused; a copy (另存为) is the copier's own, version 1
        assert bha.get(where).status_code == 403
        assert f'href="/drafts/{draft_id}"' not in bha.get("/drafts").text
        copy = qj2.post(f"/drafts/{draft_id}/copy", data={"csrf_token": qj2.headers["X-CSRF-Token"],
                                                          "name": "副本"}, follow_redirects=False)
        page = qj2.get(copy.headers["location"]).text
        assert "副本" in page and "起草人 qj2" in page and "共 1 版" in page
        assert qj.post("/drafts", data={"csrf_token": csrf, "name": " ", "text": text}).status_code == 422


def test_a_saved_draft_with_an_error_shows_it(server):
    with closing(server.client("qj")) as qj:
        where = _save(qj, "id: d\ntitle: 坏草案\nparameters:\n  supervision.admonsh_ratio: 1/4\n", "坏草案")
        page = qj.get(where).text
        assert 'id="draft-errors"' in page and "第 4 行" in page


def test_the_case_simulator(server):
    with closing(server.client("qj")) as qj:
        text = _textarea(qj.get("/whatif", params={"param": "supervision.admonish_ratio", "value": "2/5",
                                                   "start": "2017-01-01"}).text)
        draft_id = _save(qj, text, "诫勉比例五分之二").rsplit("/", 1)[1]
        # by name: 李娟 is C0007; 16/45 is over 1/3 (in force) and under 2/5 (the draft)
        page = qj.get("/simulate", params={"cadre": "李娟", "draft": draft_id, "as_of": AS_OF})
        assert page.status_code == 200
        left, right = _text(page.text, "in-force"), _text(page.text, "draft-side")
        assert "诫勉谈话" in left and "诫勉谈话" not in right
        assert re.search(r'<li class="differs" data-code="admonishment_talk">', page.text)
        # a fact changed: 10 dissatisfied of 45 is under both; the store keeps 16
        page = qj.get("/simulate", params={"cadre": "C0007", "draft": draft_id, "as_of": AS_OF,
                                           "f.reviews.0.dissatisfied": "10"}).text
        assert "不满意票 16 → 10" in html.unescape(re.sub(r"<[^>]+>", "", page))
        assert "诫勉谈话" not in _text(page, "in-force")
        assert '"dissatisfied": 16' in qj.get("/api/v1/cadres/C0007").text.replace(":16", ": 16")
        # a bad value: a Chinese error naming the field, 422
        bad = qj.get("/simulate", params={"cadre": "C0007", "as_of": AS_OF, "f.reviews.0.dissatisfied": "十六",
                                          "f.birth_date": "1983-02-30"})
        assert bad.status_code == 422
        refused = html.unescape(re.sub(r"<[^>]+>", "", bad.text[bad.text.index('id="refused"'):]))
        assert "监督评议（第1条）·不满意票：不是整数：十六" in refused and "出生日期：" in refused
        # another county's cadre is not the officer's
        assert qj.get("/simulate", params={"cadre": "C0018", "as_of": AS_OF}).status_code == 403
        assert 'id="simulate-link"' in qj.get(f"/cadres/C0007?as_of={AS_OF}").text


def test_drafts_are_kept_on_every_backend(store):
    """accounts/drafts.py on SQLite, PostgreSQL and MariaDB: versions counted per draft, newest first, Chinese
    and long texts kept whole, who sees what."""
    from cadre_policy.accounts.drafts import Drafts, DraftStoreError
    from cadre_policy.accounts.users import Account
    drafts = Drafts(store.engine)
    qj, qj2, bh = Account("qj", "author", ("QJ-PC",)), Account("qj2", "author", ("QJ-PC", "QJ-LQ")), \
        Account("bh", "author", ("BH-PC",))
    long_text = "id: d\ntitle: 草案\nnote: " + "说明𠀀" * 20_000 + "\n"
    first = drafts.create("草案甲", long_text, "初稿", qj)
    second = drafts.create("草案乙", "id: e\ntitle: 乙\n", "", bh)
    assert drafts.save(first, long_text + "# 二\n", "第二稿", qj2) == 2
    assert drafts.version(first, None, qj).text == long_text + "# 二\n"
    assert drafts.version(first, 1, qj2).text == long_text
    assert [(v.seq, v.author, v.note) for v in drafts.versions(first, qj)] == [(2, "qj2", "第二稿"), (1, "qj", "初稿")]
    assert [d.id for d in drafts.list(qj2)] == [first] and drafts.list(qj2, mine=True) == []
    assert {d.id for d in drafts.list(Account("root", "admin"))} == {first, second}
    listed = drafts.list(qj)[0]
    assert (listed.versions, listed.updated_by, listed.author) == (2, "qj2", "qj")
    with pytest.raises(DraftStoreError) as refused:
        drafts.get(first, bh)
    assert refused.value.status == 403
    with pytest.raises(DraftStoreError):
        drafts.save(second, "", "", bh)                        # empty: refused, nothing kept
    copy = drafts.duplicate(first, "草案甲（副本）", qj2)
    assert drafts.get(copy, qj2).author == "qj2" and drafts.version(copy, None, qj2).text == long_text + "# 二\n"


def test_the_diff_on_the_command_line(sample_db, tmp_path):
    """`policy whatif --diff-only`: the same comparison in text (and JSON), nothing run."""
    from conftest import invoke
    draft = tmp_path / "d.yaml"
    draft.write_text("id: d\ntitle: 草案\nin_force: {from: 2017-01-01}\nparameters:\n  supervision.admonish_ratio: 1/4\n"
                     "disable: [supervision.due]\njurisdictions:\n  supervision: {regions: [宜昌市]}\n", encoding="utf-8")
    text = invoke(sample_db, "--lang", "zh", "whatif", "--draft", draft, "--diff-only", "--as-of", AS_OF).stdout
    lines = text.splitlines()
    assert lines[0] == "草案与现行对照"
    assert lines[1] == "  给予诫勉谈话的“不满意”票比例：三分之一（1/3） → 四分之一（1/4），自2017年1月1日起"
    assert lines[2].startswith("  停止适用：") and lines[2].endswith("〔supervision.due〕") and lines[3] == "    改动前："
    assert lines[-1] == "  《深化干部制度改革 推进又好又快发展》的辖区：清江县 → 宜昌市"
    assert "诫勉谈话" not in invoke(sample_db, "whatif", "--set", "supervision.demote_ratio=1/2", "--diff-only").stdout


def test_the_form_merges_into_a_saved_draft():
    """A second change by the form keeps the first: dated where it starts on another day, appended to disable."""
    from datetime import date

    import yaml

    from cadre_policy.serve.draft_form import draft_text, merged_text
    first = draft_text(title="草案", start=date(2017, 1, 1), parameter=("supervision.admonish_ratio", "ratio", "1/4"))
    same_day = yaml.safe_load(merged_text(first, start=date(2017, 1, 1),
                                          parameter=("supervision.demote_ratio", "ratio", "40%")))
    assert same_day["parameters"] == {"supervision.admonish_ratio": "1/4", "supervision.demote_ratio": "2/5"}
    later = yaml.safe_load(merged_text(first, start=date(2018, 1, 1),
                                       parameter=("supervision.admonish_ratio", "ratio", "1/5"), disable="supervision.due"))
    assert later["parameters"] == {"supervision.admonish_ratio": {date(2017, 1, 1): "1/4", date(2018, 1, 1): "1/5"}}
    assert later["disable"] == ["supervision.due"] and later["in_force"] == {"from": date(2017, 1, 1)}
    broken = "id: d\nparameters: [\n"
    assert merged_text(broken, start=date(2018, 1, 1), disable="supervision.due").startswith(broken)


def test_drafts_and_the_simulator_over_the_api(server):
    """The same over /api/v1 (a bearer token or a session): save, a version, the comparison as data, the diff, the
    simulator; a viewer may simulate without a draft, not read drafts."""
    with closing(server.client("qj")) as qj, closing(server.client("bh")) as viewer:
        text = "id: api_d\ntitle: 草案\nin_force: {from: 2017-01-01}\nparameters:\n  supervision.admonish_ratio: 2/5\n"
        made = qj.post("/api/v1/drafts", json={"name": "接口草案", "text": text, "note": "初稿"})
        assert made.status_code == 201 and made.headers["location"].endswith(str(made.json()["id"]))
        where = made.headers["location"]
        assert qj.post(f"{where}/versions", json={"text": text + "disable: [supervision.due]\n"}).json()["version"] == 2
        shown = qj.get(where, params={"version": 1}).json()
        assert shown["version"]["text"] == text and [v["seq"] for v in shown["history"]] == [2, 1]
        assert shown["comparison"]["parameters"][0]["after"] == "五分之二（2/5）" and shown["errors"] == []
        diff = qj.get(f"{where}/diff", params={"a": 1, "b": 2}).json()["comparison"]
        assert [r["id"] for r in diff["rules"]] == ["supervision.due"] and diff["parameters"] == []
        assert made.json()["id"] in [d["id"] for d in qj.get("/api/v1/drafts").json()["drafts"]]
        answer = qj.post("/api/v1/simulate", json={"cadre": "C0007", "draft": made.json()["id"], "as_of": AS_OF})
        assert answer.status_code == 200, answer.text
        assert answer.json()["differs"]["findings"] == ["admonishment_talk"]
        bad = qj.post("/api/v1/simulate", json={"cadre": "C0007", "as_of": AS_OF,
                                                "facts": {"reviews.0.dissatisfied": "x"}})
        assert bad.status_code == 422 and bad.json()["field"] == "facts.reviews.0.dissatisfied"
        assert viewer.get("/api/v1/drafts").status_code == 403
        own = viewer.post("/api/v1/simulate", json={"cadre": "C0018", "as_of": AS_OF, "facts": {"name": "改名"}})
        assert own.status_code == 200 and own.json()["changed"] == [{"fact": "姓名", "before": own.json()["in_force"]["name"],
                                                                      "after": "改名"}]
        assert viewer.post("/api/v1/simulate", json={"cadre": "C0007", "as_of": AS_OF}).status_code == 403
        assert viewer.post("/api/v1/simulate", json={"cadre": "C0018", "draft": made.json()["id"]}).status_code == 403
