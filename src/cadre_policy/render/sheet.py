"""The per-cadre 资格审查 sheet (``policy check ID --format html``): one printable A4 page.

The cadre's facts, then each finding and each promotion requirement with its result,
the values that decided it (phrased by :mod:`cadre_policy.render.reasons`) and the
source text it encodes. The same renderer serves the workbench.
"""
from __future__ import annotations

from cadre_policy.i18n import _
from cadre_policy.language.model import PolicySet
from cadre_policy.render.check import (eligibility_word, fact_label, finding_title, source_of,
                                       value_label)
from cadre_policy.render.facts import cadre_lines
from cadre_policy.render.html import e, page, search_box
from cadre_policy.render.reasons import phrase
from cadre_policy.run.evaluate import CadreResult

SHEET_CSS = """
.sheet{font-size:12px} .sheet h1{font-size:19px;margin:0} .sheet h2{font-size:14px;margin:12px 0 4px}
.facts{columns:2;column-gap:18px;font-size:11.5px} .facts div{break-inside:avoid} .facts .head{font-weight:bold;
margin-top:4px} .req{width:100%;font-size:11.5px} .req td{padding:3px 6px} .mark{white-space:nowrap;font-weight:bold}
.ok{color:#1a7f37} .no{color:#c62828} .maybe{color:#b26a00} .sign{margin-top:14px;font-size:12px}
.sign span{display:inline-block;min-width:30%;border-top:1px solid #999;padding-top:2px;margin-right:3%}
@media print{.sheet{font-size:10.5px} .facts,.req{font-size:10px} .sheet h1{font-size:16px}}
"""

_MARK = {"met": ("✓", "ok"), "unmet": ("✗", "no"), "unknown": ("?", "maybe")}


def _facts_html(doc: dict, units: dict) -> str:
    parts = ['<div class="facts">']
    for line in cadre_lines(doc, units)[1:]:
        if len(line) == 1:
            parts.append(f'<div class="head">{e(line[0][0])}</div>')
        elif line[0][1] == "cyan":
            parts.append(f"<div><b>{e(line[0][0].strip())}</b>{e(line[1][0])}</div>")
        else:
            parts.append(f"<div>{e(''.join(text for text, _style in line).strip())}</div>")
    return "".join(parts) + "</div>"


def _reasons(entries, label) -> str:
    clauses = [phrase(entry, label, value_label) for entry in entries
               if entry.get("holds") is not None or entry.get("value") is None]
    return "<br>".join(e(c) for c in clauses)


def cadre_sheet(result: CadreResult, policy_set: PolicySet, doc: dict, units: dict) -> str:
    """The whole page for one cadre, in the reader's language."""
    label = fact_label(policy_set)
    title = _("Eligibility review sheet")
    head = f"{title} · {result.cadre_id} {result.name} · {_('as of')} {result.as_of.isoformat()} · " \
           f"{_('policy set')} {policy_set.digest[:19]}"
    body = ['<div class="sheet">', f"<h1>{e(title)}：{e(result.cadre_id)} {e(result.name)}</h1>",
            f'<p class="meta">{e(_("as of"))} {e(result.as_of.isoformat())} · {e(_("policy set"))} '
            f"<code>{e(policy_set.digest[:19])}</code></p>",
            search_box(_("Search: requirement, provision, value")),
            f"<h2>{e(_('Facts on record'))}</h2>", _facts_html(doc, units)]
    for name, det in result.determinations.items():
        dtitle = policy_set.outcomes.determinations.get(name, {}).get("title", name)
        word = eligibility_word(det["eligibility"])
        cls = {"eligible": "ok", "ineligible": "no"}.get(det["eligibility"], "maybe")
        target = det.get("target_rank")
        body.append(f"<h2>{e(dtitle)}" + (f"（{e(_('proposed rank'))} {e(value_label('rank', target))}）" if target else "")
                    + f'：<span class="{cls}">{e(word)}</span></h2>')
        body.append(f'<table class="req"><thead><tr><th>{e(_("Requirement"))}</th><th>{e(_("Result"))}</th>'
                    f'<th>{e(_("Deciding values"))}</th><th>{e(_("Source"))}</th></tr></thead><tbody>')
        for req in det["requirements"]:
            mark, mcls = _MARK.get(req.result, ("?", "maybe"))
            rtitle = policy_set.outcomes.requirements.get(req.code, {}).get("title", req.code)
            src = source_of(policy_set, req.rule)
            result_word = {"met": _("fulfilled"), "unmet": _("not fulfilled")}.get(req.result, _("pending (records incomplete)"))
            body.append(f'<tr data-item><td>{e(rtitle)}<br><code>{e(req.code)} · {e(req.rule.provision)}</code></td>'
                        f'<td class="mark {mcls}">{mark} {e(result_word)}</td><td>{_reasons(req.because, label)}</td>'
                        f'<td class="quote">《{e(src["document"])}》{e(src["section"])}：“{e(src["quote"])}”</td></tr>')
        body.append("</tbody></table>")
    active = [f for f in result.findings]
    body.append(f"<h2>{e(_('Findings'))}：{len([f for f in active if f.status == 'active'])}</h2>")
    if active:
        body.append(f'<table class="req"><thead><tr><th>{e(_("Finding"))}</th><th>{e(_("Deciding values"))}</th>'
                    f'<th>{e(_("Source"))}</th></tr></thead><tbody>')
        for f in active:
            src = source_of(policy_set, f.rule)
            state = "" if f.status == "active" else f"（{e(_('superseded by {rule}').format(rule=f.superseded_by))}）"
            until = f"<br>{e(_('until {day}').format(day=f.until.isoformat()))}" if f.until else ""
            body.append(f'<tr data-item><td><b>{e(finding_title(policy_set, f.code))}</b>{state}{until}<br>'
                        f'<code>{e(f.code)} · {e(f.rule.provision)}</code></td>'
                        f'<td>{_reasons([b for b in f.because if b["holds"]], label)}</td>'
                        f'<td class="quote">《{e(src["document"])}》{e(src["section"])}：“{e(src["quote"])}”</td></tr>')
        body.append("</tbody></table>")
    else:
        body.append(f"<p>{e(_('None.'))}</p>")
    body.append(f'<div class="sign"><span>{e(_("Reviewed by"))}</span><span>{e(_("Checked by"))}</span>'
                f'<span>{e(_("Date"))}</span></div></div>')
    return page(f"{title} {result.cadre_id} {result.name}", f"<style>{SHEET_CSS}</style>" + "".join(body), head)
