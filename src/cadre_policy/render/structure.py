"""Render a structure report: a JSON contract, text for a terminal, one self-contained HTML page.

Results are grouped by region, then by rule; per-unit instances are listed under
their region. Every line gives the figure, the target, the status and the members
counted, so an officer can check the count by hand.
"""
from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.text import Text

from cadre_policy.i18n import N_, _
from cadre_policy.language.model import PolicySet
from cadre_policy.render.html import chart, shell
from cadre_policy.render.tables import Column, Sheet
from cadre_policy.render.terminal import safe
from cadre_policy.aggregate.results import MET, NOT_APPLICABLE, NOT_MET, UNKNOWN, status_title, InstanceResult, StructureReport

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
    more = "" if r.listed_all else " …" + _("({total} in all, the first {n} listed)").format(total=r.members,
                                                                                         n=len(r.listed))
    return shown + more


def _target_periods(policy_set: PolicySet) -> list:
    from cadre_policy.aggregate import load_structure
    ids = {rule.policy for rule in load_structure(policy_set).rules}
    return [p for p in policy_set.policies if p.id in ids and p.in_force is not None]


def why_empty(report: StructureReport, policy_set: PolicySet, on_page: bool = False) -> str:
    """Why nothing is counted: the structure targets' periods in force, and what to ask instead
    (``--as-of`` on the command line; a date to choose on the workbench's page)."""
    found = _target_periods(policy_set)
    periods = [f"{p.id}（{p.in_force.start} – {p.in_force.end or ''}）" for p in found]
    if not periods:
        return _("The policy set has no structure targets.")
    if on_page:
        return _("No structure target is in force on {day}: the targets are in force {periods}. "
                 "Choose one of these dates:").format(day=report.as_of.isoformat(),
                                                      periods="、".join(f"{p.title}（{p.in_force.start} – "
                                                                       f"{p.in_force.end or ''}）" for p in found))
    return _("No structure target is in force on {day}: the targets are in force {periods}. "
             "Choose a date inside with --as-of.").format(day=report.as_of.isoformat(), periods="、".join(periods))


def _counts_text(report: StructureReport) -> str:
    counts = report.counts()
    return _("{n} targets: ").format(n=len(report.results)) + _(", ").join(
        f"{status_title(k)} {counts.get(k, 0)}" for k in (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE))


def render_text(report: StructureReport, policy_set: PolicySet, console: Console) -> None:
    """Every target by region: figure, target, status, members; empty teams summed up in one line."""
    console.print(Text(_("Team and population structure targets") + "  " + _("as of") + " "
                       + report.as_of.isoformat() + (f"  {_('region')} {safe(report.region)}" if report.region else ""),
                       style="bold"))
    if not report.results:
        console.print(Text(why_empty(report, policy_set)))
        return
    for region, results in _by_region(report).items():
        console.print(Text(f"\n{safe(region)}", style="bold underline"))
        by_rule: dict[str, list] = defaultdict(list)
        for r in results:
            by_rule[r.rule.id].append(r)
        for items in by_rule.values():
            rule = items[0].rule
            console.print(Text(f"  {safe(rule.title)}  [{rule.id} · {rule.provision}]", style="bold"))
            empty = [r for r in items if r.status == NOT_APPLICABLE and r.unit]
            for r in items:
                if r in empty:
                    continue
                line = Text("    ")
                line.append(f"{_MARK[r.status]} {status_title(r.status)}", style=_STYLE[r.status])
                line.append(f"  {safe(r.label)}" + (f"（{r.unit}）" if r.unit else ""))
                line.append(f"  {r.figure}  {_('target')} {r.target}")
                if r.finding:
                    line.append(f"  {r.finding}", style="dim")
                console.print(line)
                if r.listed:
                    console.print(Text(f"        {safe(_members_text(r))}", style="dim"))
            if empty:
                console.print(Text("    – " + _("not applicable (no member in post): ")
                                   + "、".join(safe(r.label) for r in empty), style="dim"))
    console.print()
    console.print(Text(_counts_text(report)))


STRUCTURE_COLUMNS = [Column("region", N_("Region")), Column("rule", N_("Rule")), Column("title", N_("Target")),
                     Column("provision", N_("Provision")), Column("label", N_("Team or population")),
                     Column("unit", N_("Unit ID")), Column("figure", N_("Figure")), Column("target", N_("Target value")),
                     Column("status_title", N_("Result")), Column("finding", N_("Finding code")),
                     Column("members", N_("Members"))]


def sheets(report: StructureReport, policy_set: PolicySet, about=None) -> list[Sheet]:
    """The structure report for a spreadsheet: one row per target and team or population, the summary (and
    ``about``'s 说明 sheet, render/about.py)."""
    rows = [{"region": r.region, "rule": r.rule.id, "title": r.rule.title, "provision": r.rule.provision,
             "label": r.label, "unit": r.unit, "figure": r.figure, "target": r.target,
             "status_title": status_title(r.status), "finding": r.finding, "members": _members_text(r)}
            for r in report.results]
    counts = report.counts()
    summary = [{"title": status_title(k), "code": k, "cadres": counts.get(k, 0)}
               for k in (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE)]
    return [Sheet(N_("Structure targets"), STRUCTURE_COLUMNS, rows),
            Sheet(N_("Summary"), [Column("title", N_("Result")), Column("code", N_("Code")),
                                  Column("cadres", N_("Targets"))], summary)] + ([about.sheet()] if about else [])


def render_html(report: StructureReport, policy_set: PolicySet, ask=None) -> str:
    """One self-contained page (templates/structure.html): overview, a chart of missed targets by region,
    the searchable results.

    ``ask`` (a day → the address of the page on that day) makes an empty report offer the dates
    its targets are in force as links (the workbench), instead of the command line's ``--as-of``.
    """
    from cadre_policy.render.templating import render
    title = _("Team and population structure targets")
    digest = policy_set.digest[:19]
    head = f"{title} · {_('as of')} {report.as_of.isoformat()} · {_('policy set')} {digest}"
    counts = report.counts()
    values = dict(shell(title, head, searchable=bool(report.results)), title=title, digest=digest,
                  as_of=report.as_of.isoformat(), region=report.region,
                  overview=[(_("targets checked"), len(report.results))]
                  + [(status_title(k), counts.get(k, 0)) for k in (NOT_MET, MET, UNKNOWN, NOT_APPLICABLE)])
    if not report.results:
        dates = [] if ask is None else [{"href": ask(p.in_force.start), "text": p.in_force.start.isoformat()}
                                        for p in _target_periods(policy_set)]
        return render("structure.html", why_empty=why_empty(report, policy_set, on_page=ask is not None),
                      dates=dates, **values)
    regions = _by_region(report)
    region_chart = chart([(region, sum(r.status == NOT_MET for r in rs),
                           _("{n} of {total} not met").format(n=sum(r.status == NOT_MET for r in rs), total=len(rs)))
                          for region, rs in regions.items()], "chart-regions", _("Targets not met, by region"),
                         signs=False)
    return render("structure.html", region_chart=region_chart,
                  regions=[(region, _rules(policy_set, results)) for region, results in regions.items()], **values)


def _rules(policy_set: PolicySet, results: list[InstanceResult]) -> list[dict]:
    """The results of one region grouped by rule, each rule with its citation, as the page prints them."""
    by_rule: dict[str, list] = defaultdict(list)
    for r in results:
        by_rule[r.rule.id].append(r)
    out = []
    for items in by_rule.values():
        rule = items[0].rule
        src = _source(policy_set, items[0])
        out.append({"title": rule.title, "id": rule.id, "provision": rule.provision, "document": src["document"],
                    "section": src["section"], "quote": rule.quote, "note": rule.note,
                    "results": [{"label": r.label, "unit": r.unit, "figure": r.figure, "target": r.target,
                                 "status": r.status, "status_title": status_title(r.status), "finding": r.finding,
                                 "members": _members_text(r)} for r in items]})
    return out
