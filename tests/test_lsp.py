"""`policy lsp` in a real LSP session over stdio (pygls's client, the server as a subprocess):
diagnostics on open and change, hover, completion."""
from __future__ import annotations

import asyncio
import shutil
import sys

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from cadre_policy import data


async def _session(directory, steps):
    client = LanguageClient("policy-lsp-test", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: lsp.PublishDiagnosticsParams):
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "cadre_policy", "lsp", "--policies", str(directory))
    try:
        await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                           root_uri=directory.as_uri()))
        client.initialized(lsp.InitializedParams())
        return await steps(client, published)
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def _open(client, path, text):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=path.as_uri(), language_id="yaml", version=1, text=text)))


@pytest.fixture
def policy_copy(tmp_path):
    target = tmp_path / "policies"
    shutil.copytree(data.POLICIES, target)
    return target


def test_session_diagnostics_hover_completion(policy_copy):
    path = policy_copy / "supervision.yaml"
    good = path.read_text(encoding="utf-8")
    typo = good.replace("latest_review.dissatisfied", "latest_review.disatisfied", 1)
    row = next(i for i, line in enumerate(typo.splitlines()) if "latest_review.disatisfied" in line)

    async def steps(client, published):
        _open(client, path, typo)
        first = await asyncio.wait_for(published.get(), 60)
        # fixed in the buffer (not saved): the diagnostic goes away
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=good)]))
        second = await asyncio.wait_for(published.get(), 60)
        lines = good.splitlines()
        fact_row = next(i for i, line in enumerate(lines) if "{fact: " in line)
        completion = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            position=lsp.Position(line=fact_row, character=lines[fact_row].index("{fact: ") + len("{fact: "))))
        rule_row = next(i for i, line in enumerate(lines) if "id: supervision.admonish" in line)
        hover_rule = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            position=lsp.Position(line=rule_row, character=lines[rule_row].index("supervision.admonish") + 3)))
        return first, second, completion, hover_rule

    first, second, completion, hover_rule = asyncio.run(_session(policy_copy, steps))
    (diagnostic,) = first.diagnostics
    column = typo.splitlines()[row].index("{ratio: [latest_review.disatisfied")   # where `policy lint` places it
    assert diagnostic.code == "E201"
    assert diagnostic.message == "unknown fact 'latest_review.disatisfied' (did you mean 'latest_review.dissatisfied'?)"
    assert diagnostic.severity == lsp.DiagnosticSeverity.Error
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (row, column)
    assert list(second.diagnostics) == []
    labels = {item.label for item in completion.items}
    assert {"cadre.age", "latest_review.dissatisfied", "grassroots_experience"} <= labels
    assert "admonishment_talk" not in labels
    assert "测评“不满意”票超过三分之一" in hover_rule.contents.value


def test_session_draft_and_hover_on_a_fact(tmp_path):
    draft = tmp_path / "d.yaml"
    text = ("# yaml-language-server: $schema=../schemas/draft.schema.json\nid: dx\ntitle: 草案\n"
            "parameters:\n  admonish_ratio: 3/10\nadd:\n  - id: dx.r\n    title: 标题\n    provision: P004-5\n"
            "    quote: 原文\n    when: {fact: latest_review.total, 以上: 40}\n    finding: admonishment_talk\n")

    async def steps(client, published):
        _open(client, draft, text)
        diagnostics = await asyncio.wait_for(published.get(), 60)
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=draft.as_uri()), position=lsp.Position(line=10, character=20)))
        completion = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=draft.as_uri()), position=lsp.Position(line=11, character=13)))
        return diagnostics, hover, completion

    diagnostics, hover, completion = asyncio.run(_session(data.POLICIES, steps))
    messages = [(d.range.start.line, d.range.start.character, d.code, d.message) for d in diagnostics.diagnostics]
    assert (4, 2, "E202", "unknown parameter 'admonish_ratio': a draft names parameters as policy.name "
                          "(did you mean 'supervision.admonish_ratio'?)") in messages
    assert hover.contents.value.startswith("事实 latest_review.total：最近一次监督评议的总票数")
    assert "admonishment_talk" in {item.label for item in completion.items}


def test_many_changes_are_linted_once_typing_pauses(policy_copy):
    """2,000 changes in a burst: one lint of the last text, not 2,000 (the debounce)."""
    import time
    path = policy_copy / "supervision.yaml"
    good = path.read_text(encoding="utf-8")
    typo = good.replace("latest_review.dissatisfied", "latest_review.disatisfied", 1)

    async def steps(client, published):
        _open(client, path, good)
        await asyncio.wait_for(published.get(), 60)
        started = time.monotonic()
        for version in range(2, 2002):
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=typo if version % 2 else good)]))
        last = await asyncio.wait_for(published.get(), 60)
        seconds = time.monotonic() - started
        await asyncio.sleep(2)
        return last, published.qsize(), seconds

    last, more, seconds = asyncio.run(_session(policy_copy, steps))
    assert [d.code for d in last.diagnostics] == ["E201"]          # version 2001 (odd): the typo
    assert more == 0 and seconds < 60


def test_a_huge_content_length_ends_the_server_with_one_line(tmp_path):
    import subprocess
    done = subprocess.run([sys.executable, "-m", "cadre_policy", "lsp", "--policies", str(data.POLICIES)],
                          input=b"Content-Length: 99999999999\r\n\r\n", capture_output=True, timeout=60)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr and b"Content-Length 99999999999" in done.stderr
