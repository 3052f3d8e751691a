"""Render check results: a JSON contract, and text for a terminal."""
from __future__ import annotations

import json
import re
from collections import Counter

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cadre_policy.explain.jurisdiction import jurisdiction_label, unbound_documents
from cadre_policy.language import labels
from cadre_policy.language.kleene import lookup

from cadre_policy.run.evaluate import CadreResult
from cadre_policy.render.reasons import phrases, rule_state
from cadre_policy.language.model import PolicySet, Rule
from cadre_policy.language.posts import current_post, post_name
from cadre_policy.i18n import N_, _, language
from cadre_policy.render.tables import Column, Sheet
from cadre_policy.render.terminal import narrow, safe



def fact_label(policy_set: PolicySet):
    """A function giving the Chinese words for a fact path: latest_review.dissatisfied → 最近一次监督评议·不满意票."""
    def label(path: str) -> str:
        if language() == "en":
            return path
        if ":" in path:
            kind, name = path.split(":", 1)
            return policy_set.outcomes.findings.get(name, {}).get("title", name) if kind == "finding" else name
        if "/" in path:
            return "/".join(label(p) for p in path.split("/"))
        return "·".join(w for w in labels.fact_words(path, policy_set.derived, brief=True) if w)
    return label


def value_label(path: str, value: str) -> str:
    """Chinese for an enumerated value of a fact: grade competent → 称职, rank section → 正科."""
    if language() == "en":
        return value
    field = path.rsplit(".", 1)[-1]
    kind = {"kind": "unit_kind", "target_rank": "rank"}.get(field, field)
    if value in ("true", "false"):
        return "是" if value == "true" else "否"
    return labels.value(kind, value)

RESULT_MARK = {"met": ("✓", "green"), "unmet": ("✗", "red"), "unknown": ("?", "yellow"), "waived": ("⊘", "magenta")}
ELIGIBILITY = {"eligible": (N_("eligible"), "green"), "pending": (N_("pending (records incomplete)"), "yellow"),
               "ineligible": (N_("ineligible"), "red"),
               "exception_required": (N_("by the exception procedure only (破格, skipping a level, or a "
                                         "'normally' requirement not met)"), "magenta")}


def eligibility_word(value: str) -> str:
    """An eligibility value as the reader's word (the value itself when it has none)."""
    return _(ELIGIBILITY[value][0]) if value in ELIGIBILITY else value


def source_of(policy_set: PolicySet, rule: Rule) -> dict:
    """The citation of a rule: document, issuer, date, file, section, quote."""
    policy = policy_set.policy_of(rule)
    src = policy.source
    return {"document": src.document, "issuer": src.issuer, "date": src.date, "file": src.file,
            "policy": policy.id, "section": rule.section, "quote": rule.quote,
            "jurisdiction": jurisdiction_label(policy)}


def to_json(result: CadreResult, policy_set: PolicySet) -> dict:
    """The stable JSON contract of `policy check --format json`."""
    findings = []
    for f in result.findings:
        entry = {"code": f.code, "status": f.status, "rule": f.rule.id, "provision": f.rule.provision,
                 "title": policy_set.outcomes.findings.get(f.code, {}).get("title", f.code),
                 "rule_title": f.rule.title, "because": f.because, "source": source_of(policy_set, f.rule)}
        if f.until:
            entry["until"] = f.until.isoformat()
        if f.superseded_by:
            entry["superseded_by"] = f.superseded_by
        if f.rule.note:
            entry["note"] = f.rule.note
        findings.append(entry)
    out = {"cadre": result.cadre_id, "name": result.name, "as_of": result.as_of.isoformat(),
           "policy_set": {"path": policy_set.path, "digest": policy_set.digest},
           "findings": findings}
    for name, det in result.determinations.items():
        out[name] = {
            "target_rank": det.get("target_rank"), "eligibility": det["eligibility"],
            "requirements": [dict({"code": r.code, "result": r.result, "rule": r.rule.id,
                                   "provision": r.rule.provision, "strength": r.strength,
                                   "title": policy_set.outcomes.requirements.get(r.code, {}).get("title", r.code),
                                   "jurisdiction": jurisdiction_label(policy_set.policy_of(r.rule)),
                                   "because": r.because}, **({"waived_by": r.waived_by} if r.waived_by else {}))
                             for r in det["requirements"]]}
    if "promotion" not in out:      # no requirement listed: nothing stands in the way, or nothing to determine
        target = lookup(result.scope, "promotion.target_rank")
        out["promotion"] = None if target is None else {"target_rank": target, "eligibility": "eligible",
                                                         "requirements": []}
    return out


def _header(result: CadreResult) -> Text:
    cadre = result.scope.get("cadre", {})
    post = current_post(result.scope.get("posts", []), result.as_of)
    text = Text()
    text.append(f"{result.cadre_id} {safe(result.name)}", style="bold")
    facts = [value_label("gender", cadre.get("gender")) if cadre.get("gender") else ""]
    if "age" in cadre:
        facts.append(_("{n} years old").format(n=cadre["age"]))
    text.append(f"（{_(', ').join(filter(None, facts))}）")
    if post:
        unit = post.get("unit") or {}
        text.append("  " + _("now {post} ({rank})").format(
            post=safe(post_name(unit.get("name", unit.get("id", "")), post.get("title", ""))),
            rank=value_label("rank", post.get("rank"))))
    text.append("  " + _("as of") + " " + result.as_of.isoformat(), style="dim")
    return text


def render_text(result: CadreResult, policy_set: PolicySet, console: Console) -> None:
    """A cadre's findings with reasons and citations, then the promotion checklist."""
    label = fact_label(policy_set)
    tight = narrow(console)          # a narrow terminal: no codes, continuation lines indented

    def said(text: Text, indent: int = 6) -> None:
        console.print(Padding(text, (0, 0, 0, indent)) if tight else Text(" " * indent) + text)
    console.print(_header(result))
    active = [f for f in result.findings if f.status == "active"]
    console.print(Text(_("Findings: {n}").format(n=len(active)), style="bold underline"))
    for f in result.findings:
        line = Text("  ")
        if f.status == "active":
            line.append(f"● {safe(finding_title(policy_set, f.code))}", style="bold")
        else:
            line.append(f"○ {safe(finding_title(policy_set, f.code))}（"
                        + _("superseded by {rule}").format(rule=f.superseded_by) + "）", style="dim")
        if not tight:
            line.append(f"  {f.code}", style="dim")
        if f.until:
            line.append("  " + _("until {day}").format(day=f.until.isoformat()))
        line.append(f"  [{f.rule.provision}]" if tight else f"  [{f.rule.id} · {f.rule.provision}]", style="dim")
        console.print(line)
        for clause in phrases(f.because, label, value_label, finding=True):
            said(Text(_("because {reason}").format(reason=safe(clause))))
        src = source_of(policy_set, f.rule)
        said(Text(_("source: 《{document}》{section} (jurisdiction {regions}): “{quote}”").format(
            document=safe(src["document"]), section=safe(src["section"]), regions=safe(src["jurisdiction"]),
            quote=safe(src["quote"])), style="dim"))
    if "promotion" not in result.determinations:
        title = policy_set.outcomes.determinations.get("promotion", {}).get("title", "promotion")
        line = Text(safe(title), style="bold underline")
        target = lookup(result.scope, "promotion.target_rank")
        if target:
            line.append("（" + _("proposed rank") + " " + value_label("rank", target) + "）")
        line.append(": ")
        # no post on the date and no open nomination: there is nothing to determine
        line.append(eligibility_word("eligible") if target else _("not applicable (no post, no nomination)"),
                    style="bold")
        console.print(line)
    for name, det in result.determinations.items():
        style = ELIGIBILITY.get(det["eligibility"], ("", None))[1]
        title = policy_set.outcomes.determinations.get(name, {}).get("title", name)
        target = det.get("target_rank")
        line = Text(safe(title), style="bold underline")
        if target:
            line.append("（" + _("proposed rank") + " " + value_label("rank", target) + "）")
        line.append(": ")
        line.append(eligibility_word(det["eligibility"]), style=f"bold {style}" if style else "bold")
        if language() != "en" and not tight:          # the English word is the code itself
            line.append(f"  {det['eligibility']}", style="dim")
        console.print(line)
        for req in det["requirements"]:
            mark, mark_style = RESULT_MARK.get(req.result, ("?", "yellow"))
            rtitle = policy_set.outcomes.requirements.get(req.code, {}).get("title", req.code)
            line = Text("  ")
            line.append(f"{mark} {safe(rtitle)}", style=mark_style)
            if not tight:
                line.append(f"  {req.code}", style="dim")
            line.append(f"  [{req.rule.provision} · {safe(jurisdiction_label(policy_set.policy_of(req.rule)))}]",
                        style="dim")
            console.print(line)
            for clause in phrases(req.because, label, value_label):
                said(Text(safe(clause)))


def render_unbound(result: CadreResult, policy_set: PolicySet, console: Console) -> None:
    """``--verbose``: the documents in force that do not bind this cadre, with their jurisdictions."""
    unbound = unbound_documents(policy_set, result.scope, lambda rule: policy_set.in_force(rule, result.as_of))
    for document, regions in unbound:
        console.print(Text(_("Not applicable: 《{document}》 (jurisdiction {regions})").format(
            document=safe(document), regions=safe(regions)), style="dim"))


def finding_title(policy_set: PolicySet, code: str) -> str:
    """The Chinese title of a finding code (the code when the outcomes do not name it)."""
    return policy_set.outcomes.findings.get(code, {}).get("title", code)


def population_row(result: CadreResult, policy_set: PolicySet, unit: dict | None = None) -> dict:
    """One cadre of ``check --all`` as plain data: the table, CSV and XLSX show these fields.

    ``unit``: the unit of the current post when known (the columnar check's scope holds no posts).
    """
    if unit is None:
        post = current_post(result.scope.get("posts", []), result.as_of) or {}
        unit = post.get("unit") or {}
    codes = result.active_codes()
    promotion = result.determinations.get("promotion") or {}
    return {"cadre": result.cadre_id, "name": result.name, "unit": unit.get("id", ""),
            "unit_name": unit.get("name", ""), "findings": codes,
            "finding_titles": [finding_title(policy_set, c) for c in codes],
            "kinds": [policy_set.outcomes.findings.get(c, {}).get("kind", "") for c in codes],
            "eligibility": promotion.get("eligibility", ""),
            "eligibility_title": eligibility_word(promotion["eligibility"]) if promotion else (
                "" if lookup(result.scope, "promotion.target_rank") else _("not applicable"))}


class Tally:
    """Counts over ``check --all``: cadres, each active finding, each promotion eligibility."""

    def __init__(self):
        self.cadres = 0
        self.findings: Counter = Counter()
        self.eligibility: Counter = Counter()

    def add(self, row: dict, n: int = 1) -> None:
        """Count ``n`` cadres with this row's findings and eligibility."""
        self.cadres += n
        self.findings.update(dict.fromkeys(row["findings"], n))
        if row["eligibility"]:
            self.eligibility[row["eligibility"]] += n

    def as_dict(self, policy_set: PolicySet) -> dict:
        """The summary of the JSON document (and the rows of the summary table)."""
        return {"cadres": self.cadres,
                "findings": [{"code": code, "title": finding_title(policy_set, code), "cadres": n}
                             for code, n in sorted(self.findings.items())],
                "promotion": {value: self.eligibility.get(value, 0) for value in [*ELIGIBILITY, *sorted(
                    set(self.eligibility) - set(ELIGIBILITY))]}}


def _findings_cell(row: dict) -> Text:
    """Findings by title, each code dimmed after it, one a line; measures for the committee in red."""
    text = Text()
    for i, (code, title, kind) in enumerate(zip(row["findings"], row["finding_titles"], row["kinds"])):
        if i:
            text.append("\n")
        if language() != "en":
            text.append(safe(title), style="red" if kind == "action" else None)
            text.append(" ")
        text.append(code, style="dim" if language() != "en" else ("red" if kind == "action" else None))
    return text or Text("—", style="dim")


def population_table(rows: list[dict]) -> Table:
    """``check --all`` as one table: id, name, unit, findings, promotion."""
    table = Table(box=box.MINIMAL, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(_("ID"), no_wrap=True)
    table.add_column(_("Name"), no_wrap=True)
    table.add_column(_("Unit"), overflow="fold")
    table.add_column(_("Findings"), overflow="fold", ratio=1)
    table.add_column(_("Promotion"), no_wrap=True)
    for row in rows:
        style = ELIGIBILITY.get(row["eligibility"], ("", None))[1]
        table.add_row(row["cadre"], safe(row["name"]), safe(row["unit_name"] or row["unit"] or "—"),
                      _findings_cell(row),
                      Text(row["eligibility_title"], style=style if row["eligibility"] != "ineligible" else None))
    return table


def summary_table(summary: dict, as_of: str) -> Table:
    """The summary of ``check --all``: cadres per finding, and per promotion eligibility."""
    table = Table(box=box.MINIMAL, show_edge=False, pad_edge=False, header_style="bold",
                  title=_("Summary: {n} cadres on {day}").format(n=summary["cadres"], day=as_of),
                  title_justify="left", title_style="bold")
    table.add_column(_("Outcome"), overflow="fold")
    table.add_column(_("Code"), style="dim", overflow="fold")
    table.add_column(_("Number of cadres"), justify="right")
    for item in summary["findings"]:
        table.add_row(safe(item["title"]), item["code"], str(item["cadres"]))
    for value, n in summary["promotion"].items():
        table.add_row(_("Promotion: {word}").format(word=eligibility_word(value)), value, str(n))
    return table


def unit_team_text(unit_id: str, missed: list) -> Text:
    """The team targets a unit's instances miss, said once for the unit (``check --unit``)."""
    text = Text(_("Team structure of {unit}: ").format(unit=unit_id), style="bold")
    if not missed:
        text.append(_("no target missed"))
    for r in missed:
        text.append("\n  · ")
        text.append(_("{rule}: {label} {figure} (target {target}) ").format(
            rule=safe(r.rule.title), label=safe(r.label), figure=r.figure, target=r.target))
        text.append(r.finding, style="dim")
    return text


POPULATION_COLUMNS = [Column("cadre", N_("ID")), Column("name", N_("Name")), Column("unit", N_("Unit ID")),
                      Column("unit_name", N_("Unit")), Column("finding_titles", N_("Findings")),
                      Column("findings", N_("Finding codes")), Column("eligibility_title", N_("Promotion")),
                      Column("eligibility", N_("Promotion code"))]
SUMMARY_COLUMNS = [Column("title", N_("Outcome")), Column("code", N_("Code")), Column("cadres", N_("Number of cadres"))]


def population_sheets(rows: list[dict], summary: dict, about=None) -> list[Sheet]:
    """``check --all`` for a spreadsheet: the cadres, the summary (and ``about``'s 说明 sheet, render/about.py)."""
    flat = [dict(row, findings="、".join(row["findings"]), finding_titles="、".join(row["finding_titles"]))
            for row in rows]
    counts = summary["findings"] + [{"title": _("Promotion: {word}").format(word=eligibility_word(v)),
                                     "code": v, "cadres": n} for v, n in summary["promotion"].items()]
    return [Sheet(N_("Cadres"), POPULATION_COLUMNS, flat), Sheet(N_("Summary"), SUMMARY_COLUMNS, counts)] + \
        ([about.sheet()] if about else [])


def write_population_json(out, header: dict, cadres, finish) -> None:
    """``check --all --format json``: one document, the cadres streamed, the summary last.

    Args:
        out: a text stream.
        header: the document's first members (as_of, policy_set, unit).
        cadres: the cadres' JSON objects, written as they come.
        finish: called after the last cadre; returns the summary.
    """
    out.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2] + ',\n "cadres": [')
    for i, cadre in enumerate(cadres):
        out.write(("\n  " if i == 0 else ",\n  ") + json.dumps(cadre, ensure_ascii=False))
    out.write('\n ],\n "summary": ' + json.dumps(finish(), ensure_ascii=False) + "\n}\n")


def write_population_lines(out, header: dict, lines, finish) -> None:
    """The document of :func:`write_population_json` from cadres already serialised (one line each)."""
    out.write(json.dumps(header, ensure_ascii=False, indent=1)[:-2] + ',\n "cadres": [')
    for i, line in enumerate(lines):
        out.write(("\n  " if i == 0 else ",\n  ") + line)
    out.write('\n ],\n "summary": ' + json.dumps(finish(), ensure_ascii=False) + "\n}\n")


# a fact path inside a near miss's sentence (explain/near.py names the fact it moves)
_FACT_PATH = re.compile(r"\b[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\b")


def render_near(misses, console: Console, policy_set: PolicySet) -> None:
    """The near misses of `policy check --near`."""
    label = fact_label(policy_set)
    console.print(Text(_("Near misses: {n}").format(n=len(misses)), style="bold underline"))
    for miss in misses:
        line = Text(f"  {miss.rule}", style="cyan")
        line.append("（" + _("{outcome}, now {state}").format(outcome=miss.outcome, state=rule_state(miss.now)) + "）",
                    style="dim")
        line.append(f" {safe(label(miss.fact))} {safe(miss.value)}：")
        line.append(safe(_FACT_PATH.sub(lambda m: label(m.group(0)), miss.text)), style="bold")
        console.print(line)
