"""Render a structure report: a JSON contract, text for a terminal, one self-contained HTML page.

Results are grouped by region, then by rule; per-unit instances are listed under
their region. Every line gives the figure, the target, the status and the members
counted, so an officer can check the count by hand.
"""
from __future__ import annotations

import html
from collections import defaultdict

from rich.console import Console
from rich.text import Text

from cadre_policy.language.model import PolicySet
from cadre_policy.aggregate.results import MET, NOT_APPLICABLE, NOT_MET, STATUS_TITLES, UNKNOWN, InstanceResult, StructureReport

_STYLE = {MET: "green", NOT_MET: "red", NOT_APPLICABLE: "dim", UNKNOWN: "yellow"}
_MARK = {MET: "✓", NOT_MET: "✗", NOT_APPLICABLE: "–", UNKNOWN: "?"}
_COUNTED = {"yes": "✓", "no": "✗", "unknown": "?"}


def _source(policy_set: PolicySet, r: InstanceResult) -> dict:
    policy = next(p for p in policy_set.policies if p.id == r.rule.policy)
    return {"document": policy.source.document, "file": policy.source.file, "section": r.rule.section,
            "quote": r.rule.quote, "provision": r.rule.provision}


def to_json(report: StructureReport, policy_set: PolicySet) -> dict:
    """The stable JSON contract of ``policy structure --format json``."""
    results = []
    for r in report.results:
        entry = {"rule": r.rule.id, "title": r.rule.title, "provision": r.rule.provision, "group": r.rule.group,
                 "measure": r.rule.measure, "instance": r.key, "label": r.label, "region": r.region,
                 "unit": r.unit, "figure": r.figure, "members": r.members, "matched": r.matched,
                 "unknown": r.unknown, "target": r.target, "status": r.status,
                 "finding": r.finding, "source": _source(policy_set, r),
                 "listed": [{"id": m.id, "name": m.name, "counted": m.counted} for m in r.listed],
                 "listed_all": r.listed_all}
        if r.rule.note:
            entry["note"] = r.rule.note
        results.append(entry)
    return {"as_of": report.as_of.isoformat(), "region": report.region,
            "policy_set": {"path": policy_set.path, "digest": policy_set.digest},
            "summary": report.counts(), "results": results}


def _by_region(report: StructureReport) -> dict[str, list[InstanceResult]]:
    regions: dict[str, list] = defaultdict(list)
    for r in report.results:
        regions[r.region].append(r)
    return dict(sorted(regions.items(), key=lambda kv: (kv[0] == "全部", kv[0])))


def _members_text(r: InstanceResult) -> str:
    shown = "、".join(f"{_COUNTED[m.counted]}{m.id} {m.name}" for m in r.listed)
    more = "" if r.listed_all else f" …（共 {r.members}，列出前 {len(r.listed)}）"
    return shown + more


def render_text(report: StructureReport, policy_set: PolicySet, console: Console) -> None:
    """Every target by region: figure, target, status, members; empty teams summed up in one line."""
    console.print(Text(f"班子和干部队伍结构目标  评估日期 {report.as_of.isoformat()}"
                       + (f"  范围 {report.region}" if report.region else ""), style="bold"))
    if not report.results:
        console.print("没有在评估日期有效的结构目标。")
        return
    for region, results in _by_region(report).items():
        console.print(Text(f"\n{region}", style="bold underline"))
        by_rule: dict[str, list] = defaultdict(list)
        for r in results:
            by_rule[r.rule.id].append(r)
        for rule_id, items in by_rule.items():
            rule = items[0].rule
            console.print(Text(f"  {rule.title}  [{rule.id} · {rule.provision}]", style="bold"))
            empty = [r for r in items if r.status == NOT_APPLICABLE and r.unit]
            for r in items:
                if r in empty:
                    continue
                line = Text("    ")
                line.append(f"{_MARK[r.status]} {STATUS_TITLES[r.status]}", style=_STYLE[r.status])
                line.append(f"  {r.label}" + (f"（{r.unit}）" if r.unit else ""))
                line.append(f"  {r.figure}  目标 {r.target}")
                if r.finding:
                    line.append(f"  {r.finding}", style="cyan")
                console.print(line)
                if r.listed:
                    console.print(Text(f"        {_members_text(r)}", style="dim"))
            if empty:
                console.print(Text(f"    – 不适用（无在职成员）: {'、'.join(r.label for r in empty)}", style="dim"))
    counts = report.counts()
    console.print(f"\n{len(report.results)} 项: " + ", ".join(f"{STATUS_TITLES[k]} {counts.get(k, 0)}"
                                                          for k in (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE)))


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{border-bottom:2px solid #444;margin-top:2em}h3{font-size:1em;margin:1.2em 0 .3em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}
.met{color:#1a7f37}.not_met{color:#c62828;font-weight:bold}.unknown{color:#b26a00}.not_applicable{color:#888}
.members{font-size:.85em;color:#555}.quote{font-size:.85em;color:#666}"""


def render_html(report: StructureReport, policy_set: PolicySet) -> str:
    """One self-contained HTML page (inline CSS, no scripts, nothing fetched)."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>班子和干部队伍结构目标 {e(report.as_of.isoformat())}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>班子和干部队伍结构目标</h1><p>评估日期 {e(report.as_of.isoformat())}"
           + (f"，范围 {e(report.region)}" if report.region else "")
           + f"；政策集 {e(policy_set.digest[:19])}</p>"]
    counts = report.counts()
    out.append("<p>" + "，".join(f"{STATUS_TITLES[k]} {counts.get(k, 0)}"
                                  for k in (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE)) + "</p>")
    for region, results in _by_region(report).items():
        out.append(f"<h2>{e(region)}</h2>")
        by_rule: dict[str, list] = defaultdict(list)
        for r in results:
            by_rule[r.rule.id].append(r)
        for items in by_rule.values():
            rule = items[0].rule
            src = _source(policy_set, items[0])
            out.append(f"<h3>{e(rule.title)} <small>[{e(rule.id)} · {e(rule.provision)}]</small></h3>")
            out.append(f'<p class="quote">《{e(src["document"])}》{e(src["section"])}：“{e(rule.quote)}”</p>')
            out.append("<table><tr><th>对象</th><th>数值</th><th>目标</th><th>结果</th><th>计入的成员</th></tr>")
            for r in items:
                members = "、".join(f"{_COUNTED[m.counted]}{e(m.id)} {e(m.name)}" for m in r.listed)
                if not r.listed_all:
                    members += f" …（共 {r.members}，列出前 {len(r.listed)}）"
                out.append(f"<tr><td>{e(r.label)}{f' ({e(r.unit)})' if r.unit else ''}</td><td>{e(r.figure)}</td>"
                           f"<td>{e(r.target)}</td><td class=\"{r.status}\">{e(STATUS_TITLES[r.status])}"
                           f"{f'<br>{e(r.finding)}' if r.finding else ''}</td>"
                           f'<td class="members">{members}</td></tr>')
            out.append("</table>")
    out.append("<p class=\"members\">✓ 计入 ✗ 不计入 ? 资料不全</p></body></html>")
    return "\n".join(out)
