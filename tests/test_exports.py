"""导出 Excel of a what-if job, the structure report and the search against a real `policy serve`: each
workbook read back with openpyxl, its 说明 sheet naming the date, the policy set's digest, the draft's
change (1/3 → 1/4), who and when, and no file path of the server; other units' exports refused."""
from __future__ import annotations

import io
from contextlib import closing

from openpyxl import load_workbook

from serve_server import AS_OF, ROOT, wait_for_job


def _book(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    return load_workbook(io.BytesIO(response.content))


def _note(book) -> dict:
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert note["政策集"].startswith("sha256:") and note["导出时间（北京时间）"].startswith("20")
    assert "政策集目录" not in note                                   # the server names no file path
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row]
    assert not any(str(ROOT) in c for c in cells)
    return note


def test_a_whatif_job_exports_its_workbook_with_the_draft_change(workbench_server):
    with closing(workbench_server.client("qj")) as qj, closing(workbench_server.client("bh")) as bh, \
            closing(workbench_server.client("admin")) as admin:
        job = wait_for_job(qj, qj.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=1/4"],
                                                                "as_of": AS_OF}).json())
        assert job["status"] == "done", job
        assert job["export"] == f"/whatif/jobs/{job['id']}/export.xlsx"
        assert f'href="{job["export"]}"' in qj.get("/whatif/jobs").text           # 我的测算 links it
        book = _book(qj.get(job["export"]))
        assert book.sheetnames == ["汇总", "按单位", "变化明细", "影响面", "说明"]
        note = _note(book)
        assert note["评估日期"] == AS_OF and note["导出人"] == "qj"
        assert "1/3" in note["草案调整内容"] and "→" in note["草案调整内容"] and "1/4" in note["草案调整内容"]
        result = qj.get(job["result"]).json()
        assert note["干部"] == result["cadres"]
        changed = {r[0] for r in book["变化明细"].iter_rows(min_row=2, values_only=True)}
        assert changed == {c["cadre"] for c in result["changes"]}
        assert bh.get(job["export"]).status_code == 403                         # a viewer of 白河县
        assert admin.get(job["export"]).status_code == 200
        assert qj.get("/whatif/jobs/nope/export.xlsx").status_code == 404


def test_the_structure_export_keeps_to_the_region(workbench_server):
    with closing(workbench_server.client("bh")) as bh:
        page = bh.get("/structure", params={"as_of": AS_OF}).text
        assert 'id="export" href="/structure/export.xlsx?region=%E7%99%BD%E6%B2%B3%E5%8E%BF' in page
        assert bh.get("/structure/export.xlsx", params={"region": "清江县", "as_of": AS_OF}).status_code == 403
        book = _book(bh.get("/structure/export.xlsx", params={"region": "白河县", "as_of": AS_OF}))
        assert book.sheetnames == ["结构目标", "汇总", "说明"]
        note = _note(book)
        assert (note["单位"], note["评估日期"], note["导出人"]) == ("白河县", AS_OF, "bh")
        rows = list(book["结构目标"].iter_rows(min_row=2, values_only=True))
        assert rows and note["目标数"] == len(rows) and {r[0] for r in rows} == {"白河县"}
        mine = bh.get("/api/v1/structure", params={"as_of": AS_OF}).json()
        assert len(rows) == len(mine["results"])


def test_the_search_exports_its_hits_in_scope(workbench_server):
    with closing(workbench_server.client("qj")) as qj, closing(workbench_server.client("bh")) as bh:
        page = qj.get("/", params={"q": "C00", "as_of": AS_OF}).text
        assert 'id="export" href="/search/export.xlsx?q=C00&amp;as_of=2017-06-30"' in page
        book = _book(qj.get("/search/export.xlsx", params={"q": "C00", "as_of": AS_OF}))
        assert book.sheetnames == ["干部", "说明"]
        rows = list(book["干部"].iter_rows(values_only=True))
        assert rows[0][:3] == ("编号", "姓名", "现任职务")
        found = qj.get("/api/v1/cadres", params={"q": "C00", "as_of": AS_OF, "limit": 500}).json()["cadres"]
        assert [r[0] for r in rows[1:]] == [c["id"] for c in found] and "C0007" in {r[0] for r in rows}
        c0007 = next(r for r in rows if r[0] == "C0007")
        assert c0007[2] == "清江县龙泉镇党委书记" and c0007[3] == "QJ-LQ"
        note = _note(book)
        assert note["评估日期"] == AS_OF and note["导出人"] == "qj" and note["筛选条件"] == "姓名或编号=C00"
        assert note["干部"] == len(rows) - 1 and note["草案"] == "无（按现行政策）"
        theirs = _book(bh.get("/search/export.xlsx", params={"q": "C00", "as_of": AS_OF}))
        assert "C0007" not in {r[0] for r in theirs["干部"].iter_rows(min_row=2, values_only=True)}
