"""The sheets-and-columns section of docs/spreadsheets.md, generated from the layout table.

Run ``python -m cadre_policy.intake.sheets.doc`` (from the top of the repository) to rewrite
the section between its markers; a test checks that the document matches.
"""
from __future__ import annotations

import sys
from pathlib import Path

from cadre_policy.intake.sheets.layout import SHEETS, describe

BEGIN = "<!-- sheets:begin (generated from intake/sheets/layout.py) -->"
END = "<!-- sheets:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def section() -> str:
    """The Markdown of every sheet and column, between the markers."""
    lines = [BEGIN]
    rows = describe()
    for sheet in SHEETS:
        lines += ["", f"**{sheet.name}** (`{sheet.key}`): {sheet.note}", "",
                  "| 列名 | field | 类型 | 必填 | 取值 | 说明 |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_cell(v) for v in row[1:]) + " |" for row in rows if row[0] == sheet.name]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(path: str) -> None:
    """Replace the section between the markers of ``path`` (append it if missing)."""
    text = Path(path).read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section() + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section() + "\n"
    Path(path).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    rewrite(sys.argv[1] if len(sys.argv) > 1 else "docs/spreadsheets.md")
