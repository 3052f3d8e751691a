"""A what-if run as one self-contained page for the committee, in the reader's language.

Overview first (cadres, how many change and the reach in one sentence, the biggest
changes), then the chart of the differences by outcome, the summary and reach tables; the
detail follows (changes by unit, near misses, every changed cadre with the rule, the
provision and the reasons; the search filters the cadres on every printed field). Printed
on A4 the summary comes alone unless "print the detail too" is ticked
(:mod:`cadre_policy.render.html`; the markup is templates/whatif.html).
"""
from __future__ import annotations

from cadre_policy.i18n import _
from cadre_policy.language.model import PolicySet
from cadre_policy.load.drafts import Draft
from cadre_policy.render.check import eligibility_word
from cadre_policy.render.comparison import comparison
from cadre_policy.render.html import chart, difference, shell, signed
from cadre_policy.render.reasons import rule_state
from cadre_policy.render.whatif import key_title, near_rows, reach_rows, reach_sentence, reason_texts, structure_line
from cadre_policy.whatif.run import WhatIfResult

MAX_LISTED = 20000      # changed cadres listed in the page (the JSON, CSV and XLSX formats list all)
UNITS_CHARTED = 30


def _change(change: dict, policy_set: PolicySet) -> dict:
    """A changed cadre with the words the page prints: each side's eligibility and rule state, the reasons."""
    items = []
    for item in change["changes"]:
        words = {} if item["kind"] == "finding" else {"baseline_word": eligibility_word(item["baseline"]),
                                                       "draft_word": eligibility_word(item["draft"])}
        rules = [dict(rule, baseline_word=rule_state(rule["baseline"]), draft_word=rule_state(rule["draft"]),
                      reason_texts=reason_texts(rule, policy_set)) for rule in item["rules"]]
        items.append(dict(item, rules=rules, **words))
    return dict(change, changes=items)


def _listed(result: WhatIfResult, policy_set: PolicySet):
    """The changed cadres the page lists (at most ``MAX_LISTED``), read from the spool as the page is written."""
    for i, change in enumerate(result.changes()):
        if i >= MAX_LISTED:
            return
        yield _change(change, policy_set)


def _counts(rows) -> list[dict]:
    return [dict(title=title, code=code, baseline=base, draft=draft, **difference(diff))
            for title, code, base, draft, diff in rows]


def to_html(result: WhatIfResult, draft: Draft, policy_set: PolicySet, out, baseline: PolicySet | None = None) -> None:
    """Write the page (templates/whatif.html): the draft against the rules in force, overview with both numbers
    (conclusions changed, the reach), difference charts, summary, reach, structure; then the detail, printed
    only when asked: by unit, near misses, changed cadres."""
    from cadre_policy.render.templating import env
    rows = result.summary_rows()
    changed = [(key_title(k, policy_set), k, b, d, x) for k, b, d, x in rows if x]
    biggest = sorted(changed, key=lambda r: (-abs(r[4]), r[1]))[:3]
    title = _("What-if: {title}").format(title=draft.title)
    digest = policy_set.digest[:19]
    head = f"{title} · {_('as of')} {result.as_of.isoformat()} · {_('policy set')} {digest}"
    unit_rows = sorted(result.changed_by_unit.items(), key=lambda r: (-r[1], r[0]))[:UNITS_CHARTED]
    listed = min(result.changed, MAX_LISTED)
    values = dict(
        shell(title, head), title=title, digest=digest, as_of=result.as_of.isoformat(), note=draft.note,
        draft_line=_("draft {id} ({file}); ").format(id=draft.id, file=draft.file) + "；".join(draft.describe()),
        **comparison(draft, policy_set, baseline, result.as_of),
        reach_sentence=reach_sentence(result, policy_set), reach=reach_rows(result, policy_set),
        overview=[(_("cadres checked"), f"{result.cadres:,}"), (_("cadres whose outcome changes"), f"{result.changed:,}"),
                  (_("outcomes that change"), len(changed))]
                 + [(f"{t}（{b:,} → {d:,}）", signed(x)) for t, _k, b, d, x in biggest],
        outcome_chart=chart([(t, x, f"{b:,} → {d:,}") for t, _k, b, d, x in changed], "chart-outcomes",
                            _("Differences by outcome")),
        summary=_counts((key_title(k, policy_set), k, b, d, x) for k, b, d, x in rows),
        structure=None if result.structure is None else [structure_line(c) for c in result.structure],
        units_charted=UNITS_CHARTED,
        unit_chart=chart([(f"{result.unit_names.get(u, u)}（{u}）", n, str(n)) for u, n in unit_rows], "chart-units",
                         _("Cadres whose outcome changes, by unit"), signs=False),
        near=None if result.near is None else _counts((r["title"], r["code"], r["baseline"], r["draft"], r["difference"])
                                                      for r in near_rows(result, policy_set)),
        near_margin=result.near_margin, listed=listed, more=result.changed - listed,
        changes=_listed(result, policy_set))
    for text in env.get_template("whatif.html").generate(**values):     # the changed cadres as they are read
        out.write(text)
