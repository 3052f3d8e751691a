"""What the HTML reports share: one page shell (screen and A4 print), the search, the charts.

Every page is self-contained (inline CSS, script and SVG; nothing fetched), in the
reader's language, and prints on A4: the search box and other controls are hidden,
table rows and cards are not broken across pages, and each page's margin carries the
report, the policy-set digest and the evaluation date (CSS page-margin boxes, which
Chromium prints). Every value from data goes through :func:`e`.
"""
from __future__ import annotations

from html import escape

from rich.cells import cell_len

from cadre_policy.i18n import _

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:24px auto;color:#222;
max-width:1100px;padding:0 16px;line-height:1.45}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:26px;border-bottom:1px solid #ccc;padding-bottom:2px}
h3{font-size:15px;margin:16px 0 4px} .meta{color:#555;font-size:13px} code{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:14px;margin-top:8px} th{background:#f3f3f3;white-space:nowrap}
th,td{padding:4px 10px;border:1px solid #ddd;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.up{color:#b3261e;font-weight:bold} .down{color:#1e7b34;font-weight:bold} .zero{color:#999}
.overview{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0} .tile{border:1px solid #ddd;border-radius:6px;
padding:8px 14px;min-width:120px} .tile b{display:block;font-size:22px} .tile span{font-size:13px;color:#555}
svg text{font-size:12px;font-family:inherit} .bar-up{fill:#c0504d} .bar-down{fill:#4f8f3a} .axis{stroke:#888}
.controls{margin:8px 0} #search{font-size:15px;padding:6px 10px;width:min(460px,90%)}
#no-match{display:none;color:#b3261e;font-weight:bold;margin:8px 0} .hidden{display:none}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;margin:8px 0}
.quote{font-size:13px;color:#555} .why{font-size:13px;margin-left:18px}
.met{color:#1a7f37}.not_met{color:#c62828;font-weight:bold}.unknown{color:#b26a00}.not_applicable{color:#888}
@media print{
 body{margin:0;max-width:none;padding:0;font-size:11pt} .controls,#no-match,script{display:none!important}
 .hidden{display:block!important} tr.hidden{display:table-row!important}
 tr,.card,.tile,svg,h3{break-inside:avoid;page-break-inside:avoid} h2,h3{break-after:avoid}
 thead{display:table-header-group} a{color:inherit;text-decoration:none} th{background:#eee!important}
 svg{max-width:100%;height:auto}
}
"""

SEARCH = """
(function(){
  var box=document.getElementById('search'), none=document.getElementById('no-match'),
      shown=document.getElementById('shown'), items=document.querySelectorAll('[data-item]');
  function filter(){
    var q=box.value.trim().toLowerCase(), n=0;
    for(var i=0;i<items.length;i++){
      var hit=!q || items[i].textContent.toLowerCase().indexOf(q)>=0;
      items[i].classList.toggle('hidden',!hit); if(hit) n++;
    }
    if(shown) shown.textContent=n;
    none.style.display=(q && !n)?'block':'none';
  }
  box.addEventListener('input',filter); filter();
})();
"""


def e(value) -> str:
    """Any value as HTML text (None as empty)."""
    return "" if value is None else escape(str(value))


_BODY = "\x00body\x00"


def shell(title: str, head: str, searchable: bool = True) -> dict:
    """What the report shell (templates/report.html) needs besides the body."""
    return {"title": title, "css": CSS, "page_rule": _page_rule(head), "searchable": searchable,
            "search_script": SEARCH}


def page_parts(title: str, head: str, searchable: bool = True) -> tuple[str, str]:
    """The page before and after its body, for pages written as they are made (long lists).

    ``head`` is printed in the top margin of every A4 page (report, digest, date).
    """
    from cadre_policy.render.templating import render
    start, end = render("report.html", body=_BODY, **shell(title, head, searchable)).split(_BODY)
    return start, end


def page(title: str, body: str, head: str, searchable: bool = True) -> str:
    """A whole page (see :func:`page_parts`)."""
    start, end = page_parts(title, head, searchable)
    return start + body + end


def _css_string(text: str) -> str:
    """Text as a CSS string literal that cannot end the string nor the style element."""
    out = []
    for ch in text:
        out.append(f"\\{ord(ch):x} " if ch in '"\\<>' or ord(ch) < 0x20 or ord(ch) == 0x7f else ch)
    return '"' + "".join(out) + '"'


def _page_rule(head: str) -> str:
    """A4 pages whose top margin names the report, the policy-set digest and the date."""
    return ("@page{size:A4;margin:16mm 12mm 14mm 12mm;"
            f"@top-left{{content:{_css_string(head)};font-size:8pt;color:#555}}"
            '@top-right{content:counter(page) " / " counter(pages);font-size:8pt;color:#555}}')


def search_box(placeholder: str) -> str:
    """The search field and its "no matches" line; items to filter carry ``data-item``."""
    return (f'<div class="controls"><input id="search" type="search" placeholder="{e(placeholder)}" '
            f'aria-label="{e(_("Search"))}"></div><p id="no-match">{e(_("No matches"))}</p>')


def tiles(items: list[tuple[str, object]]) -> str:
    """The overview: a few figures in large type, each with its label."""
    return '<div class="overview">' + "".join(
        f'<div class="tile"><b>{e(value)}</b><span>{e(label)}</span></div>' for label, value in items) + "</div>"


def signed(n: int) -> str:
    """A difference with its sign: +3, −2, 0."""
    return f"+{n}" if n > 0 else ("−" + str(-n) if n < 0 else "0")


def diff_cell(n: int) -> str:
    """A table cell for a difference, coloured by direction."""
    cls = "up" if n > 0 else "down" if n < 0 else "zero"
    return f'<td class="n {cls}">{signed(n)}</td>'


def _text_width(text: str, px: float = 6.6) -> float:
    """Width of a label in the chart's 12px font: a wide (CJK) character is two cells."""
    return cell_len(text) * px


def difference_chart(rows: list[tuple[str, int, str]], chart_id: str, title: str, signs: bool = True) -> str:
    """Horizontal bars of differences (draft − baseline) around a zero line, one per label.

    Each row is (label, difference, annotation such as "16,460 → 16,477"). Bars are scaled to
    the largest difference, not to the counts, so +17 on 16,460 is visible; the label
    column and the annotation space are sized from the texts, so nothing is clipped.
    With ``signs`` False the bars are counts and only the annotations are printed.
    """
    if not rows:
        return f'<p id="{chart_id}" class="meta">{e(_("No differences."))}</p>'
    label_w = max(_text_width(label) for label, _n, _a in rows) + 16
    def annotation(n: int, note: str) -> str:
        return f"{signed(n)}  {note}".strip() if signs else note
    note_w = max(_text_width(annotation(n, note)) for _l, n, note in rows) + 12
    half, row_h = 200, 24
    top = max(abs(n) for _l, n, _a in rows) or 1
    negative = any(n < 0 for _l, n, _a in rows)
    zero = label_w + (half + note_w if negative else 0)
    width = zero + half + note_w + 8
    height = row_h * len(rows) + 12
    parts = [f'<svg id="{chart_id}" class="chart" role="img" aria-label="{e(title)}" width="{width:.0f}" '
             f'height="{height}" viewBox="0 0 {width:.0f} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="{zero:.1f}" y1="2" x2="{zero:.1f}" y2="{height - 4}"/>']
    for i, (label, n, note) in enumerate(rows):
        y = 6 + i * row_h
        w = max(half * abs(n) / top, 1.5 if n else 0)
        x = zero if n >= 0 else zero - w
        parts.append(f'<text x="{label_w - 8:.1f}" y="{y + 12}" text-anchor="end">{e(label)}</text>')
        parts.append(f'<rect class="{"bar-up" if n > 0 else "bar-down"}" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                     f'height="14"><title>{e(label)}: {signed(n)}</title></rect>')
        if n >= 0:
            parts.append(f'<text x="{zero + w + 6:.1f}" y="{y + 12}">{e(annotation(n, note))}</text>')
        else:
            parts.append(f'<text x="{zero - w - 6:.1f}" y="{y + 12}" text-anchor="end">{e(annotation(n, note))}</text>')
    parts.append("</svg>")
    return "".join(parts)
