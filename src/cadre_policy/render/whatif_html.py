"""A what-if run as one self-contained page for the committee, in the reader's language.

Overview first (cadres, how many change, the biggest changes), then charts of the
differences by outcome and by unit, the summary table, and every changed cadre with
the rule, the provision and the reasons; the search filters the cadres on every printed
field. Prints on A4 (:mod:`cadre_policy.render.html`).
"""
from __future__ import annotations

from cadre_policy.i18n import _
from cadre_policy.language.model import PolicySet
from cadre_policy.load.drafts import Draft
from cadre_policy.render.check import eligibility_word
from cadre_policy.render.html import diff_cell, difference_chart, e, page_parts, search_box, signed, tiles
from cadre_policy.render.reasons import rule_state
from cadre_policy.render.whatif import key_title, near_rows, reason_texts, structure_line
from cadre_policy.whatif.run import WhatIfResult

MAX_LISTED = 20000      # changed cadres listed in the page (the JSON, CSV and XLSX formats list all)
UNITS_CHARTED = 30


def _change_html(change: dict, policy_set: PolicySet) -> str:
    out = [f'<div class="card cadre" data-item><div class="who"><b>{e(change["cadre"])} {e(change["name"])}</b> '
           f'<span class="meta">{e(change["unit_name"])}（{e(change["unit"])}）</span></div>']
    for item in change["changes"]:
        if item["kind"] == "finding":
            sign, cls = ("+", "up") if item["change"] == "added" else ("−", "down")
            what = _("added by the draft") if item["change"] == "added" else _("removed by the draft")
            out.append(f'<div class="item"><span class="{cls}">{sign} {e(item["title"])}</span> '
                       f'<code>{e(item["code"])}</code> <span class="meta">{e(what)}</span></div>')
        else:
            out.append(f'<div class="item">{e(item["title"])}：<b>{e(eligibility_word(item["baseline"]))}</b> → '
                       f'<b>{e(eligibility_word(item["draft"]))}</b></div>')
        for rule in item["rules"]:
            out.append(f'<div class="why"><code>{e(rule["rule"])} · {e(rule["provision"])}</code> {e(rule["title"])}：'
                       f'{e(rule_state(rule["baseline"]))} → {e(rule_state(rule["draft"]))}</div>')
            out.extend(f'<div class="why">{e(_("because {reason}").format(reason=reason))}</div>'
                       for reason in reason_texts(rule, policy_set))
    out.append("</div>")
    return "".join(out)


def _table(rows, policy_set, table_id: str) -> str:
    out = [f'<table id="{table_id}"><thead><tr><th>{e(_("Outcome"))}</th><th>{e(_("Code"))}</th>'
           f'<th class="n">{e(_("In force"))}</th><th class="n">{e(_("Draft"))}</th>'
           f'<th class="n">{e(_("Difference"))}</th></tr></thead><tbody>']
    for title, code, base, draft, diff in rows:
        out.append(f'<tr><td>{e(title)}</td><td><code>{e(code)}</code></td><td class="n">{base:,}</td>'
                   f'<td class="n">{draft:,}</td>{diff_cell(diff)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def comparison(draft: Draft, policy_set: PolicySet, baseline: PolicySet | None, day) -> dict:
    """草案与现行对照: each parameter the draft changes, in force → draft on ``day``, and its rule changes."""
    from cadre_policy.language.values import format_value, parse_parameter

    def shown(ps, name):
        param = ps.parameters.get(name) if ps is not None else None
        raw = param.raw_on(day) if param is not None else None
        return "—" if raw is None else format_value(parse_parameter(param.kind, raw))
    names = list(dict.fromkeys([*draft.parameters, *draft.sets]))
    start = draft.in_force.start.isoformat() if draft.in_force is not None else day.isoformat()
    parameters = [{"name": n, "title": getattr(policy_set.parameters.get(n), "title", n), "before": shown(baseline, n),
                   "after": shown(policy_set, n), "start": start} for n in names]
    words = ((_("changed"), draft.replaced), (_("added"), draft.added), (_("no longer applied"), draft.disabled))
    rules = [{"what": what, "id": rule_id, "title": getattr(policy_set.rule(rule_id) or (baseline and baseline.rule(rule_id)),
                                                            "title", rule_id)}
             for what, ids in words for rule_id in ids]
    return {"parameters": parameters, "rules": rules}


def to_html(result: WhatIfResult, draft: Draft, policy_set: PolicySet, out, baseline: PolicySet | None = None) -> None:
    """Write the page: the draft against the rules in force, overview, difference charts, summary, structure,
    near misses, changed cadres."""
    from cadre_policy.render.templating import render
    rows = result.summary_rows()
    changed = [(key_title(k, policy_set), k, b, d, x) for k, b, d, x in rows if x]
    biggest = sorted(changed, key=lambda r: (-abs(r[4]), r[1]))[:3]
    title = _("What-if: {title}").format(title=draft.title)
    head = f"{title} · {_('as of')} {result.as_of.isoformat()} · {_('policy set')} {policy_set.digest[:19]}"
    body = [f"<h1>{e(title)}</h1>",
            f'<p class="meta">{e(_("draft {id} ({file}); ").format(id=draft.id, file=draft.file))}'
            f'{e("；".join(draft.describe()))}<br>{e(_("as of"))} {e(result.as_of.isoformat())} · '
            f'{e(_("policy set"))} <code>{e(policy_set.digest[:19])}</code></p>']
    if draft.note:
        body.append(f"<p>{e(draft.note)}</p>")
    body.append(render("whatif_comparison.html", **comparison(draft, policy_set, baseline, result.as_of)))
    body.append(f"<h2>{e(_('Overview'))}</h2>")
    body.append(tiles([(_("cadres checked"), f"{result.cadres:,}"), (_("cadres whose outcome changes"),
                                                                    f"{result.changed:,}"),
                       (_("outcomes that change"), len(changed))]
                      + [(f"{t}（{b:,} → {d:,}）", signed(x)) for t, _k, b, d, x in biggest]))
    if result.structure:
        body.append(f'<p>{e(_("Structure targets that change status: {n}").format(n=len(result.structure)))}</p>')
    body.append(f"<h2>{e(_('Differences by outcome'))}</h2>"
                f'<p class="meta">{e(_("draft minus the policy in force, in cadres"))}</p>')
    body.append(difference_chart([(t, x, f"{b:,} → {d:,}") for t, _k, b, d, x in changed], "chart-outcomes",
                                 _("Differences by outcome")))
    unit_rows = sorted(result.changed_by_unit.items(), key=lambda r: (-r[1], r[0]))[:UNITS_CHARTED]
    body.append(f"<h2>{e(_('Cadres whose outcome changes, by unit'))}</h2>"
                f'<p class="meta">{e(_("unit of the current post; the {n} units with most changes").format(n=UNITS_CHARTED))}</p>')
    body.append(difference_chart([(f"{result.unit_names.get(u, u)}（{u}）", n, str(n)) for u, n in unit_rows],
                                 "chart-units", _("Cadres whose outcome changes, by unit"), signs=False))
    body.append(f"<h2>{e(_('Summary: cadres per outcome'))}</h2>")
    body.append(_table([(key_title(k, policy_set), k, b, d, x) for k, b, d, x in rows], policy_set, "summary"))
    if result.structure is not None:
        body.append(f'<h2>{e(_("Structure targets that change status: {n}").format(n=len(result.structure)))}</h2>'
                    '<ul id="structure">' + "".join(f"<li>{e(structure_line(c))}</li>" for c in result.structure)
                    + "</ul>")
    if result.near is not None:
        body.append(f'<h2>{e(_("Near misses: cadres within {n} unit(s) of a deciding threshold").format(n=result.near_margin))}</h2>')
        body.append(_table([(r["title"], r["code"], r["baseline"], r["draft"], r["difference"])
                            for r in near_rows(result, policy_set)], policy_set, "near"))
    listed = min(result.changed, MAX_LISTED)
    body.append(f'<h2>{e(_("Changed cadres"))}（<span id="shown">{listed}</span> / {listed}）</h2>')
    body.append(search_box(_("Search: id, name, unit, rule, provision, code, reason")))
    body.append('<div id="changes">')
    start, end = page_parts(title, head)
    out.write(start + "".join(body))
    for i, change in enumerate(result.changes()):
        if i >= MAX_LISTED:
            out.write(f'<p class="meta">{e(_("… {n} more (use --format json, csv or xlsx for all)").format(n=result.changed - MAX_LISTED))}</p>')
            break
        out.write(_change_html(change, policy_set))
    out.write("</div>" + end)
