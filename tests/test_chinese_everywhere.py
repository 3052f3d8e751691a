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
                                                         "jsonl", "csv", "html", "xlsx", "txt", "local", "Dask", "LocalCluster",
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
                 "/no-such-page", "/settings", "/cadres/C0007?as_of=1990-01-01"):
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
    # a 简历 with lines it cannot read, previewed
    preview = client.post("/import/resume/preview", data={"csrf_token": csrf, "cadre": "C0007"},
                          files={"resume": ("简历.txt", "2005.07--2010.01 清江县花溪镇科员\n在龙泉镇工作\n".encode(),
                                            "text/plain")})
    assert preview.status_code == 200 and "无法读取" in preview.text
    out["/import/resume/preview"] = preview.text
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


def _cli(db: str, *args, env=None):
    return CliRunner().invoke(main, ["--lang", "zh", "--db", db, *map(str, args)], env=env)


def _chinese(result, allowed, extra=()) -> list[str]:
    """The English words of a command's output; what a user types stays as typed (options, choices, metavars,
    paths, URLs, the program's name), and so do quoted names, JSON paths, field keys, digests and tokens."""
    text = re.sub(r"JSON\s+Lines|(?<!\w)-?-[a-z][a-z-]*|\[[a-z|]+\]|\$?\b[A-Z][A-Z_/]*\b|\S*/\S*|\bpolicy\b|〔[^〕]*〕|“[^”]*”|"
                  r"\$\.[\w.\[\]]+|\bcli:\S+|\b[a-z_]+(?=:)|hmac:[0-9a-f]+|cpt_\S+|``[^`]*``", " ", result.output)   # cli:LOGIN: who asked
    return english(text, allowed | set(extra))


@pytest.mark.parametrize("args", CLI, ids=[" ".join(a[:2]) for a in CLI])
def test_every_command_speaks_chinese(sample_db, allowed, args):
    result = CliRunner().invoke(main, ["--lang", "zh", "--db", sample_db, *args], catch_exceptions=False)
    words = _chinese(result, allowed)
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


def test_problems_speak_one_language(workbench_server, allowed):
    """API problem details and error pages: Chinese by default, English when the browser asks for it."""
    admin = workbench_server.client("admin")
    anonymous = workbench_server.client()
    asks = [(admin, "/api/v1/cadres/C9999"), (admin, "/api/v1/cadres?as_of=1800-01-01"),
            (anonymous, "/api/v1/cadres"), (admin, "/api/v1/rules/R999"), (admin, "/api/v1/nothing")]
    for client, path in asks:
        zh = client.get(path).json()
        assert not english(zh["title"] + " " + zh["detail"], allowed | {"API", "Authorization", "Bearer", "Cookie"}), zh
        en = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
        assert not re.search(r"[\u4e00-\u9fff]", en["title"] + en["detail"]), en
    refused = anonymous.post("/login", json={"name": "admin", "password": "wrong-pass-1"},
                             headers={"Accept-Language": "zh-CN"}).json()
    assert refused["detail"] == "用户名或密码错误"
    page = admin.get("/cadres/C9999", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert "unknown cadre id: C9999" in page.text and "未知" not in page.text


def test_records_users_and_the_store_date_speak_chinese(sample_db, allowed):
    outputs = [_cli(sample_db, "check", "C0007", "--as-of", AS_OF, "--record"), _cli(sample_db, "records", "anchor"),
               _cli(sample_db, "records", "verify", "1"), _cli(sample_db, "records", "verify", "--chain"),
               _cli(sample_db, "records", "verify"), _cli(sample_db, "records", "list"),
               _cli(sample_db, "users", "add", "张三", "--role", "author", "--unit", "QJ-PC", env={"POLICY_PASSWORD": "p" * 9}),
               _cli(sample_db, "users", "add", "张 三", env={"POLICY_PASSWORD": "p" * 9}),
               _cli(sample_db, "users", "add", "李四", env={"POLICY_PASSWORD": "short"}),
               _cli(sample_db, "users", "list"), _cli(sample_db, "users", "role", "张三", "--role", "viewer"),
               _cli(sample_db, "users", "token", "张三", "--label", "接口"), _cli(sample_db, "users", "tokens", "张三"),
               _cli(sample_db, "users", "revoke", "张三", "99"), _cli(sample_db, "users", "remove", "张三"),
               _cli(sample_db, "users", "remove", "张三"), _cli(sample_db, "store", "set-date"),
               _cli(sample_db, "store", "set-date", AS_OF), _cli(sample_db, "check", "C0007", "--as-of", "1990-01-01"),
               _cli(sample_db, "store", "set-date", "--clear"), _cli(sample_db, "store", "--help"),
               _cli(sample_db, "store", "set-date", "--help"), _cli(sample_db, "records", "--help")]
    for result in outputs:
        assert "Traceback" not in result.output
        assert not _chinese(result, allowed), result.output


def test_import_errors_of_the_new_fields_are_chinese(sample_db, tmp_path, allowed):
    bad = tmp_path / "名册.yaml"
    bad.write_text("""units:
  - {id: U1, name: 单位一, kind: department, level: county}
cadres:
  - {id: X1, name: 张一, gender: male, birth_date: 1980-01-01, party: cpc, party_joined: 2001-02-30,
     party_full: soon, status: farmer, education: bachelor,
     posts: [{unit: U1, title: 科员, rank: clerk, principal: false, leadership: false, start: 2005-01-01,
              probation_end: tomorrow}],
     educations: [{level: postdoc, mode: evening, date: 2010-07-01}],
     sanctions: [{date: 2015-01-01, kind: warning, years: x}, {date: 2016-01-01, kind: party_probation}]}
""", encoding="utf-8")
    result = _cli(sample_db, "facts", "import", bad)
    assert result.exit_code == 2 and "未写入任何数据" in result.output
    for said in ("“2001-02-30”不是有效日期", "“farmer”不是有效的身份", "“tomorrow”不是有效日期", "“evening”不是有效的教育类别",
                 "年数只用于留党察看", "留党察看须写明年数"):
        assert said in result.output, result.output
    assert not _chinese(result, allowed), result.output


def _keywords() -> set[str]:
    """The words of the policy language an author writes: the keys and enumerated words of its schemas."""
    import json

    from cadre_policy import data
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            found.update(node.get("properties", {}))
            found.update(v for v in node.get("enum", []) if isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for name in ("policy", "draft", "tests", "outcomes", "provisions"):
        walk(json.loads((data.ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")))
    return found | {word for key in found for word in re.findall(r"[A-Za-z]+", key)}


def test_every_lint_diagnostic_is_chinese(tmp_path, allowed):
    from policy_builder import HEADER, write_set
    from test_lint import CASES
    # the editor's schema line, the language's words, the ids the cases name (a, b, r.ok, unused)
    extra = {"yaml", "schema", "language", "server", "a", "b", "r", "ok", "unused"} | _keywords()
    for code, body, _line, _column in CASES:
        directory = write_set(tmp_path / code, {"bad": HEADER.format(id="bad") + body})
        result = _cli("sqlite://", "lint", directory)
        assert code in result.output, (code, result.output)
        words = _chinese(result, allowed, extra)
        assert not words, f"{code}: {sorted(set(words))}\n{result.output}"
