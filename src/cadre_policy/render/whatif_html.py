"""A what-if run as one self-contained HTML file: inline CSS, JavaScript and SVG, no network."""
from __future__ import annotations

from html import escape

from cadre_policy.load.drafts import Draft
from cadre_policy.language.model import PolicySet
from cadre_policy.whatif.run import WhatIfResult
from cadre_policy.render.whatif import key_title

MAX_LISTED = 20000      # changed cadres listed in the page (the JSON and CSV formats list all)

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:13px} table{border-collapse:collapse;font-size:14px;margin-top:8px}
th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#b3261e;font-weight:bold} .down{color:#1e7b34;font-weight:bold} .zero{color:#aaa}
svg text{font-size:12px;font-family:inherit} .bar-b{fill:#9aa5b1} .bar-d{fill:#3b6fb6}
#search{font-size:15px;padding:6px 10px;width:420px;margin:8px 0} .cadre{border:1px solid #e4e4e4;border-radius:6px;
padding:8px 12px;margin:8px 0} .cadre.hidden{display:none} .who{font-weight:bold} .item{margin:4px 0 0 12px}
.rule{margin-left:28px;color:#1f5f8b;font-size:13px} .reason{margin-left:44px;font-size:13px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
"""

JS = """
(function(){
  var box=document.getElementById('search'), items=document.querySelectorAll('#changes .cadre'),
      count=document.getElementById('shown');
  function filter(){
    var q=box.value.trim().toLowerCase(), shown=0;
    for(var i=0;i<items.length;i++){
      var hit=!q || items[i].getAttribute('data-search').indexOf(q)>=0;
      items[i].classList.toggle('hidden',!hit); if(hit) shown++;
    }
    count.textContent=shown;
  }
  box.addEventListener('input',filter); filter();
})();
"""


def _diff(diff: int) -> str:
    cls = "up" if diff > 0 else "down" if diff < 0 else "zero"
    return f'<td class="n {cls}">{"+" if diff > 0 else ""}{diff}</td>'


def _bars(rows: list[tuple[str, int, int]], chart_id: str, title: str) -> str:
    """Paired horizontal bars (baseline, draft) per label, inline SVG."""
    if not rows:
        return f'<p id="{chart_id}" class="meta">no changes</p>'
    top = max(max(b, d) for _, b, d in rows) or 1
    label_w, bar_w, row_h = 260, 520, 34
    height = row_h * len(rows) + 30
    parts = [f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
             f'width="{label_w + bar_w + 120}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, base, draft) in enumerate(rows):
        y = 10 + i * row_h
        wb, wd = bar_w * base / top, bar_w * draft / top
        diff = draft - base
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar-b" x="{label_w}" y="{y}" width="{wb:.1f}" height="11"><title>baseline '
                     f'{base}</title></rect>')
        parts.append(f'<rect class="bar-d" x="{label_w}" y="{y + 13}" width="{wd:.1f}" height="11"><title>draft '
                     f'{draft}</title></rect>')
        parts.append(f'<text x="{label_w + max(wb, wd) + 6:.1f}" y="{y + 16}">{base} → {draft} '
                     f'({"+" if diff > 0 else ""}{diff})</text>')
    parts.append("</svg>")
    return "".join(parts)


def _single_bars(rows: list[tuple[str, int]], chart_id: str, title: str) -> str:
    """One horizontal bar per label, inline SVG."""
    if not rows:
        return f'<p id="{chart_id}" class="meta">no changes</p>'
    top = max(n for _, n in rows) or 1
    label_w, bar_w, row_h = 260, 520, 20
    parts = [f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
             f'width="{label_w + bar_w + 80}" height="{row_h * len(rows) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, n) in enumerate(rows):
        y = 5 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar-d" x="{label_w}" y="{y}" width="{bar_w * n / top:.1f}" height="14">'
                     f'<title>{n}</title></rect>')
        parts.append(f'<text x="{label_w + bar_w * n / top + 6:.1f}" y="{y + 12}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _change_html(change: dict) -> str:
    search = " ".join([change["cadre"], change["name"], change["unit"], change["unit_name"]] +
                      [i.get("code", i.get("determination", "")) + " " + i["title"] for i in change["changes"]] +
                      [r["rule"] + " " + " ".join(r["reasons"]) for i in change["changes"] for r in i["rules"]])
    out = [f'<div class="cadre" data-search="{escape(search.lower())}">',
           f'<div class="who">{escape(change["cadre"])} {escape(change["name"])} '
           f'<span class="meta">{escape(change["unit_name"])} ({escape(change["unit"])})</span></div>']
    for item in change["changes"]:
        if item["kind"] == "finding":
            sign, cls = ("+", "up") if item["change"] == "added" else ("−", "down")
            out.append(f'<div class="item"><span class="{cls}">{sign} {escape(item["title"])}</span> '
                       f'<code>{escape(item["code"])}</code> <span class="meta">{item["change"]} under draft</span></div>')
        else:
            out.append(f'<div class="item">{escape(item["title"])}: <b>{escape(item["baseline"])}</b> → '
                       f'<b>{escape(item["draft"])}</b></div>')
        for rule in item["rules"]:
            out.append(f'<div class="rule">{escape(rule["rule"])} · {escape(rule["provision"])} — '
                       f'{escape(rule["title"])}: {escape(rule["baseline"])} → {escape(rule["draft"])}</div>')
            out.extend(f'<div class="reason">因为 {escape(reason)}</div>' for reason in rule["reasons"])
    out.append("</div>")
    return "".join(out)


def to_html(result: WhatIfResult, draft: Draft, policy_set: PolicySet, out) -> None:
    """Write the page: header, summary table, charts by outcome and by unit, searchable changes."""
    rows = result.summary_rows()
    changed_rows = [(key_title(k, policy_set), b, d) for k, b, d, x in rows if x]
    unit_rows = [(f"{result.unit_names.get(u, u)} ({u})", n)
                 for u, n in sorted(result.changed_by_unit.items(), key=lambda r: (-r[1], r[0]))[:30]]
    out.write('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">')
    out.write(f"<title>What-if: {escape(draft.title)}</title><style>{CSS}</style></head><body>")
    out.write(f"<h1>What-if: {escape(draft.title)}</h1>")
    out.write(f'<p class="meta">draft <code>{escape(draft.id)}</code> ({escape(draft.file)}); '
              f'{escape("; ".join(draft.describe()))}<br>{result.cadres} cadres on {result.as_of.isoformat()}, '
              f'<b id="changed-count">{result.changed}</b> changed; engine {result.engine}, '
              f'{result.workers} worker(s), {result.seconds:.1f} s</p>')
    if draft.note:
        out.write(f'<p>{escape(draft.note)}</p>')
    out.write('<h2>Summary</h2><table id="summary"><thead><tr><th>结果 Outcome</th><th>code</th>'
              '<th>baseline</th><th>draft</th><th>difference</th></tr></thead><tbody>')
    for key, base, draft_n, diff in rows:
        out.write(f"<tr><td>{escape(key_title(key, policy_set))}</td><td><code>{escape(key)}</code></td>"
                  f'<td class="n">{base}</td><td class="n">{draft_n}</td>{_diff(diff)}</tr>')
    out.write("</tbody></table>")
    if result.structure is not None:
        from cadre_policy.render.whatif import structure_line
        out.write(f'<h2>Structure targets that change status ({len(result.structure)})</h2><ul id="structure">')
        for change in result.structure:
            out.write(f"<li>{escape(structure_line(change))}</li>")
        out.write("</ul>")
    if result.near is not None:
        from cadre_policy.render.whatif import near_rows
        out.write(f'<h2>Near misses (within {result.near_margin})</h2><table id="near"><thead><tr><th>结果 Outcome'
                  '</th><th>code</th><th>baseline</th><th>draft</th><th>difference</th></tr></thead><tbody>')
        for row in near_rows(result, policy_set):
            out.write(f"<tr><td>{escape(row['title'])}</td><td><code>{escape(row['code'])}</code></td>"
                      f'<td class="n">{row["baseline"]}</td><td class="n">{row["draft"]}</td>'
                      f'{_diff(row["difference"])}</tr>')
        out.write("</tbody></table>")
    out.write('<h2>Changes by outcome</h2><div class="legend"><span style="background:#9aa5b1"></span>baseline'
              '<span style="background:#3b6fb6"></span>draft</div>')
    out.write(_bars(changed_rows, "chart-outcomes", "changes by outcome"))
    out.write('<h2>Changes by unit</h2><p class="meta">changed cadres per unit of the current post '
              '(the 30 units with most changes)</p>')
    out.write(_single_bars(unit_rows, "chart-units", "changed cadres by unit"))
    out.write(f'<h2>Changed cadres (<span id="shown">{min(result.changed, MAX_LISTED)}</span> shown)</h2>')
    out.write('<input id="search" type="search" placeholder="搜索 / search: id, name, unit, rule, code">')
    out.write('<div id="changes">')
    for i, change in enumerate(result.changes()):
        if i >= MAX_LISTED:
            out.write(f'<p class="meta">… {result.changed - MAX_LISTED} more: use --format json or csv</p>')
            break
        out.write(_change_html(change))
    out.write(f"</div><script>{JS}</script></body></html>\n")
