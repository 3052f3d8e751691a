"""The printable per-cadre 资格审查表 (qualification review sheet): one self-contained A4 HTML page.

Built from the JSON of `policy check --format json` and the cadre's canonical
document, so the sheet says exactly what the recorded check said. Inline CSS, no
scripts, nothing fetched.
"""
from __future__ import annotations

import datetime as dt
import html

from cadre_policy.language import labels
from cadre_policy.run.reasons import SYMBOLS
from cadre_policy.language.posts import current_post
from cadre_policy.language.model import PolicySet
from cadre_policy.render.check import fact_label, value_label

RESULT = {"met": "✓ 符合", "unmet": "✗ 不符合", "unknown": "？资料不全"}
VERDICT = {"eligible": "符合", "ineligible": "不符合", "pending": "待定（资料不全）"}
CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Noto Serif CJK SC", "WenQuanYi Micro Hei", "SimSun", serif; font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 18pt; letter-spacing: .3em; margin: 0 0 4mm; }
.meta { text-align: center; font-size: 9pt; margin-bottom: 4mm; }
table { border-collapse: collapse; width: 100%; margin-bottom: 4mm; page-break-inside: auto; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; white-space: nowrap; width: 1%; }
h2 { font-size: 12pt; margin: 4mm 0 2mm; }
.quote { font-size: 9pt; color: #333; }
tr { page-break-inside: avoid; }
.sign td { height: 14mm; }
.foot { font-size: 8pt; color: #444; margin-top: 4mm; }
"""


def _because(entries: list[dict], fact) -> str:
    e = html.escape
    parts = []
    for b in entries:
        text = e(fact(b["fact"]))
        if b.get("value") is not None:
            text += f" = {e(value_label(b['fact'], str(b['value'])))}"
        op = str(b.get("op", ""))
        text += f" {e({'asserted': '已认定'}.get(op, SYMBOLS.get(op, op)))}"
        if b.get("threshold") is not None:
            text += f" {e(value_label(b['fact'], str(b['threshold'])))}"
        parts.append(text + (" ✓" if b.get("holds") else " ✗"))
    return "；".join(parts)


def qualification_sheet(result: dict, doc: dict, units: dict, policy_set: PolicySet) -> str:
    """The 资格审查表 of one check as an HTML page ready to print on A4."""
    e = html.escape
    fact = fact_label(policy_set)
    post = current_post(doc.get("posts", []), dt.date.fromisoformat(result["as_of"]))
    unit_name = (lambda uid: units.get(uid, {}).get("name", uid))
    promotion = result["promotion"]
    rows = [("姓名", doc["name"]), ("性别", labels.value("gender", doc["gender"])),
            ("出生日期", str(doc["birth_date"])), ("政治面貌", labels.value("party", doc["party"])),
            ("民族", doc.get("ethnicity", "")), ("学历", labels.value("education", doc.get("education", "")) if
                                                 doc.get("education") else ""),
            ("现任职务", f"{unit_name(post['unit'])}{post['title']}（{labels.value('rank', post['rank'])}）"
                      if post else "—"),
            ("拟任职务层次", labels.value("rank", promotion["target_rank"]) if promotion.get("target_rank") else "—")]
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>干部资格审查表 {e(result['cadre'])} {e(result['name'])}</title><style>{CSS}</style></head><body>",
           "<h1>干部资格审查表</h1>",
           f'<p class="meta">干部编号 {e(result["cadre"])} · 审查日期 {e(result["as_of"])}</p>',
           "<table>"]
    for i in range(0, len(rows), 2):
        out.append("<tr>" + "".join(f"<th>{e(k)}</th><td>{e(str(v))}</td>" for k, v in rows[i:i + 2]) + "</tr>")
    out.append("</table><h2>一、任职经历</h2><table><tr><th>起止</th><th>单位及职务</th><th>层次</th></tr>")
    for p in doc.get("posts", []):
        out.append(f"<tr><td>{e(str(p['start']))} — {e(str(p.get('end') or '至今'))}</td>"
                   f"<td>{e(unit_name(p['unit']))}{e(p['title'])}</td><td>{e(labels.value('rank', p['rank']))}</td></tr>")
    out.append("</table><h2>二、任职资格条件</h2>"
               "<table><tr><th>条件</th><th>结果</th><th>依据</th><th>核查情况</th></tr>")
    for r in promotion["requirements"]:
        out.append(f"<tr><td>{e(r['title'])}</td><td>{e(RESULT.get(r['result'], r['result']))}</td><td>{e(r['provision'])}</td>"
                   f"<td>{_because(r['because'], fact)}</td></tr>")
    verdict = VERDICT.get(promotion["eligibility"], promotion["eligibility"])
    out.append(f'<tr><th colspan="2">审查结论</th><td colspan="2"><b>{e(verdict)}</b></td></tr></table>')
    out.append("<h2>三、适用的政策结论</h2><table><tr><th>结论</th><th>理由</th><th>政策依据</th></tr>")
    for f in result["findings"]:
        status = "" if f["status"] == "active" else "（已被取代）"
        src = f["source"]
        out.append(f"<tr><td>{e(f['title'])}{e(status)}</td><td>{_because(f['because'], fact)}</td>"
                   f'<td class="quote">《{e(src["document"])}》{e(src["section"])}：“{e(src["quote"])}”</td></tr>')
    if not result["findings"]:
        out.append('<tr><td colspan="3">无</td></tr>')
    out.append("</table><table class=\"sign\"><tr><th>审查人</th><td></td><th>审核人</th><td></td>"
               "<th>日期</th><td></td></tr></table>")
    record = f"纪实记录 #{result['record']} · " if result.get("record") is not None else ""
    out.append(f'<p class="foot">{e(record)}政策集 {e(result["policy_set"]["digest"])}</p></body></html>')
    return "\n".join(out)
