"""The roster import page against a real `policy serve` (its own store): a workbook with mistakes is refused
with each error at its SHEET!CELL in Chinese and nothing written; fixed, the preview lists the changed cadre,
and confirming writes it and links to it."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cadre_policy.cli import main
from serve_server import PASSWORD, Server, prepare_store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roster")
    running = Server(prepare_store(tmp), tmp)
    yield running
    running.stop()


def _signed_in(server, name: str = "admin"):
    client = server.client()
    response = client.post("/login", json={"name": name, "password": PASSWORD})
    return client, response.json()["csrf_token"]


def _roster(server, tmp_path, edits: dict) -> bytes:
    path = tmp_path / "名册.xlsx"
    assert CliRunner().invoke(main, ["--db", server.db_url, "facts", "export", "--format", "xlsx", "-o",
                                     str(path)]).exit_code == 0
    book = load_workbook(path)
    sheet = book["干部"]
    header = [c.value for c in sheet[1]]
    for (row, column), value in edits.items():
        sheet.cell(row=row, column=header.index(column) + 1).value = value
    book.save(path)
    return path.read_bytes()


def _upload(client, csrf, name, body):
    return client.post("/import/preview", data={"csrf_token": csrf}, files={"roster": (name, body, XLSX)})


def test_a_roster_with_mistakes_then_fixed(server, tmp_path):
    client, csrf = _signed_in(server)
    assert "导入干部名册" in client.get("/import").text
    row = 8                                          # C0007 李娟 (the sheet's header is row 1)
    bad = _roster(server, tmp_path, {(row, "学历"): "小学", (row, "姓名"): "李娟娟", (row + 1, "出生日期"): "1980-02-30"})
    page = _upload(client, csrf, "名册.xlsx", bad)
    assert page.status_code == 200 and "未写入任何数据" in page.text
    errors = re.findall(r'<td class="place">([^<]*)</td><td>([^<]*)</td>', page.text)
    assert any(place.startswith("名册.xlsx:干部!") and place.endswith(str(row)) and text.startswith("“小学”不是有效的学历（可选：")
               for place, text in errors)
    assert any(place.endswith("干部!D9") and "不是有效日期" in text for place, text in errors)
    assert "李娟娟" not in client.get("/api/v1/cadres", params={"q": "C0007"}).text          # nothing written

    good = _roster(server, tmp_path, {(row, "姓名"): "李娟娟"})
    page = _upload(client, csrf, "名册.xlsx", good)
    assert "检查无误" in page.text
    assert re.search(r'id="cadres-updated">1<', page.text) and 'href="/cadres/C0007"' in page.text
    assert "李娟娟" not in client.get("/api/v1/cadres", params={"q": "C0007"}).text          # not yet
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    done = client.post("/import/confirm", data={"csrf_token": csrf, "token": token})
    assert done.status_code == 200 and "已写入" in done.text and 'href="/cadres/C0007"' in done.text
    assert "变更 1" in done.text
    assert "李娟娟" in client.get("/api/v1/cadres", params={"q": "C0007"}).text
    again = client.post("/import/confirm", data={"csrf_token": csrf, "token": token})
    assert again.status_code == 404                                                        # used once


def test_an_author_of_one_county_imports_only_that_county(server, tmp_path):
    """The roster writes facts: a county author (qj, 清江县) may not write another county's cadres or units."""
    client, csrf = _signed_in(server, "qj")
    whole = _roster(server, tmp_path, {(8, "姓名"): "李娟乙"})       # every unit and cadre of the store
    page = _upload(client, csrf, "名册.xlsx", whole)
    assert page.status_code == 403
    assert "未写入任何数据" in page.text or "nothing was written" in page.text
    assert "李娟乙" not in client.get("/api/v1/cadres", params={"q": "C0007"}).text


def test_the_import_refuses_other_files_and_forged_forms(server):
    client, csrf = _signed_in(server)
    assert _upload(client, csrf, "名册.doc", b"x").status_code == 422
    assert _upload(client, "wrong", "名册.xlsx", b"x").status_code == 403
    viewer = server.client()
    viewer.post("/login", json={"name": "bh", "password": PASSWORD})
    assert viewer.get("/import").status_code == 403
