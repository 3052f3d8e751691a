"""The Content-Security-Policy: no 'unsafe-inline'; the only inline blocks allowed are the reports' own.

The workbench's pages take their style and scripts from /static only. The reports (structure, what-if,
the per-cadre sheet, the 任免审批表) are self-contained files, the same bytes the command line writes:
each embeds one stylesheet (render/templates/report.css) in a <style> block and one script
(render/templates/report.js) in a <script> block, byte for byte. The policy allows exactly those two
blocks by their SHA-256, computed once at start-up from the same files; anything else inline (a style
attribute, another script) is refused by the browser.
"""
from __future__ import annotations

import base64
import hashlib
from functools import cache


def source(text: str) -> str:
    """The CSP source allowing one inline block with exactly this content."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def policy() -> str:
    """The one policy of every answer (reports are served as pages are, and shown in frames of them)."""
    from cadre_policy.render.html import CSS, SEARCH
    return (f"default-src 'self'; img-src 'self' data:; style-src 'self' {source(CSS)}; "
            f"script-src 'self' {source(SEARCH)}; frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
