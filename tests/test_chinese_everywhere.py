"""Every word an officer reads is Chinese: the visible text of every workbench page and of the CLI's
output on the sample (zh) holds no English word outside an allow-list.

Allowed: people's names (class ``person``), the codes of the policy set (rule, outcome, parameter, policy, derived names) and
ids of cadres and units, which pages show only on request (``显示代码``, class ``code``,
``<code>``); dates, digests, file names; a few proper names (JSON, YAML, Excel).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.load.policyset import load
from conftest import ROOT
from serve_server import AS_OF

PROPER = {"JSON", "YAML", "Excel", "XLSX", "CSV", "PDF", "A4", "admin", "qj", "bh"}     # formats, user names
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*")


class Visible(HTMLParser):
    """The text a reader sees: not in script, style, <code>, nor in an element of class ``code``."""
    HIDDEN = {"script", "style", "code", "template", "textarea"}      # a draft's YAML is the author's code
    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("input", "textarea") and dict(attrs).get("placeholder"):
            self.parts.append(dict(attrs)["placeholder"])
        if tag not in self.VOID:
            self.stack.append(tag in self.HIDDEN or "code" in classes or "person" in classes
                              or dict(attrs).get("aria-hidden") == "true")

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def allowed():
    policy_set = load(ROOT / "policies")
    names = {r.id for r in policy_set.rules} | {p.id for p in policy_set.policies}
    names |= {rule["id"] for p in policy_set.policies for rule in p.structure} | {"draft_admonish_30pct"}
    names |= set(policy_set.parameters)       # derived names are not codes: a reason says their title
    outcomes = policy_set.outcomes
    names |= set(outcomes.findings) | set(outcomes.requirements) | set(outcomes.determinations)
    names |= {name.split(".", 1)[-1] for name in policy_set.parameters}
    eligibility = {"eligible", "ineligible", "pending", "exception_required"}      # the JSON's codes, shown dim
    typed = {c.name for c in main.commands.values()} | {"zh", "en", "viewer", "author", "admin", "durable",
                                                         "python", "columnar", "finding", "promotion", "main", "text", "json",
                                                         "jsonl", "csv", "html", "xlsx", "local", "Dask", "LocalCluster",
                                                         "Schema", "durable_rules", "appointment", "review"}
    typed |= {sub for c in main.commands.values() for sub in getattr(c, "commands", {})}
    return names | PROPER | eligibility | typed


FILE = re.compile(r"[\w.-]+\.(yaml|json|xlsx|csv|db|html|txt)\b")


def english(text: str, allowed: set[str]) -> list[str]:
    """The English words of ``text`` that are not allowed (ids such as C0007, JL-FIN, AV2006-5, dates, digests pass)."""
    text = re.sub(r"sha256:[0-9a-f]+|\b[0-9a-f]*[0-9][0-9a-f]*\b", " ", FILE.sub(" ", text))
    found = []
    for match in WORD.finditer(text):
        word = match.group(0)
        if word in allowed or re.fullmatch(r"[A-Z]{1,6}\d*(-[A-Z0-9]+)*|sha256|[a-f0-9]{6,}", word):
            continue
        found.append(word)
    return found


def pages(server) -> dict[str, str]:
    """The visible text of every page an admin can open on the sample."""
    client = server.client()
    login = client.get("/login").text
    client = server.client("admin")
    client.headers["Accept"] = "text/html"
    out = {"/login": login}
    for path in ("/", f"/?q=李&as_of={AS_OF}", f"/units?as_of={AS_OF}", f"/units?unit=JL-PC&as_of={AS_OF}&page=2",
                 f"/cadres/C0007?as_of={AS_OF}", "/cadres/C0001?as_of=2020-06-30", "/import", "/whatif/jobs",
                 f"/cadres/C0007/sheet?as_of={AS_OF}", "/rules", "/rules/supervision.admonish",
                 "/rules/appraisal.admonish", "/whatif", "/whatif?draft=admonish_30pct.yaml", f"/structure?as_of={AS_OF}",
                 f"/structure/report?region=清江县&as_of={AS_OF}", "/records", "/cadres/C9999", "/rules/R999",
                 "/no-such-page"):
        response = client.get(path)
        assert response.status_code in (200, 403, 404), (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path
        out[path] = response.text
    csrf = client.headers["X-CSRF-Token"]
    text = "id: draft_zh\ntitle: 草案\nin_force: {from: 2017-01-01}\nparameters:\n  supervision.admonish_ratio: 1/4\n"
    draft = client.post("/drafts", data={"csrf_token": csrf, "name": "草案", "text": text, "note": "初稿"}).headers["location"]
    client.post(f"{draft}/versions", data={"csrf_token": csrf, "text": text + "disable: [supervision.due]\n"})
    number = draft.rsplit("/", 1)[1]
    for path in ("/drafts", draft, f"{draft}/diff?a=1&b=2", f"/whatif?saved={number}",
                 f"/simulate?cadre=C0007&as_of={AS_OF}&draft={number}&f.reviews.0.dissatisfied=10",
                 f"/simulate?cadre=C0007&as_of={AS_OF}&f.reviews.0.dissatisfied=十六&f.education=本科"):
        response = client.get(path)
        assert response.status_code in (200, 422), (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path
        out[path] = response.text
    return out


def test_every_page_is_chinese(workbench_server, allowed):
    leaks = {}
    for path, html in pages(workbench_server).items():
        words = english(visible_text(html), allowed)
        if words:
            leaks[path] = sorted(set(words))
    assert not leaks, "English on the pages (translate, or show as a code on request):\n" + "\n".join(
        f"  {path}: {words}" for path, words in leaks.items())


CLI = [["check", "C0007", "--as-of", AS_OF], ["check", "C0001", "--as-of", "2020-06-30"],
       ["check", "--all", "--as-of", AS_OF], ["facts", "show", "C0007"], ["facts", "list"],
       ["lint", str(ROOT / "policies")], ["check", "C9999"], ["records", "list"],
       ["check", "C0007", "--as-of", AS_OF, "--near"], ["structure", "--as-of", AS_OF, "--region", "清江县"],
       ["whatif", "--draft", str(ROOT / "src/cadre_policy/data/drafts/admonish_30pct.yaml"), "--as-of", AS_OF],
       ["--help"], ["check", "--help"], ["facts", "--help"], ["users", "add", "--help"], ["whatif", "--help"],
       ["check", "--bogus"], ["check", "--as-of", "2017-02-30", "C0007"],
       ["show", "supervision.admonish", "--as-of", AS_OF, "--policies", str(ROOT / "policies")],
       ["test", str(ROOT / "policies"), "-k", "supervision"], ["users", "list"]]


@pytest.mark.parametrize("args", CLI, ids=[" ".join(a[:2]) for a in CLI])
def test_every_command_speaks_chinese(sample_db, allowed, args):
    result = CliRunner().invoke(main, ["--lang", "zh", "--db", sample_db, *args], catch_exceptions=False)
    # what a user types stays as typed: options, choices, metavars, paths, URLs, the program's name
    text = re.sub(r"-?-[a-z][a-z-]*|\[[a-z|]+\]|\$?\b[A-Z][A-Z_/]*\b|\S*/\S*|\bpolicy\b|〔[^〕]*〕", " ", result.output)
    words = english(text, allowed)
    assert not words, f"policy {' '.join(args)}: {sorted(set(words))}\n{result.output[:3000]}"


def test_the_allow_list_does_not_hide_english(allowed):
    assert english("结论 Findings · What-if · 不是principal_rank_of_target_level", allowed) == [
        "Findings", "What-if", "principal_rank_of_target_level"]
    assert english("C0007 JL-FIN sha256:75d7f2b0 2017-06-30 supervision.admonish", allowed) == []


def test_lint_diagnostics_are_chinese(tmp_path, allowed):
    # an officer's natural first draft: a parameter by its Chinese name, an impossible date, a misspelt key
    (tmp_path / "草案.yaml").write_text("id: d1\ntitle: 诫勉门槛\nin_force: {from: 2017-01-01}\nparameters:\n"
                                     "  诫勉谈话比例: 3/10\nsorce: x\n", encoding="utf-8")
    (tmp_path / "日期.yaml").write_text("id: d2\ntitle: 诫勉门槛\nin_force: {from: 2017-02-30}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--lang", "zh", "lint", str(tmp_path / "草案.yaml"), str(tmp_path / "日期.yaml")])
    assert result.exit_code != 0
    assert "参数名写作" in result.output and "不是有效日期" in result.output and "未知的键“sorce”" in result.output
    text = re.sub(r"\$?\b[A-Z][A-Z_/]*\b|\S*/\S*|“[^”]*”|[EW]\d{3}", " ", result.output)
    words = english(text, allowed | {"source", "yaml", "language", "server", "schema", "supervision",
                                     "admonish_ratio", "parameters"})
    assert not words, f"{sorted(set(words))}\n{result.output}"


def test_spreadsheet_cell_errors_are_chinese(sample_db, tmp_path, allowed):
    from openpyxl import load_workbook
    book = tmp_path / "名册.xlsx"
    assert CliRunner().invoke(main, ["--db", sample_db, "facts", "export", "--format", "xlsx", "-o",
                                     str(book)]).exit_code == 0
    workbook = load_workbook(book)
    sheet = workbook["干部"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=8, column=header.index("学历") + 1).value = "小学"
    sheet.cell(row=9, column=header.index("出生日期") + 1).value = "1980-02-30"
    workbook.save(book)
    result = CliRunner().invoke(main, ["--lang", "zh", "--db", sample_db, "facts", "import", str(book)])
    assert result.exit_code == 2
    from openpyxl.utils import get_column_letter
    cell = f"干部!{get_column_letter(header.index('学历') + 1)}8"
    assert cell in result.output and "“小学”不是有效的学历（可选：中专/高中、大专、大学本科" in result.output
    assert "干部!D9" in result.output and "不是有效日期" in result.output and "未写入任何数据" in result.output
    text = re.sub(r"\S*/\S*|'[^']*'|\b[a-z_]+(?=:)", " ", result.output)
    assert not english(text, allowed), result.output
