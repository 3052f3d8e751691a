"""Drafts by form: 起草修改 on a rule's page writes the draft (诫勉谈话比例 1/3 → 1/4 from 2017-01-01), the editor
checks it, it runs, and the report opens with the parameter in force → draft; a rule switched off the same way."""
from __future__ import annotations

import html
import re

from serve_server import AS_OF, wait_for_job


def _draft(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="draft"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def test_a_parameter_drafted_by_the_form_runs(workbench_server):
    client = workbench_server.client("qj")
    rule = client.get("/rules/supervision.admonish").text
    assert 'id="draft-supervision.admonish_ratio"' in rule and "起草修改" in rule
    page = client.get("/whatif", params={"param": "supervision.admonish_ratio", "value": "25%",
                                         "start": "2017-01-01", "title": "草案：诫勉谈话比例 1/3 → 1/4"}).text
    text = _draft(page)
    assert "supervision.admonish_ratio: 1/4" in text and "from: 2017-01-01" in text and "诫勉谈话比例" in text
    assert client.post("/api/v1/lint", json={"text": text, "name": "草案.yaml"}).json()["diagnostics"] == []
    job = client.post("/api/v1/whatif", json={"draft": text, "draft_name": "草案.yaml", "as_of": AS_OF}).json()
    job = wait_for_job(client, job)
    assert job["status"] == "done"
    report = client.get(job["report"]).text
    comparison = report[report.index('id="comparison"'):report.index("</section>", report.index('id="comparison"'))]
    assert "草案与现行对照" in comparison and "三分之一（1/3） → 四分之一（1/4），自2017年1月1日起" in comparison


def test_a_bad_value_is_an_error_at_its_line_and_a_rule_can_be_switched_off(workbench_server):
    client = workbench_server.client("qj")
    text = _draft(client.get("/whatif", params={"param": "supervision.admonish_ratio", "value": "三分之一",
                                                "start": "2017-01-01"}).text)
    found = client.post("/api/v1/lint", json={"text": text, "name": "草案.yaml"}).json()["diagnostics"]
    assert found and found[0]["code"] == "E303" and found[0]["line"] == text.splitlines().index(
        next(line for line in text.splitlines() if "admonish_ratio:" in line)) + 1
    assert "不是精确的分数" in found[0]["message"]
    off = _draft(client.get("/whatif", params={"disable": "supervision.due", "start": "2017-01-01"}).text)
    assert "disable:\n- supervision.due" in off and "停止适用" in off
    assert client.post("/api/v1/lint", json={"text": off, "name": "草案.yaml"}).json()["diagnostics"] == []
    assert client.get("/whatif", params={"param": "no.such", "value": "1"}).status_code == 404
