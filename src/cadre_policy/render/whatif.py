"""Render a what-if run: text for a terminal, a JSON document, CSV rows of changes."""
from __future__ import annotations

import json

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cadre_policy.load.drafts import Draft
from cadre_policy.language.model import PolicySet
from cadre_policy.whatif.run import WhatIfResult
from cadre_policy.whatif.reach import ABSENT, ACTIVE
from cadre_policy.aggregate.results import status_title
from cadre_policy.i18n import N_, _
from cadre_policy.render.about import About, draft_words
from cadre_policy.render.check import eligibility_word, fact_label, value_label
from cadre_policy.render.reasons import phrase_change, rule_state
from cadre_policy.render.tables import Column, Sheet, write_csv
from cadre_policy.render.terminal import safe

def key_title(key: str, policy_set: PolicySet) -> str:
    """A summary key as an officer reads it: the outcome's Chinese title, or 提拔：符合."""
    kind, _sep, value = key.partition(":")
    if kind == "finding":
        return policy_set.outcomes.findings.get(value, {}).get("title", value)
    if kind == "promotion":
        return _("Promotion: {word}").format(word=eligibility_word(value))
    title = policy_set.outcomes.determinations.get(kind, {}).get("title", kind)
    return f"{title}：{eligibility_word(value)}"


_HEADLINE = {"newly_unmet": N_("newly failing “{title}”: {n}"),
             "no_longer_unmet": N_("no longer failing “{title}”: {n}"),
             "newly_found": N_("newly found “{title}”: {n}"),
             "no_longer_found": N_("no longer found “{title}”: {n}")}
_FINDING_STATE = {ABSENT: "not fired", ACTIVE: "active"}


def reach_title(kind: str, code: str, policy_set: PolicySet) -> str:
    """The Chinese title of a requirement or finding code of the reach."""
    table = policy_set.outcomes.requirements if kind == "requirement" else policy_set.outcomes.findings
    return table.get(code, {}).get("title", code)


def reach_sentence(result: WhatIfResult, policy_set: PolicySet) -> str:
    """Both numbers in one sentence: 结论改变 83 名；新不满足“…” 752 名；…"""
    parts = [_("conclusion changed for {n}").format(n=f"{result.changed:,}")]
    for what, code, n in result.reach.headline():
        kind = "requirement" if what.endswith("unmet") else "finding"
        parts.append(_(_HEADLINE[what]).format(title=reach_title(kind, code, policy_set), n=f"{n:,}"))
    return _("; ").join(parts)


def reach_rows(result: WhatIfResult, policy_set: PolicySet) -> list[dict]:
    """Each transition of the reach with its title, the words of both sides and, when listed, its cadres."""
    out = []
    for row in result.reach.rows():
        state = (lambda s: s) if row["kind"] == "requirement" else _FINDING_STATE.get
        row = dict(row, title=reach_title(row["kind"], row["code"], policy_set),
                   baseline_word=rule_state(state(row["before"])), draft_word=rule_state(state(row["after"])))
        if result.reach.cadres is not None:
            row["listed"] = [{"cadre": c, "name": n, "unit": u, "unit_name": result.unit_names.get(u, u)}
                             for c, n, u in result.reach.cadres.get(row["key"], [])]
        out.append(row)
    return out


def reach_document(result: WhatIfResult, policy_set: PolicySet) -> dict:
    """The reach in the JSON report: the sentence, the headline figures and every transition."""
    return {"sentence": reach_sentence(result, policy_set),
            "headline": [{"change": what, "code": code, "cadres": n,
                          "title": reach_title("requirement" if what.endswith("unmet") else "finding", code, policy_set)}
                         for what, code, n in result.reach.headline()],
            "transitions": reach_rows(result, policy_set)}


def header(result: WhatIfResult, draft: Draft) -> dict:
    return {"draft": {"id": draft.id, "title": draft.title, "file": draft.file, "note": draft.note,
                      "in_force": draft.in_force.start.isoformat() if draft.in_force else None,
                      "changes": draft.describe()},
            "as_of": result.as_of.isoformat(), "cadres": result.cadres, "changed": result.changed,
            "engine": result.engine, "workers": result.workers, "seconds": round(result.seconds, 2),
            "shared_facts": result.shared_facts, "draft_runs_skipped": result.skipped,
            "durable_rules_checked": result.verified}


def to_json(result: WhatIfResult, draft: Draft, policy_set: PolicySet, out) -> None:
    """One JSON document: header, summary, near misses, then a line per unit and per changed cadre.

    Units and changes are written one compact line each (a million cadres have thousands of
    units): json's C encoder writes those, its indenting one only the header.
    """
    titles: dict = {}

    def row(r) -> dict:
        key, base, new, diff = r
        if key not in titles:
            titles[key] = key_title(key, policy_set)
        return {"key": key, "title": titles[key], "baseline": base, "draft": new, "difference": diff}
    doc = header(result, draft)
    doc["summary"] = [row(r) for r in result.summary_rows()]
    doc["reach"] = reach_document(result, policy_set)
    if result.near is not None:
        doc["near"] = near_rows(result, policy_set)
    if result.structure is not None:
        doc["structure"] = result.structure
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    out.write(text[:-2] + ',\n "units": [')
    for i, (unit, counts) in enumerate(sorted(result.units.items())):
        line = {"unit": unit, "name": result.unit_names.get(unit, unit), "changed": result.changed_by_unit.get(unit, 0),
                "summary": [row(r) for r in result.summary_rows(counts)]}
        out.write(("\n  " if i == 0 else ",\n  ") + json.dumps(line, ensure_ascii=False))
    out.write("\n ],\n \"changes\": [")
    for i, line in enumerate(result.lines()):        # as spooled: one JSON document a line
        out.write(("\n  " if i == 0 else ",\n  ") + line)
    out.write("\n ]\n}\n")


def _row(row, policy_set) -> dict:
    key, base, draft, diff = row
    return {"key": key, "title": key_title(key, policy_set), "baseline": base, "draft": draft, "difference": diff}


def near_rows(result: WhatIfResult, policy_set: PolicySet) -> list[dict]:
    """Cadres within the --near margin of each outcome's threshold, on each side ('*': any outcome)."""
    codes = sorted({k.split(":", 1)[1] for k in result.near}, key=lambda c: (c != "*", c))
    rows = []
    for code in codes:
        base, draft = result.near.get(f"baseline:{code}", 0), result.near.get(f"draft:{code}", 0)
        title = _("any outcome") if code == "*" else policy_set.outcomes.findings.get(
            code, policy_set.outcomes.requirements.get(code, {})).get("title", code)
        rows.append({"code": code, "title": title, "baseline": base, "draft": draft, "difference": draft - base})
    return rows


CHANGE_COLUMNS = [Column("cadre", N_("ID")), Column("name", N_("Name")), Column("unit", N_("Unit ID")),
                  Column("unit_name", N_("Unit")), Column("what", N_("What changes")), Column("code", N_("Code")),
                  Column("baseline", N_("In force")), Column("draft", N_("Draft")), Column("rule", N_("Rule")),
                  Column("provision", N_("Provision")), Column("rule_baseline", N_("Rule in force")),
                  Column("rule_draft", N_("Rule in draft")), Column("reasons", N_("Why"))]
SUMMARY_COLUMNS = [Column("title", N_("Outcome")), Column("key", N_("Code")), Column("baseline", N_("In force")),
                   Column("draft", N_("Draft")), Column("difference", N_("Difference"))]
REACH_COLUMNS = [Column("title", N_("Requirement or finding")), Column("code", N_("Code")),
                 Column("baseline_word", N_("In force")), Column("draft_word", N_("Draft")),
                 Column("cadres", N_("Cadres")), Column("conclusion_unchanged", N_("of which conclusion unchanged"))]
UNIT_COLUMNS = [Column("unit", N_("Unit ID")), Column("name", N_("Unit")), Column("title", N_("Outcome")),
                Column("key", N_("Code")), Column("baseline", N_("In force")), Column("draft", N_("Draft")),
                Column("difference", N_("Difference"))]


def reason_texts(rule: dict, policy_set: PolicySet) -> list[str]:
    """The reasons of one rule of a change, in words."""
    label = fact_label(policy_set)
    return [phrase_change(reason, label, value_label) for reason in rule["reasons"]]


def _side_word(item: dict, side: str) -> str:
    if item["kind"] == "finding":
        present = (item["change"] == "removed") == (side == "baseline")
        return _("applies") if present else ""
    return eligibility_word(item[side])


def change_rows(change: dict, policy_set: PolicySet):
    """Flat rows of one changed cadre: one per rule behind each change."""
    base = {k: change[k] for k in ("cadre", "name", "unit", "unit_name")}
    for item in change["changes"]:
        what = dict(base, what=item["title"], code=item.get("code") or item.get("determination"),
                    baseline=_side_word(item, "baseline"), draft=_side_word(item, "draft"))
        if not item["rules"]:
            yield what
        for rule in item["rules"]:
            yield dict(what, rule=rule["rule"], provision=rule["provision"], rule_baseline=rule_state(rule["baseline"]),
                       rule_draft=rule_state(rule["draft"]), reasons=_("; ").join(reason_texts(rule, policy_set)))


def about(result: WhatIfResult, draft: Draft, policy_set: PolicySet, baseline: PolicySet | None, who: str,
          unit: str | None = None, path: bool = True) -> About:
    """The 说明 of a what-if export: the unit, the date, the rules in force (folder and digest), the draft and
    what it changes (草案与现行对照's sentences: 1/3 → 1/4), the cadres evaluated, who and when."""
    from cadre_policy.render.comparison import comparison
    scope = f"{result.unit_names.get(unit, unit)}（{unit}）" if unit else ""
    return About.of(baseline or policy_set, result.as_of, who, path, scope=scope, draft=draft_words(draft),
                    changes=comparison(draft, policy_set, baseline, result.as_of), count=(N_("Cadres"), result.cadres))


def sheets(result: WhatIfResult, policy_set: PolicySet, about: About | None = None) -> list[Sheet]:
    """The what-if for a spreadsheet: the summary, the changes by unit, every change, the reach (and 说明)."""
    summary = [_row(r, policy_set) for r in result.summary_rows()]
    units = [dict(_row(r, policy_set), unit=unit, name=result.unit_names.get(unit, unit))
             for unit, counts in sorted(result.units.items()) for r in result.summary_rows(counts) if r[3]]
    changes = (row for change in result.changes() for row in change_rows(change, policy_set))
    return [Sheet(N_("Summary"), SUMMARY_COLUMNS, summary), Sheet(N_("By unit"), UNIT_COLUMNS, units),
            Sheet(N_("Changes"), CHANGE_COLUMNS, changes),
            Sheet(N_("Reach"), REACH_COLUMNS, reach_rows(result, policy_set))] + ([about.sheet()] if about else [])


def to_csv(result: WhatIfResult, policy_set: PolicySet, out) -> None:
    """One row per change and rule (UTF-8 with BOM): cadre, unit, what changes, both sides, rule, why."""
    write_csv(sheets(result, policy_set)[2], out)


def _diff_text(diff: int) -> Text:
    if diff > 0:
        return Text(f"+{diff}", style="red")
    if diff < 0:
        return Text(str(diff), style="green")
    return Text("0", style="dim")


def _counts_table(rows, title: str) -> Table:
    table = Table(title=title, box=box.MINIMAL, show_edge=False, pad_edge=False, title_justify="left",
                  title_style="bold", header_style="bold")
    for name, justify in ((_("Outcome"), "left"), (_("Code"), "left"), (_("In force"), "right"),
                          (_("Draft"), "right"), (_("Difference"), "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for title_text, code, base, draft, diff in rows:
        table.add_row(safe(title_text), Text(code, style="dim"), str(base), str(draft), _diff_text(diff))
    return table


def summary_table(result: WhatIfResult, policy_set: PolicySet, counts=None, title=None, changed_only=False):
    """Cadres per outcome under the policy in force and under the draft."""
    return _counts_table([(key_title(k, policy_set), k, b, d, x) for k, b, d, x in result.summary_rows(counts)
                          if x or not changed_only], title or "")


def render_text(result: WhatIfResult, draft: Draft, policy_set: PolicySet, console: Console,
                limit: int | None = None) -> None:
    """Summary, the units where something changes, then every changed cadre with reasons."""
    console.print(Text(_("What-if: {title}").format(title=safe(draft.title)), style="bold"))
    console.print(Text("  " + _("draft {id} ({file}); ").format(id=safe(draft.id), file=safe(draft.file))
                       + "; ".join(safe(d) for d in draft.describe()), style="dim"))
    line = _("{cadres} cadres on {day}, {changed} changed; engine {engine}, {workers} worker(s), {seconds:.1f} s")
    skipped = _("; draft run skipped for {n} (provably as in force)").format(n=result.skipped) if result.skipped else ""
    if result.verified:
        skipped += _("; {n} changed cadres checked again with durable_rules").format(n=result.verified)
    console.print(Text("  " + line.format(cadres=result.cadres, day=result.as_of.isoformat(), changed=result.changed,
                                          engine=result.engine, workers=result.workers, seconds=result.seconds)
                       + skipped, style="dim"))
    console.print(Text("  " + safe(reach_sentence(result, policy_set)), style="bold"))
    console.print()
    console.print(summary_table(result, policy_set, title=_("Summary: cadres per outcome")))
    render_reach(result, policy_set, console)
    if result.near is not None:
        rows = [(r["title"], r["code"], r["baseline"], r["draft"], r["difference"]) for r in near_rows(result, policy_set)]
        console.print(_counts_table(rows, _("Near misses: cadres within {n} unit(s) of a deciding threshold").format(
            n=result.near_margin)))
    if result.structure is not None:
        render_structure(result.structure, console)
    changed_units = [(u, c) for u, c in sorted(result.units.items()) if c[0] != c[1]]
    if changed_units:
        console.print()
        console.print(Text(_("By unit (outcomes that change)"), style="bold underline"))
        for unit, counts in changed_units:
            rows = [r for r in result.summary_rows(counts) if r[3]]
            console.print(Text(f"  {unit} {safe(result.unit_names.get(unit, ''))}: ") +
                          Text(_("; ").join(f"{safe(key_title(k, policy_set))} {b}→{d}（{'+' if x > 0 else ''}{x}）"
                                            for k, b, d, x in rows)))
    console.print()
    console.print(Text(_("Changed cadres: {n}").format(n=result.changed), style="bold underline"))
    for i, change in enumerate(result.changes()):
        if limit is not None and i >= limit:
            console.print(Text(_("… {n} more (use --format json, csv or xlsx for all)").format(
                n=result.changed - limit), style="dim"))
            break
        for line in change_lines(change, policy_set):
            console.print(line)


def render_reach(result: WhatIfResult, policy_set: PolicySet, console: Console) -> None:
    """The reach: per requirement and finding, the cadres whose result on it moves (and, when listed, who)."""
    rows = reach_rows(result, policy_set)
    if not rows:
        return
    console.print()
    table = Table(title=_("Reach: cadres whose result on a requirement or finding changes"), box=box.MINIMAL,
                  show_edge=False, pad_edge=False, title_justify="left", title_style="bold", header_style="bold")
    for name, justify in ((_("Requirement or finding"), "left"), (_("Code"), "left"), (_("In force"), "left"),
                          (_("Draft"), "left"), (_("Cadres"), "right"), (_("of which conclusion unchanged"), "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(safe(row["title"]), Text(row["code"], style="dim"), row["baseline_word"], row["draft_word"],
                      f"{row['cadres']:,}", f"{row['conclusion_unchanged']:,}")
    console.print(table)
    for row in rows:
        if row.get("listed"):
            console.print(Text(f"  {safe(row['title'])}：{row['baseline_word']} → {row['draft_word']}", style="bold"))
            more = row["cadres"] - len(row["listed"])
            console.print(Text("    " + _("; ").join(f"{c['cadre']} {safe(c['name'])}" for c in row["listed"])
                               + (" " + _("… {n} more").format(n=more) if more else "")))


def change_lines(change: dict, policy_set: PolicySet) -> list[Text]:
    """A changed cadre: who, what changed, which rule, and why on each side."""
    lines = [Text(f"{change['cadre']} {safe(change['name'])}  {safe(change['unit_name'])}（{change['unit']}）",
                  style="bold")]
    for item in change["changes"]:
        line = Text("  ")
        if item["kind"] == "finding":
            sign, style = ("+", "red") if item["change"] == "added" else ("−", "green")
            line.append(f"{sign} {safe(item['title'])} ", style=style)
            line.append(item["code"], style="dim")
            line.append("  " + (_("(added by the draft)") if item["change"] == "added" else _("(removed by the draft)")),
                        style="dim")
        else:
            line.append(f"{safe(item['title'])}: {eligibility_word(item['baseline'])} → "
                        f"{eligibility_word(item['draft'])}", style="yellow")
        lines.append(line)
        for rule in item["rules"]:
            lines.append(Text(f"      {rule['rule']} · {rule['provision']}: {rule_state(rule['baseline'])} → "
                              f"{rule_state(rule['draft'])}", style="cyan"))
            for reason in reason_texts(rule, policy_set):
                lines.append(Text("        " + _("because {reason}").format(reason=safe(reason))))
    return lines


def structure_line(change: dict) -> str:
    """One structure target whose status changes: 清江县 … 3/5 ≥ 60% 达到 → 3/5 ≥ 80% 未达到."""
    def side(values):
        return "—" if values is None else f"{values['figure']}（{_('target')} {values['target']}）{status_title(values['status'])}"
    return f"{safe(change['label'])}  {safe(change['title'])}  [{change['rule']}]: {side(change['baseline'])} → " \
           f"{side(change['draft'])}"


def render_structure(changes: list[dict], console: Console) -> None:
    """The team and population targets whose status changes under the draft."""
    console.print()
    console.print(Text(_("Structure targets that change status: {n}").format(n=len(changes)), style="bold underline"))
    for change in changes:
        console.print(Text(f"  {structure_line(change)}"))


def document(result: WhatIfResult, prepared) -> dict:
    """The report as the JSON document of ``policy whatif --format json`` (``prepared``: a
    ``whatif.request.Prepared``)."""
    import io
    out = io.StringIO()
    to_json(result, prepared.draft, prepared.draft_set, out)
    return json.loads(out.getvalue())
