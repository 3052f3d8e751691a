"""What the HTML reports share: one page shell (screen and A4 print), the search, the charts.

Every page is self-contained (one stylesheet, templates/report.css, and one script,
templates/report.js, embedded byte for byte; SVG; nothing fetched), in the reader's language,
and prints on A4: the search box and other controls are hidden, table rows and cards are not
broken across pages, each page's top carries the report, the policy-set digest and the
evaluation date (a repeated table header) and its number (a page-margin box). Every value
from data is escaped by Jinja's autoescape.
"""
from __future__ import annotations

from importlib.resources import files

from rich.cells import cell_len


# one stylesheet and one script, embedded as they are in every report: the workbench's Content-Security-Policy
# allows exactly these bytes by their SHA-256 ('sha256-…' of each file), with no 'unsafe-inline'
CSS = (files("cadre_policy.render") / "templates" / "report.css").read_text(encoding="utf-8")
SEARCH = (files("cadre_policy.render") / "templates" / "report.js").read_text(encoding="utf-8")


def shell(title: str, head: str, searchable: bool = True) -> dict:
    """What the report shell (templates/report.html) needs besides the body; ``head`` is repeated at the
    top of every printed page (a table header Chromium repeats: the stylesheet is the same for every report)."""
    return {"title": title, "css": CSS, "head": head, "searchable": searchable, "search_script": SEARCH}


def signed(n: int) -> str:
    """A difference with its sign: +3, −2, 0."""
    return f"+{n}" if n > 0 else ("−" + str(-n) if n < 0 else "0")


def difference(n: int) -> dict:
    """A difference as a table cell shows it: the signed text and its colour's class."""
    return {"diff_text": signed(n), "diff_class": "up" if n > 0 else "down" if n < 0 else "zero"}


def _text_width(text: str, px: float = 6.6) -> float:
    """Width of a label in the chart's 12px font: a wide (CJK) character is two cells."""
    return cell_len(text) * px


def chart(rows: list[tuple[str, int, str]], chart_id: str, title: str, signs: bool = True) -> dict:
    """Horizontal bars of differences (draft − baseline) around a zero line, one per label: the geometry
    the ``chart`` macro of templates/report_parts.html draws.

    Each row is (label, difference, annotation such as "16,460 → 16,477"). Bars are scaled to
    the largest difference, not to the counts, so +17 on 16,460 is visible; the label
    column and the annotation space are sized from the texts, so nothing is clipped.
    With ``signs`` False the bars are counts and only the annotations are printed.
    """
    if not rows:
        return {"id": chart_id, "title": title, "bars": []}

    def annotation(n: int, note: str) -> str:
        return f"{signed(n)}  {note}".strip() if signs else note
    label_w = max(_text_width(label) for label, _n, _a in rows) + 16
    note_w = max(_text_width(annotation(n, note)) for _l, n, note in rows) + 12
    half, row_h = 200, 24
    top = max(abs(n) for _l, n, _a in rows) or 1
    negative = any(n < 0 for _l, n, _a in rows)
    zero = label_w + (half + note_w if negative else 0)
    bars = []
    for i, (label, n, note) in enumerate(rows):
        y = 6 + i * row_h
        w = max(half * abs(n) / top, 1.5 if n else 0)
        bars.append({"label": label, "signed": signed(n), "note": annotation(n, note), "y": y, "text_y": y + 12,
                     "label_x": f"{label_w - 8:.1f}", "x": f"{zero if n >= 0 else zero - w:.1f}", "w": f"{w:.1f}",
                     "cls": "bar-up" if n > 0 else "bar-down", "note_end": n < 0,
                     "note_x": f"{zero + w + 6 if n >= 0 else zero - w - 6:.1f}"})
    return {"id": chart_id, "title": title, "bars": bars, "zero": f"{zero:.1f}",
            "width": f"{zero + half + note_w + 8:.0f}", "height": row_h * len(rows) + 12}
