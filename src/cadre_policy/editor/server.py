"""``policy lsp``: a language server for policy, draft and test files (pygls, over stdio).

* Diagnostics: on open, change and save the buffer is linted exactly as ``policy lint``
  lints the file (the same codes, places and suggestions): the buffer is written into a
  scratch copy of its policy set (a draft: beside nothing, applied to the set in force),
  so what is typed is checked before it is saved.
* Hover: a rule id shows the rule's Chinese sentence (``policy show``); a fact path its
  Chinese name and type; a finding or requirement code, a parameter, a provision id what
  the catalogue, the parameters and the register say of it.
* Completion after ``fact: ``, ``finding: ``, ``requirement: ``, ``provision: ``,
  ``param: `` and ``derived: ``: the names the policy set defines.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from cadre_policy.load.lint import file_kind, lint_paths
from cadre_policy.diagnostics import Diagnostic
from cadre_policy.errors import UserError

DEBOUNCE = 0.3                # seconds without a change before the buffer is linted
_WORD = re.compile(r"[\w.\-]+")
_COMPLETES = re.compile(r"(?:^|[\s{,\[])(fact|findings?|superseded|requirements?|provision|param|derived|rule)"
                        r"\s*:\s*(?:[\[{](?:[\w.]+(?:\s*:\s*[\w ]+)?\s*,\s*)*)?([\w.]*)$")
# which names complete after which key (test files list codes: findings: [a, b], requirements: {a: met, b})
_NAME_KINDS = {"fact": "fact_name", "finding": "finding_code", "findings": "finding_code", "superseded": "finding_code",
               "requirement": "requirement_code", "requirements": "requirement_code", "provision": "provision_id",
               "param": "parameter_name"}


def completion_key(prefix: str) -> str | None:
    """The key whose names complete at the end of ``prefix`` (the line up to the cursor), or None.

    >>> completion_key("    when: {fact: cadre.a"), completion_key("      findings: [admonishment_talk, "), completion_key("  title: 标题")
    ('fact', 'findings', None)
    >>> completion_key("      requirements: {opinion_poll_passed: met, ")
    'requirements'
    """
    match = _COMPLETES.search(prefix)
    return match.group(1) if match else None


class PolicyLanguageServer(LanguageServer):
    """The server, with the policy set drafts apply to and completion names come from."""

    def __init__(self, policies_dir: str):
        from importlib.metadata import version
        super().__init__("cadre-policy", version("cadre-policy"))
        from concurrent.futures import ThreadPoolExecutor
        self.policies_dir = Path(policies_dir)
        self._sets: dict[Path, object] = {}
        self._edits: dict[str, int] = {}          # changes seen per document (the debounce's clock)
        self._linter = ThreadPoolExecutor(1)      # one lint at a time, off the message loop
        self.lints = 0

    # ---- the policy set a document belongs to -----------------------------------------
    def set_directory(self, path: Path, text: str) -> Path:
        """The policy set of a document: its folder when that is one, else the configured set."""
        kind = file_kind(path, text)
        if kind == "policy" or (kind != "draft" and any(file_kind(p) == "policy" for p in path.parent.glob("*.yaml"))):
            return path.parent
        return self.policies_dir

    def policy_set(self, directory: Path):
        """The checked policy set of a folder (None while it has errors), kept until a save."""
        if directory not in self._sets:
            from cadre_policy.load.policyset import lint
            policy_set, diagnostics = lint(directory)
            self._sets[directory] = None if any(d.severity == "error" for d in diagnostics) else policy_set
        return self._sets[directory]

    # ---- diagnostics -------------------------------------------------------------------
    def lint_document(self, uri: str) -> list[lsp.Diagnostic]:
        document = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri))
        text = document.source
        try:
            found, scratch = self._lint_text(path, text)
        except UserError as error:
            return [lsp.Diagnostic(range=_range(text, 1, 1), message=str(error), severity=lsp.DiagnosticSeverity.Error,
                                   source="policy lint")]
        return [_to_lsp(d, text) for d in found if Path(d.location.file) == scratch]

    def _lint_text(self, path: Path, text: str) -> tuple[list[Diagnostic], Path]:
        with tempfile.TemporaryDirectory(prefix="policy-lsp-") as tmp:
            kind = file_kind(path, text)
            scratch = Path(tmp) / path.name
            if kind != "draft":
                directory = self.set_directory(path, text)
                for source in directory.glob("*.yaml"):
                    shutil.copyfile(source, Path(tmp) / source.name)
            scratch.write_text(text, encoding="utf-8")
            return lint_paths([scratch], self.policies_dir), scratch

    async def publish_later(self, uri: str) -> None:
        """Lint the buffer once typing pauses: a change within DEBOUNCE seconds of the next is never linted,
        and a lint overtaken by a newer change is not published (linting is the slow part)."""
        import asyncio
        self._edits[uri] = edit = self._edits.get(uri, 0) + 1
        await asyncio.sleep(DEBOUNCE)
        if self._edits.get(uri) != edit:
            return
        diagnostics = await asyncio.get_running_loop().run_in_executor(self._linter, self.lint_document, uri)
        if self._edits.get(uri) == edit:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        self.lints += 1

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=self.lint_document(uri)))

    # ---- hover and completion ---------------------------------------------------------------
    def hover_text(self, uri: str, position: lsp.Position) -> str | None:
        document = self.workspace.get_text_document(uri)
        lines = document.lines
        if position.line >= len(lines):
            return None
        word = _word_at(lines[position.line], position.character)
        policy_set = self.policy_set(self.set_directory(Path(to_fs_path(uri)), document.source))
        if not word or policy_set is None:
            return None
        return describe_name(policy_set, word)

    def completions(self, uri: str, position: lsp.Position) -> list[lsp.CompletionItem]:
        from cadre_policy.editor.schema import name_enums
        document = self.workspace.get_text_document(uri)
        line = document.lines[position.line] if position.line < len(document.lines) else ""
        key = completion_key(line[:position.character])
        policy_set = self.policy_set(self.set_directory(Path(to_fs_path(uri)), document.source))
        if key is None or policy_set is None:
            return []
        if key == "derived":
            names = sorted({r.code for r in policy_set.rules if r.kind == "derive"})
        elif key == "rule":
            from cadre_policy.aggregate import load_structure
            names = sorted(r.id for r in load_structure(policy_set).rules)
        else:
            names = name_enums(policy_set)[_NAME_KINDS[key]]
        return [lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Value,
                                   detail=_short_description(policy_set, name)) for name in names]

    def forget_sets(self) -> None:
        """Read the policy sets again (after a save, a policy file may have changed)."""
        self._sets.clear()


def describe_name(policy_set, word: str) -> str | None:
    """What the policy set says of a name, in Chinese (Markdown), or None when it is not one."""
    from cadre_policy.aggregate import load_structure
    from cadre_policy.explain.sentence import aggregate_sentence, rule_sentence
    from cadre_policy.language.titles import titled
    today = date.today()
    policy_set = titled(policy_set, today)
    rule = policy_set.rule(word)
    if rule is not None:
        return "```\n" + rule_sentence(policy_set, rule, today) + "\n```"
    structure = load_structure(policy_set)
    aggregate = next((r for r in structure.rules if r.id == word), None)
    if aggregate is not None:
        group = next((g for g in structure.groups if g.name == aggregate.group), None)
        return "```\n" + aggregate_sentence(policy_set, aggregate, group, today) + "\n```"
    short = _short_description(policy_set, word)
    return short or None


def _short_description(policy_set, name: str) -> str:
    from cadre_policy.run.reasons import display
    from cadre_policy.explain.sentence import fact_title
    from cadre_policy.language.catalog import Catalogue
    outcomes = policy_set.outcomes
    if name in outcomes.findings:
        entry = outcomes.findings[name]
        return f"认定：{entry.get('title', name)}（{entry.get('kind', '')}）"
    if name in outcomes.requirements:
        return f"任职条件：{outcomes.requirements[name].get('title', name)}"
    if name in policy_set.provisions:
        quote = policy_set.provisions[name].get("quote", "")
        return f"条款 {name}：{'；'.join(quote) if isinstance(quote, list) else quote}"
    params = policy_set.parameters
    qualified = name if name in params else next((p for p in params if p.rpartition(".")[2] == name), None)
    if qualified:
        param = params[qualified]
        value = param.raw_on(date.today())
        return f"参数 {qualified}：{param.title}（{param.kind}；今日取值 {display(value)}）"
    kind = Catalogue(policy_set.derived).resolve(name)
    if kind is not None and "." in name or name in policy_set.derived:
        return f"事实 {name}：{fact_title(policy_set, name)}（{kind}）"
    return ""


def _word_at(line: str, character: int) -> str:
    for match in _WORD.finditer(line):
        if match.start() <= character <= match.end():
            return match.group(0).strip(".-")
    return ""


def _range(text: str, line: int, column: int) -> lsp.Range:
    """From a 1-based place to the end of the word there (LSP positions are 0-based)."""
    lines = text.splitlines()
    row = max(line - 1, 0)
    col = max(column - 1, 0)
    current = lines[row] if row < len(lines) else ""
    match = _WORD.match(current, col) or re.compile(r"\S+").match(current, col)
    end = match.end() if match else col
    return lsp.Range(start=lsp.Position(line=row, character=col), end=lsp.Position(line=row, character=max(end, col)))


def _to_lsp(d: Diagnostic, text: str) -> lsp.Diagnostic:
    message = d.message + (f" (did you mean '{d.suggestion}'?)" if d.suggestion else "")
    severity = lsp.DiagnosticSeverity.Error if d.severity == "error" else lsp.DiagnosticSeverity.Warning
    return lsp.Diagnostic(range=_range(text, d.location.line or 1, d.location.column or 1), message=message,
                          severity=severity, code=d.code, source="policy lint",
                          data={"suggestion": d.suggestion} if d.suggestion else None)


def build(policies_dir: str) -> PolicyLanguageServer:
    """The server with its features registered."""
    server = PolicyLanguageServer(policies_dir)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PolicyLanguageServer, params: lsp.DidOpenTextDocumentParams):
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: PolicyLanguageServer, params: lsp.DidChangeTextDocumentParams):
        await ls.publish_later(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PolicyLanguageServer, params: lsp.DidSaveTextDocumentParams):
        ls.forget_sets()
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: PolicyLanguageServer, params: lsp.HoverParams):
        text = ls.hover_text(params.text_document.uri, params.position)
        if text is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[":", " "]))
    def completion(ls: PolicyLanguageServer, params: lsp.CompletionParams):
        return lsp.CompletionList(is_incomplete=False, items=ls.completions(params.text_document.uri, params.position))

    return server


MAX_MESSAGE = 16_000_000       # bytes of one LSP message (a whole policy file is a few hundred kB)
MAX_HEADER = 1_000            # bytes of one header line


class BoundedInput:
    """Standard input for pygls with every read bounded: a ``Content-Length`` beyond MAX_MESSAGE or a header
    line without end ends the server with one line on stderr, instead of an allocation it cannot make."""

    def __init__(self, stream):
        self.stream = stream
        self.refused = False

    def readline(self) -> bytes:
        line = self.stream.readline(MAX_HEADER)
        if len(line) >= MAX_HEADER and not line.endswith(b"\n"):
            self._refuse(f"a header line longer than {MAX_HEADER} bytes")
        return line

    def read(self, n: int) -> bytes:
        if n > MAX_MESSAGE:
            self._refuse(f"Content-Length {n} is more than {MAX_MESSAGE} bytes")
        return self.stream.read(n)

    def _refuse(self, what: str) -> None:
        import sys
        self.refused = True
        print(f"policy lsp: {what}; the client is not speaking LSP as expected, stopping", file=sys.stderr)
        raise SystemExit(1)


def serve(policies_dir: str) -> None:
    """Run the server on standard input and output until the client says exit."""
    import sys
    stdin = BoundedInput(sys.stdin.buffer)
    build(policies_dir).start_io(stdin=stdin)
    if stdin.refused:
        sys.exit(1)
