"""The Content-Security-Policy: no inline style or script anywhere but the reports' own blocks, by hash.

The workbench's pages take their style and scripts from /static only. The reports (structure, what-if,
the per-cadre sheet, the 任免审批表) are self-contained files, the same bytes the command line writes:
their <style> and <script> blocks are allowed by the SHA-256 of exactly those blocks, computed from
the response being sent (a report's print margin names the report and its date, so its style is not
one fixed text); nothing else inline runs, and 'unsafe-inline' is never granted.
"""
from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from fastapi.responses import HTMLResponse

_BASE = ("default-src 'self'; img-src 'self' data:; style-src 'self'{styles}; script-src 'self'{scripts}; "
         "frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
_BLOCK = re.compile(r"<(style|script)>(.*?)</\1>", re.S)


def source(text: str) -> str:
    """The CSP source allowing one inline block with exactly this content."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def default() -> str:
    """Every page's policy: the report search script allowed by hash (reports shown in a frame), no inline style."""
    from cadre_policy.render.html import SEARCH
    return _BASE.format(styles="", scripts=" " + source(SEARCH))


def of_report(html: str) -> str:
    """The policy for one self-contained report: its own <style> and <script> blocks, by hash."""
    found: dict[str, set[str]] = {"style": set(), "script": set()}
    for kind, body in _BLOCK.findall(html):
        found[kind].add(source(body))
    return _BASE.format(styles="".join(" " + s for s in sorted(found["style"])),
                        scripts="".join(" " + s for s in sorted(found["script"])))


def report_response(html: str) -> HTMLResponse:
    """A self-contained report as a response whose policy allows its own inline blocks and nothing else."""
    return HTMLResponse(html, headers={"Content-Security-Policy": of_report(html)})
