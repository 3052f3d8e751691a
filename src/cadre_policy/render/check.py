"""Render check results: a JSON contract, and text for a terminal."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from cadre_policy.explain import labels

from cadre_policy.run.evaluate import CadreResult
from cadre_policy.explain.reasons import because_text
from cadre_policy.language.model import PolicySet, Rule
from cadre_policy.language.posts import current_post



def fact_label(policy_set: PolicySet):
    """A function giving the Chinese words for a fact path: latest_review.dissatisfied → 最近一次监督评议·不满意票."""
    def label(path: str) -> str:
        if ":" in path:
            kind, name = path.split(":", 1)
            return policy_set.outcomes.findings.get(name, {}).get("title", name) if kind == "finding" else name
        if "/" in path:
            return "/".join(label(p) for p in path.split("/"))
        return "·".join(w for w in labels.fact_words(path, policy_set.derived, brief=True) if w)
    return label


def value_label(path: str, value: str) -> str:
    """Chinese for an enumerated value of a fact: grade competent → 称职, rank section → 正科."""
    field = path.rsplit(".", 1)[-1]
    kind = {"kind": "unit_kind", "target_rank": "rank"}.get(field, field)
    if value in ("true", "false"):
        return "是" if value == "true" else "否"
    return labels.value(kind, value)

RESULT_MARK = {"met": ("✓", "green"), "unmet": ("✗", "red"), "unknown": ("?", "yellow"), "waived": ("⊘", "magenta")}


def source_of(policy_set: PolicySet, rule: Rule) -> dict:
    """The citation of a rule: document, issuer, date, file, section, quote."""
    policy = policy_set.policy_of(rule)
    src = policy.source
    return {"document": src.document, "issuer": src.issuer, "date": src.date, "file": src.file,
            "policy": policy.id, "section": rule.section, "quote": rule.quote}


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
                                   "because": r.because}, **({"waived_by": r.waived_by} if r.waived_by else {}))
                             for r in det["requirements"]]}
    out.setdefault("promotion", {"target_rank": None, "eligibility": "eligible", "requirements": []})
    return out


def _header(result: CadreResult) -> Text:
    cadre = result.scope.get("cadre", {})
    post = current_post(result.scope.get("posts", []), result.as_of)
    text = Text()
    text.append(f"{result.cadre_id} {result.name}", style="bold")
    facts = [labels.value("gender", cadre.get("gender"))]
    if "age" in cadre:
        facts.append(f"{cadre['age']}岁")
    text.append(f"（{'，'.join(filter(None, facts))}）")
    if post:
        unit = post.get("unit") or {}
        text.append(f"  现任 {unit.get('name', unit.get('id', ''))}{post.get('title', '')}"
                    f"（{labels.value('rank', post.get('rank'))}）")
    text.append(f"  评估日期 {result.as_of.isoformat()}", style="dim")
    return text


def render_text(result: CadreResult, policy_set: PolicySet, console: Console) -> None:
    """A cadre's findings with reasons and citations, then the promotion checklist."""
    console.print(_header(result))
    active = [f for f in result.findings if f.status == "active"]
    console.print(Text(f"结论 Findings: {len(active)} 项", style="bold underline") if result.findings
                  else Text("结论 Findings: 无", style="bold"))
    for f in result.findings:
        title = policy_set.outcomes.findings.get(f.code, {}).get("title", f.code)
        line = Text("  ")
        if f.status == "active":
            line.append(f"● {title}", style="bold red")
        else:
            line.append(f"○ {title}（已被 {f.superseded_by} 取代）", style="dim")
        line.append(f"  {f.code}", style="cyan")
        if f.until:
            line.append(f"  至 {f.until.isoformat()}")
        line.append(f"  [{f.rule.id} · {f.rule.provision}]", style="dim")
        console.print(line)
        label = fact_label(policy_set)
        for entry in f.because:
            if entry["holds"] is not None and entry["holds"] != bool(entry.get("negated")):
                console.print(Text(f"      因为 {because_text(entry, label, value_label)}"))
        src = source_of(policy_set, f.rule)
        console.print(Text(f"      依据 《{src['document']}》{src['section']}：“{src['quote']}”", style="dim"))
    for name, det in result.determinations.items():
        word, style = labels.ELIGIBILITY[det["eligibility"]]
        title = policy_set.outcomes.determinations.get(name, {}).get("title", name)
        target = det.get("target_rank")
        line = Text(f"{title}", style="bold underline")
        if target:
            line.append(f"（拟任 {labels.value('rank', target)}）")
        line.append(": ")
        line.append(f"{word} {det['eligibility']}", style=f"bold {style}")
        console.print(line)
        for req in det["requirements"]:
            mark, style = RESULT_MARK[req.result]
            rtitle = policy_set.outcomes.requirements.get(req.code, {}).get("title", req.code)
            line = Text("  ")
            line.append(f"{mark} {rtitle}", style=style)
            line.append(f"  {req.code} {req.result}", style="cyan")
            line.append(f"  [{req.rule.provision}]", style="dim")
            console.print(line)
            for entry in req.because:
                console.print(Text(f"      {because_text(entry, fact_label(policy_set), value_label)}", style="dim"))


def summary_line(result: CadreResult, policy_set: PolicySet) -> Text:
    """One line per cadre for `policy check --all`."""
    text = Text(f"{result.cadre_id:<8} {escape(result.name):<6} ")
    codes = result.active_codes()
    text.append(", ".join(codes) if codes else "—", style="red" if codes else "dim")
    promotion = result.determinations.get("promotion")
    if promotion:
        word, style = labels.ELIGIBILITY[promotion["eligibility"]]
        text.append(f"  提拔:{promotion['eligibility']}", style=style)
    return text


def render_near(misses, console: Console) -> None:
    """The near misses of `policy check --near`."""
    console.print(Text(f"临界情况 Near misses: {len(misses)} 项", style="bold underline"))
    for miss in misses:
        line = Text(f"  {miss.rule}", style="cyan")
        line.append(f"（{miss.outcome}，现在 {miss.now}）", style="dim")
        line.append(f" {miss.fact} {miss.value} {miss.op} {miss.threshold}：")
        line.append(miss.text, style="bold")
        console.print(line)
