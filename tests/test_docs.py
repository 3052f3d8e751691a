"""The examples in README.md and docs/*.md are real runs, docs/language.md lists every lint
code, and every relative link between them leads somewhere: this test runs every example
again and compares.

In a Markdown file, ``<!-- file: PATH -->`` before a fenced block writes the block to PATH;
``<!-- example: policy ARGS [| mistype FILE OLD NEW] -->`` before a fenced block runs the
command (after replacing OLD by NEW in FILE, restored afterwards) and the block is its
standard output. ``UPDATE_EXAMPLES=1 pytest tests/test_docs.py`` rewrites the blocks.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.diagnostics import CODES
from conftest import ROOT, SAMPLE

MARK = re.compile(r"<!-- (file|example): (.+?) -->\n```[a-z]*\n(.*?)```\n", re.DOTALL)
UPDATE = os.environ.get("UPDATE_EXAMPLES") == "1"
DOCS = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))
# the tutorial builds its own policy set in an empty folder (test_tutorial_runs_as_written);
# the others run on the sample city, from a copy of the shipped policies/ and drafts/
ON_SAMPLE = [d for d in DOCS if d != "docs/tutorial.md" and MARK.search((ROOT / d).read_text(encoding="utf-8"))]


def _run(command: str, db: str | None) -> str:
    command, _, change = command.partition(" | mistype ")
    args = shlex.split(command)
    assert args[0] == "policy", command
    restore = None
    if change:
        file, old, new = shlex.split(change)
        text = Path(file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        Path(file).write_text(text.replace(old, new, 1), encoding="utf-8")
        restore = (file, text)
    try:
        # as an officer sees it: the product's default language, whatever the test session's
        result = CliRunner().invoke(main, (["--db", db] if db else []) + args[1:], prog_name="policy",
                                    catch_exceptions=False, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""})
    finally:
        if restore:
            Path(restore[0]).write_text(restore[1], encoding="utf-8")
    assert "Traceback" not in result.output
    return result.stdout


def _render(path: Path, db: str | None) -> str:
    def replace(match):
        kind, spec, body = match.groups()
        if kind == "file":
            Path(spec).parent.mkdir(parents=True, exist_ok=True)
            Path(spec).write_text(body, encoding="utf-8")
            return match.group(0)
        output = _run(spec, db)
        fence = match.group(0).split("\n", 2)[1]
        return f"<!-- example: {spec} -->\n{fence}\n{output}```\n"
    return MARK.sub(replace, path.read_text(encoding="utf-8"))


def _compare(path: Path, rendered: str):
    if UPDATE:
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), \
        f"{path.name}: an example's output changed; run UPDATE_EXAMPLES=1 pytest tests/test_docs.py and review"


def test_tutorial_runs_as_written(tmp_path, monkeypatch):
    doc = ROOT / "docs" / "tutorial.md"
    monkeypatch.chdir(tmp_path)
    _compare(doc, _render(doc, None))


@pytest.mark.parametrize("doc", ON_SAMPLE)
def test_examples_are_real_runs(doc, tmp_path, monkeypatch):
    """Run from a copy of the checkout's policies/ and drafts/, so a mistyped example touches no shipped file."""
    db = f"sqlite:///{tmp_path}/sample.db"
    assert CliRunner().invoke(main, ["--db", db, "facts", "import", str(SAMPLE)]).exit_code == 0
    for folder in ("policies", "drafts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    _compare(ROOT / doc, _render(ROOT / doc, db))


def test_readme_runs_the_tour_examples():
    # the examples moved to docs/ with their sections; the tour keeps a check, a rule, lint and test
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("policy check C0007", "policy show ", "policy lint ", "policy test "):
        assert f"<!-- example: {command}" in text, command


def test_language_doc_lists_every_lint_code():
    doc = ROOT / "docs" / "language.md"
    text = doc.read_text(encoding="utf-8")
    table = "| code | meaning |\n|---|---|\n" + "".join(f"| {code} | {meaning} |\n" for code, meaning in CODES.items())
    rendered = re.sub(r"(<!-- codes:[^\n]*-->\n).*?(<!-- /codes -->)", lambda m: m.group(1) + table + m.group(2),
                      text, flags=re.DOTALL)
    _compare(doc, rendered)


def test_every_code_in_use_is_catalogued():
    used = set()
    for path in (ROOT / "src" / "cadre_policy").rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{3})"', path.read_text(encoding="utf-8")))
    assert used - set(CODES) == set(), sorted(used - set(CODES))


@pytest.mark.parametrize("doc", DOCS)
def test_docs_need_nothing_a_user_lacks(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert not re.search(r"DOMAIN\.md|PROVISIONS\.md|shared/", text)


def test_readme_is_short_with_contents():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text) <= 20_000, f"README.md has {len(text)} characters: move the new section to docs/"
    assert "**Contents:**" in text.split("\n## ", 1)[0]


def test_architecture_reads_in_ten_minutes():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert len(re.findall(r"\S+", text)) <= 2_500


FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", path.read_text(encoding="utf-8")), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_lead_somewhere(doc):
    path = ROOT / doc
    for target in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{doc}: {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked), f"{doc}: {target}: no such heading in {linked.name}"


@pytest.mark.parametrize("doc", DOCS)
def test_files_named_in_docs_exist(doc):
    # a renamed module or test leaves its old name in the docs; full paths only (short ones depend on context)
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w./-])((?:src|tests|benchmarks)/[\w./-]*\w)", text))
    assert [n for n in sorted(named) if not (ROOT / n).exists()] == []
