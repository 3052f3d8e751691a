"""草案与现行对照: what one policy set changes against another, in sentences.

The one builder of the comparison: the what-if report (the draft against the rules in force),
the saved draft's page (the same) and its version history (one version against another) all
use :func:`changes`. It says each parameter old → new with the day it takes effect, each rule
switched off, restored, added or changed (before and after as `policy show` phrases a rule,
explain/sentence.py), and each document whose jurisdiction moved.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from fractions import Fraction

from cadre_policy.i18n import _, language
from cadre_policy.language import model as m
from cadre_policy.language.titles import show_value, titled
from cadre_policy.language.values import format_value, parse_parameter

FIRST = date(1900, 1, 1)          # a value "from always" (load/drafts.py EARLIEST) has no date to say


def said_day(day: date) -> str:
    """A date as a sentence says it: 2017年1月1日 (2017-01-01 in English)."""
    return f"{day.year}年{day.month}月{day.day}日" if language() == "zh" else day.isoformat()


def said_value(kind: str, raw) -> str:
    """A parameter's value in words: 三分之一（1/3）, 3年, 2017年1月1日; — when there is none."""
    if raw is None:
        return "—"
    try:
        value = parse_parameter(kind, raw)
    except ValueError:             # a --set text the run refuses anyway
        return str(raw)
    chinese = language() == "zh"
    if isinstance(value, Fraction) and chinese and value.denominator != 1:
        return f"{show_value(value, True)}（{format_value(value)}）"
    if isinstance(value, date):
        return said_day(value)
    unit = {"years": _("{n} years"), "months": _("{n} months")}.get(kind)
    return unit.format(n=format_value(value)) if unit else format_value(value)


def _parsed(param: m.Parameter | None, day: date):
    raw = param.raw_on(day) if param is not None else None
    return None if raw is None else parse_parameter(param.kind, raw)


def parameter_changes(name: str, before: m.Parameter | None, after: m.Parameter | None) -> list[dict]:
    """Each span where the two value histories differ: from its first day, before → after."""
    dates = sorted({d for p in (before, after) if p is not None for d, _raw in p.values})
    out, last = [], None
    for day in dates:
        pair = (_parsed(before, day), _parsed(after, day))
        differs = pair[0] != pair[1]
        if differs and pair != last:
            spec = after or before
            out.append({"name": name, "title": spec.title or name, "start": day.isoformat(),
                        "before": said_value(spec.kind, before.raw_on(day) if before else None),
                        "after": said_value(spec.kind, after.raw_on(day) if after else None)})
            out[-1]["sentence"] = _sentence(out[-1], day)
        last = pair if differs else None
    return out


def _sentence(change: dict, day: date) -> str:
    if day <= FIRST:
        return _("{title}: {before} → {after}").format(**change)
    return _("{title}: {before} → {after}, from {day}").format(**change, day=said_day(day))


def _same_rule(a: m.Rule, b: m.Rule) -> bool:
    """Whether two rules say the same (titles and notes aside: they follow the parameters, language/titles.py)."""
    return a is b or dataclasses.replace(a, title="", note="") == dataclasses.replace(b, title="", note="")


def rule_changes(before: m.PolicySet, after: m.PolicySet, day: date, baseline: m.PolicySet | None = None) -> list[dict]:
    """Each rule switched off, restored (back as the rules in force have it), added or changed, with its
    sentence before and after (explain/sentence.py, parameters on ``day``)."""
    from cadre_policy.explain.sentence import rule_sentence
    old, new = {r.id: r for r in before.rules}, {r.id: r for r in after.rules}
    shown_old, shown_new = titled(before, day), titled(after, day)
    out = []
    for rule_id in list(new) + [i for i in old if i not in new]:
        was, now = old.get(rule_id), new.get(rule_id)
        if was is not None and now is not None and _same_rule(was, now):
            continue
        if now is None:
            what = _("no longer applied")
        elif was is None:
            restored = baseline is not None and (baseline.rule(rule_id) is not None) and _same_rule(
                baseline.rule(rule_id), now)
            what = _("applied again") if restored else _("added")
        else:
            what = _("changed")
        title = (shown_new.rule(rule_id) or shown_old.rule(rule_id)).title
        out.append({"id": rule_id, "what": what, "title": title,
                    "before": rule_sentence(shown_old, shown_old.rule(rule_id), day) if was else None,
                    "after": rule_sentence(shown_new, shown_new.rule(rule_id), day) if now else None})
    return out


def jurisdiction_changes(before: m.PolicySet, after: m.PolicySet) -> list[dict]:
    """Each document whose jurisdiction differs (a new document: from none)."""
    old = {p.id: p for p in before.policies}
    out = []
    for policy in after.policies:
        was = old.get(policy.id)
        then = was.jurisdiction if was is not None else None
        if then == policy.jurisdiction or (was is None and not policy.rules):
            continue
        label = (lambda j: j.label() if j is not None else _("none"))
        out.append({"id": policy.id, "document": policy.source.document or policy.title,
                    "before": label(then), "after": label(policy.jurisdiction),
                    "new": was is None})
    return out


def changes(before: m.PolicySet, after: m.PolicySet, day: date, baseline: m.PolicySet | None = None) -> dict:
    """Everything ``after`` changes against ``before``: parameters, rules, jurisdictions (``baseline``, the
    rules in force, tells a rule restored from one added)."""
    old, new = before.parameters, after.parameters
    parameters = [c for name in list(new) + [n for n in old if n not in new]
                  if old.get(name) is None or new.get(name) is None or old[name].values != new[name].values
                  for c in parameter_changes(name, old.get(name), new.get(name))]
    return {"parameters": parameters, "rules": rule_changes(before, after, day, baseline),
            "jurisdictions": jurisdiction_changes(before, after)}


def comparison(draft, policy_set: m.PolicySet, baseline: m.PolicySet | None, day) -> dict:
    """The what-if report's 草案与现行对照: the draft's set against the rules in force, and ``--set`` changes
    (which hold on the evaluation date ``day``)."""
    found = changes(baseline, policy_set, day, baseline) if baseline is not None else \
        {"parameters": [], "rules": [], "jurisdictions": []}
    for name, raw in (draft.sets or {}).items():
        spec = policy_set.parameters.get(name)
        if spec is None:
            continue
        change = {"name": name, "title": spec.title or name, "start": day.isoformat(),
                  "before": said_value(spec.kind, spec.raw_on(day)), "after": said_value(spec.kind, raw)}
        found["parameters"].append(dict(change, sentence=_sentence(change, day)))
    return found


def change_lines(found: dict, sentences: bool = False) -> list[str]:
    """The comparison in lines: each parameter's sentence, each rule changed (with its sentences before and
    after, indented, when ``sentences``), each jurisdiction moved."""
    lines = [p["sentence"] for p in found["parameters"]]
    for rule in found["rules"]:
        lines.append(f"{rule['what']}：{rule['title']}〔{rule['id']}〕")
        for word, sentence in ((_("before the change"), rule["before"]), (_("after the change"), rule["after"])):
            if sentence and sentences:
                lines.append(f"  {word}：")
                lines += [f"    {line}".rstrip() for line in sentence.splitlines()]
    for j in found["jurisdictions"]:
        text = _("new document “{document}”, binding {after}") if j["new"] else \
            _("“{document}” binds {after} instead of {before}")
        lines.append(text.format(document=j["document"], before=j["before"], after=j["after"]))
    return lines


def to_text(found: dict) -> str:
    """The comparison for a terminal (`policy whatif --diff-only`): one line a change, a changed rule's
    sentences before and after indented under it."""
    lines = [_("Draft and the rules in force")] + [f"  {line}" for line in change_lines(found, sentences=True)]
    if len(lines) == 1:
        lines.append("  " + _("No parameter or rule changes."))
    return "\n".join(lines) + "\n"
