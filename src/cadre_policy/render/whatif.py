"""Render a what-if run: text for a terminal, a JSON document, CSV rows of changes."""
from __future__ import annotations

import csv
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cadre_policy.load.drafts import Draft
from cadre_policy.render.spreadsheet import csv_text
from cadre_policy.language.model import PolicySet
from cadre_policy.whatif.run import WhatIfResult

KEY_TITLES = {"promotion:eligible": "提拔：符合", "promotion:pending": "提拔：待定",
              "promotion:exception_required": "提拔：须按例外（破格、越级或“一般应当”未满足）",
              "promotion:ineligible": "提拔：不符合"}


def key_title(key: str, policy_set: PolicySet) -> str:
    """A summary key as an officer reads it: the outcome's Chinese title."""
    kind, _, value = key.partition(":")
    if kind == "finding":
        return policy_set.outcomes.findings.get(value, {}).get("title", value)
    if key in KEY_TITLES:
        return KEY_TITLES[key]
    title = policy_set.outcomes.determinations.get(kind, {}).get("title", kind)
    return f"{title}：{value}"


def header(result: WhatIfResult, draft: Draft) -> dict:
    return {"draft": {"id": draft.id, "title": draft.title, "file": draft.file, "note": draft.note,
                      "in_force": draft.in_force.start.isoformat() if draft.in_force else None,
                      "changes": draft.describe()},
            "as_of": result.as_of.isoformat(), "cadres": result.cadres, "changed": result.changed,
            "engine": result.engine, "workers": result.workers, "seconds": round(result.seconds, 2),
            "shared_facts": result.shared_facts, "draft_runs_skipped": result.skipped}


def to_json(result: WhatIfResult, draft: Draft, policy_set: PolicySet, out) -> None:
    """One JSON document: header, summary, per unit, near misses, changes (streamed from the spool)."""
    doc = header(result, draft)
    doc["summary"] = [_row(r, policy_set) for r in result.summary_rows()]
    doc["units"] = [{"unit": unit, "name": result.unit_names.get(unit, unit),
                     "changed": result.changed_by_unit.get(unit, 0),
                     "summary": [_row(r, policy_set) for r in result.summary_rows(counts)]}
                    for unit, counts in sorted(result.units.items())]
    if result.near is not None:
        doc["near"] = near_rows(result, policy_set)
    if result.structure is not None:
        doc["structure"] = result.structure
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    out.write(text[:-2] + ',\n "changes": [')
    for i, change in enumerate(result.changes()):
        out.write(("\n  " if i == 0 else ",\n  ") + json.dumps(change, ensure_ascii=False))
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
        title = "任一结果 any outcome" if code == "*" else policy_set.outcomes.findings.get(
            code, policy_set.outcomes.requirements.get(code, {})).get("title", code)
        rows.append({"code": code, "title": title, "baseline": base, "draft": draft, "difference": draft - base})
    return rows


CSV_FIELDS = ["cadre", "name", "unit", "unit_name", "kind", "item", "baseline", "draft", "rule", "provision",
              "rule_baseline", "rule_draft", "reasons"]


def change_rows(change: dict):
    """Flat rows of one changed cadre: one per rule behind each change."""
    base = {k: change[k] for k in ("cadre", "name", "unit", "unit_name")}
    for item in change["changes"]:
        if item["kind"] == "finding":
            what = dict(base, kind="finding", item=item["code"],
                        baseline="active" if item["change"] == "removed" else "",
                        draft="active" if item["change"] == "added" else "")
        else:
            what = dict(base, kind=item["determination"], item="eligibility", baseline=item["baseline"],
                        draft=item["draft"])
        if not item["rules"]:
            yield dict(what, rule="", provision="", rule_baseline="", rule_draft="", reasons="")
        for rule in item["rules"]:
            yield dict(what, rule=rule["rule"], provision=rule["provision"], rule_baseline=rule["baseline"],
                       rule_draft=rule["draft"], reasons=" | ".join(rule["reasons"]))


def to_csv(result: WhatIfResult, out) -> None:
    """One row per change and rule: cadre, unit, what changed, both sides, the rule, the reasons."""
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for change in result.changes():
        writer.writerows({k: csv_text(v) if isinstance(v, str) else v for k, v in row.items()}
                         for row in change_rows(change))


def _diff_text(diff: int) -> Text:
    if diff > 0:
        return Text(f"+{diff}", style="red")
    if diff < 0:
        return Text(str(diff), style="green")
    return Text("0", style="dim")


def summary_table(result: WhatIfResult, policy_set: PolicySet, counts=None, title=None, changed_only=False):
    table = Table(title=title, show_edge=False, pad_edge=False)
    for name, justify in (("结果 Outcome", "left"), ("code", "left"), ("baseline", "right"), ("draft", "right"),
                          ("difference", "right")):
        table.add_column(name, justify=justify)
    for key, base, draft, diff in result.summary_rows(counts):
        if changed_only and not diff:
            continue
        table.add_row(key_title(key, policy_set), key, str(base), str(draft), _diff_text(diff))
    return table


def render_text(result: WhatIfResult, draft: Draft, policy_set: PolicySet, console: Console,
                limit: int | None = None) -> None:
    """Summary, the units where something changes, then every changed cadre with reasons."""
    console.print(Text(f"What-if: {draft.title}", style="bold"))
    console.print(Text(f"  draft {draft.id} ({draft.file}); " + "; ".join(draft.describe()), style="dim"))
    console.print(Text(f"  {result.cadres} cadres on {result.as_of.isoformat()}, {result.changed} changed; "
                       f"engine {result.engine}, {result.workers} worker(s), {result.seconds:.1f} s"
                       + (f"; draft run skipped for {result.skipped} (provably as baseline)" if result.skipped else ""),
                       style="dim"))
    console.print()
    console.print(summary_table(result, policy_set, title="Summary: cadres per outcome"))
    if result.near is not None:
        table = Table(title=f"Near misses: cadres within {result.near_margin} unit(s) of a deciding threshold",
                      show_edge=False, pad_edge=False)
        for name in ("结果 Outcome", "code", "baseline", "draft", "difference"):
            table.add_column(name, justify="left" if name in ("结果 Outcome", "code") else "right")
        for row in near_rows(result, policy_set):
            table.add_row(row["title"], row["code"], str(row["baseline"]), str(row["draft"]),
                          _diff_text(row["difference"]))
        console.print(table)
    if result.structure is not None:
        render_structure(result.structure, console)
    changed_units = [(u, c) for u, c in sorted(result.units.items()) if c[0] != c[1]]
    if changed_units:
        console.print()
        console.print(Text("By unit (outcomes that change)", style="bold underline"))
        for unit, counts in changed_units:
            rows = [r for r in result.summary_rows(counts) if r[3]]
            console.print(Text(f"  {unit} {result.unit_names.get(unit, '')}: ") +
                          Text("; ".join(f"{key_title(k, policy_set)} {b}→{d} ({'+' if x > 0 else ''}{x})"
                                         for k, b, d, x in rows)))
    console.print()
    console.print(Text(f"Changed cadres: {result.changed}", style="bold underline"))
    for i, change in enumerate(result.changes()):
        if limit is not None and i >= limit:
            console.print(Text(f"… {result.changed - limit} more (use --format json or csv for all)", style="dim"))
            break
        for line in change_lines(change):
            console.print(line)


def change_lines(change: dict) -> list[Text]:
    """A changed cadre: who, what changed, which rule, and why on each side."""
    lines = [Text(f"{change['cadre']} {change['name']}  {change['unit_name']} ({change['unit']})", style="bold")]
    for item in change["changes"]:
        line = Text("  ")
        if item["kind"] == "finding":
            sign, style = ("+", "red") if item["change"] == "added" else ("−", "green")
            line.append(f"{sign} {item['title']} {item['code']}", style=style)
            line.append(f"  ({item['change']} under draft)", style="dim")
        else:
            line.append(f"{item['title']}: {item['baseline']} → {item['draft']}", style="yellow")
        lines.append(line)
        for rule in item["rules"]:
            lines.append(Text(f"      {rule['rule']} · {rule['provision']}: {rule['baseline']} → {rule['draft']}",
                              style="cyan"))
            for reason in rule["reasons"]:
                lines.append(Text(f"        因为 {reason}"))
    return lines


def structure_line(change: dict) -> str:
    """One structure target whose status changes: 清江县 … 3/5 ≥ 60% met → 3/5 ≥ 80% not_met."""
    def side(values):
        return "—" if values is None else f"{values['figure']} {values['target']} {values['status']}"
    return f"{change['label']}  {change['title']}  [{change['rule']}]: {side(change['baseline'])} → {side(change['draft'])}"


def render_structure(changes: list[dict], console: Console) -> None:
    """The team and population targets whose status changes under the draft."""
    console.print()
    console.print(Text(f"Structure targets that change status: {len(changes)}", style="bold underline"))
    for change in changes:
        console.print(Text(f"  {structure_line(change)}"))
