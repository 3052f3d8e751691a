"""The message catalogue: complete, compiled, and chosen by --lang or the locale."""
from __future__ import annotations

import ast
import inspect
import io
import re
import string

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from cadre_policy import i18n
from cadre_policy.cli import main
from conftest import ROOT

LITERAL_CALL = re.compile(r"""\b(?:_|N_)\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*\)""")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def _po():
    with open(i18n.CATALOGUE, "rb") as stream:
        return read_po(stream)


def _help_texts(command, found=None):
    found = {} if found is None else found
    if command.help:
        found[inspect.cleandoc(command.help)] = command.name
    for param in command.params:
        if getattr(param, "help", None):
            found[param.help] = f"{command.name} {param.name}"
    for sub in getattr(command, "commands", {}).values():
        _help_texts(sub, found)
    return found


def test_compiled_catalogue_is_the_po_file():
    # the .mo that ships must be what `pybabel compile` makes of the .po now
    compiled = io.BytesIO()
    write_mo(compiled, _po())
    assert i18n.COMPILED.read_bytes() == compiled.getvalue(), \
        "run: pybabel compile -D cadre_policy -d src/cadre_policy/data/locale"


def test_every_message_in_the_code_is_translated():
    translated = {m.id for m in _po() if m.id and m.string and all(m.string if isinstance(m.string, tuple)
                                                                      else [m.string])}
    messages = {msg: f"{path}:{line}" for path, line, msg, _c, _x in
                extract_from_dir(str(ROOT / "src" / "cadre_policy"), method_map=[("**.py", "python")],
                                 keywords=KEYWORDS)}
    # messages inside f-strings, which the extractor does not see before Python 3.12
    for path in [*(ROOT / "src" / "cadre_policy").rglob("*.py"), *(ROOT / "src" / "cadre_policy").rglob("*.html")]:
        for match in LITERAL_CALL.finditer(path.read_text(encoding="utf-8")):
            messages.setdefault(ast.literal_eval(match.group(1)), str(path.relative_to(ROOT)))
    messages.update(_help_texts(main))
    missing = {msg: where for msg, where in messages.items() if msg not in translated}
    assert not missing, "untranslated (add them to cadre_policy.po):\n" + "\n".join(
        f"  {where}: {msg!r}" for msg, where in missing.items())


def test_translations_keep_the_placeholders():
    fields = lambda text: {name for _t, name, _s, _c in string.Formatter().parse(text) if name is not None}
    for message in _po():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set().union(*map(fields, ids))
        for text in strings:
            assert fields(text) <= allowed, (message.id, text)


def test_locale_and_option_choose_the_language(sqlite_url):
    runner = CliRunner()

    def run(*args, env=None):
        return runner.invoke(main, ["--db", sqlite_url, *args], env=env or {"LC_ALL": "", "LANG": "zh_CN.UTF-8"},
                             prog_name="policy")
    zh = run("check", "C0404")
    assert zh.exit_code == 2 and zh.stderr == "错误：未知的干部编号：C0404\n"
    assert run("--lang", "en", "check", "C0404").stderr == "Error: unknown cadre id: C0404\n"
    en = run("check", "C0404", env={"LC_ALL": "", "LANG": "en_US.UTF-8"})
    assert en.stderr == "Error: unknown cadre id: C0404\n"
    assert run("check", "C0404", env={"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"}).stderr.startswith("错误：")
    # --lang wins over the locale, and --help is in the chosen language whatever the order
    assert run("check", "--help", env={"LANG": "en_US.UTF-8", "LC_ALL": ""}).stdout.startswith(
        "Usage: policy check [OPTIONS] [CADRE_ID]\n\n  Which provisions apply")
    assert run("check", "--help", "--lang", "zh").exit_code == 2      # --lang belongs before the command
    helped = run("--lang", "zh", "check", "--help", env={"LANG": "en_US.UTF-8", "LC_ALL": ""}).stdout
    assert helped.startswith("用法: policy check [选项] [CADRE_ID]\n\n  某日哪些条款适用于某名干部")
    assert "选项:" in helped and "显示本帮助并退出。" in helped and "[默认：text]" in helped
    assert "Usage" not in helped and "Options" not in helped


def test_language_is_per_context():
    with i18n.using("en"):
        assert i18n._("unknown unit id: {id}") == "unknown unit id: {id}"
        with i18n.using("zh"):
            assert i18n._("unknown unit id: {id}") == "未知的单位编号：{id}"
        assert i18n.language() == "en"
    with pytest.raises(ValueError):
        i18n.set_language("fr")


CHINESE_C0007 = """\
C0007 李娟（女，34岁）  现任 清江县龙泉镇党委书记（正科）  评估日期 2017-06-30
结论：1 项
  ● 诫勉谈话  admonishment_talk  至 2021-05-10  [supervision.admonish · P004-5]
      因为 最近一次监督评议·日期 2016-05-10，在5年以内
      因为 最近一次监督评议·不满意票/最近一次监督评议·总票数 16/45，超过 1/3
      依据 《深化干部制度改革 推进又好又快发展》四、一（辖区 清江县）：“对测评“不满意”票超过三分之一或3个月内整改不力的,给予诫勉谈话”
提拔任用资格（拟任 副县）: 不符合  ineligible
  ✗ 考评实绩“优秀”  appraisal_excellent  [P004-1 · 清江县]
      最近一次年度考核·等次为称职，不是优秀
  ✓ 不在不得提拔使用期内  no_promotion_bar  [P004-2 · 清江县]
      未认定“不得提拔使用”
"""
ENGLISH_C0007 = """\
C0007 李娟（female, 34 years old）  now 清江县龙泉镇党委书记 (section)  as of 2017-06-30
Findings: 1
  ● 诫勉谈话  admonishment_talk  until 2021-05-10  [supervision.admonish · P004-5]
      because latest_review.date 2016-05-10, within 5年
      because latest_review.dissatisfied/latest_review.total 16/45, more than 1/3
      source: 《深化干部制度改革 推进又好又快发展》四、一 (jurisdiction 清江县): “对测评“不满意”票超过三分之一或3个月内整改不力的,给予诫勉谈话”
提拔任用资格（proposed rank deputy_county）: ineligible
  ✗ 考评实绩“优秀”  appraisal_excellent  [P004-1 · 清江县]
      latest_appraisal.grade is competent, not excellent
  ✓ 不在不得提拔使用期内  no_promotion_bar  [P004-2 · 清江县]
      finding:promotion_barred: not concluded
"""


def test_a_cadre_in_chinese_by_default_and_in_english_on_request(tmp_path):
    from conftest import SAMPLE
    url = f"sqlite:///{tmp_path / 'facts.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", url, "facts", "import", str(SAMPLE)]).exit_code == 0
    args = ["--db", url, "check", "C0007", "--as-of", "2017-06-30"]
    default = runner.invoke(main, args, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""})
    assert default.stdout == CHINESE_C0007
    assert runner.invoke(main, args, env={"LC_ALL": "", "LANG": "en_US.UTF-8"}).stdout == ENGLISH_C0007
    assert runner.invoke(main, ["--lang", "en", *args], env={"LANG": "zh_CN.UTF-8"}).stdout == ENGLISH_C0007


def test_no_module_that_translates_uses_underscore_as_a_throwaway():
    # `x, _ = f()` in a function that also calls _("...") makes `_` local: UnboundLocalError at run time
    offenders = []
    for path in (ROOT / "src" / "cadre_policy").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = any(isinstance(n, ast.ImportFrom) and n.module == "cadre_policy.i18n"
                      and any(a.name == "_" for a in n.names) for n in ast.walk(tree))
        if imports:
            offenders += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                          if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)]
    assert not offenders, "rename the throwaway `_` (e.g. `_unused`): " + ", ".join(offenders)
