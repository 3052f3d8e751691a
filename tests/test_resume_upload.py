"""A cadre's 简历 uploaded on the workbench's import page: the posts it would give previewed line by line, every
line that could not be read named with its number and a Chinese sentence and nothing written; once
corrected, confirming replaces the cadre's posts, all or nothing; an author outside the cadre's units is refused."""
from __future__ import annotations

import re

import pytest

from serve_server import served

GOOD = "2005.07--2010.01  清江县花溪乡科员\n2010.01--2013.03  清江县花溪乡副乡长\n2013.03—  清江县龙泉镇镇党委书记\n"
BAD = "2005.07--2010.01  清江县花溪乡科员\n2010.01--2013.03  清江县花溪镇副乡长\n在龙泉镇工作\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory, "resume")


def _preview(client, cadre: str, text: str, name: str = "简历.txt", encoding: str = "utf-8"):
    form = client.get("/import", headers={"Accept": "text/html"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert 'id="resume-form"' in form
    return client.post("/import/resume/preview", data={"csrf_token": csrf, "cadre": cadre},
                       files={"resume": (name, text.encode(encoding), "text/plain")}), csrf


def test_a_resume_is_previewed_then_written(server):
    admin = server.client("admin")
    before = admin.get("/api/v1/cadres/C0007").json()["posts"]
    refused, _ = _preview(admin, "C0007", BAD)
    assert refused.status_code == 200 and "2 行无法读取，未写入任何数据" in refused.text
    assert re.search(r"第 2 行</td>.*没有单位“清江县花溪镇”（是否为“清江县花溪乡”？）", refused.text, re.S)
    assert re.search(r"第 3 行</td>.*不是一段经历", refused.text, re.S)
    assert 'id="resume-confirm-form"' not in refused.text
    assert admin.get("/api/v1/cadres/C0007").json()["posts"] == before          # nothing written

    shown, csrf = _preview(admin, "C0007", GOOD, encoding="gb18030")           # as Chinese Windows saves it
    assert shown.status_code == 200 and "3 段任职，确认后将替换" in shown.text
    assert "副乡长" in shown.text and "副科" in shown.text and "至今" in shown.text
    token = re.search(r'name="token" value="([^"]+)"', shown.text).group(1)
    done = admin.post("/import/resume/confirm", data={"csrf_token": csrf, "token": token})
    assert done.status_code == 200 and "已写入 3 段任职" in done.text
    posts = admin.get("/api/v1/cadres/C0007").json()["posts"]
    assert [(p["unit"], p["title"], p["start"], p.get("end")) for p in posts] == [
        ("QJ-HX", "科员", "2005-07-01", "2009-12-31"), ("QJ-HX", "副乡长", "2010-01-01", "2013-02-28"),
        ("QJ-LQ", "镇党委书记", "2013-03-01", None)]
    again = admin.post("/import/resume/confirm", data={"csrf_token": csrf, "token": token})
    assert again.status_code == 404                                           # a token is used once


def test_bad_uploads_answer_in_chinese(server):
    admin = server.client("admin")
    unknown, _ = _preview(admin, "C9999", GOOD)
    assert unknown.status_code == 404 and "C9999" in unknown.text
    binary, _ = _preview(admin, "C0007", "", name="简历.docx")
    assert binary.status_code == 422 and "文本文件" in binary.text
    qj = server.client("qj")                                  # 清江县's author: a 白河县 cadre is not theirs
    outside, _ = _preview(qj, "C0018", GOOD)
    assert outside.status_code == 403
    viewer = server.client("bh")
    assert viewer.post("/import/resume/preview", data={}).status_code == 403
