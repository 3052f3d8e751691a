"""The one per-cadre 资格审查表 (qualification review sheet): one printable A4 page from templates/sheet.html.

Built from the JSON of a check (``policy check --format json``, the workbench's check)
and the cadre's canonical document, so the sheet says exactly what the check said, and
the CLI (``policy check ID --format html``) and the workbench print the same bytes for
the same check. Reasons are phrased by :mod:`cadre_policy.render.reasons`, as on the
terminal and the check page.
"""
from __future__ import annotations

from datetime import date

from cadre_policy.i18n import _
from cadre_policy.language import labels
from cadre_policy.language.model import PolicySet
from cadre_policy.language.posts import current_post, post_name
from cadre_policy.render.check import eligibility_word, fact_label, source_of, value_label
from cadre_policy.render.html import shell
from cadre_policy.render.reasons import phrases
from cadre_policy.render.templating import render

_MARK = {"met": ("✓", "ok"), "unmet": ("✗", "no"), "unknown": ("?", "maybe"), "waived": ("⊘", "maybe")}
_RESULT = {"met": "fulfilled", "unmet": "not fulfilled", "waived": "waived by an exception"}
_CLASS = {"eligible": "ok", "ineligible": "no"}


def _facts(doc: dict, post: dict | None, unit_name) -> list[tuple[str, str]]:
    def enum(key: str) -> str:
        return labels.value(key, doc[key]) if doc.get(key) is not None else "—"
    rows = [(labels.field("name"), doc["name"]), (labels.field("gender"), enum("gender")),
            (labels.field("birth_date"), str(doc["birth_date"])), (labels.field("party"), enum("party")),
            (labels.field("ethnicity"), doc.get("ethnicity") or "—"), (labels.field("education"), enum("education"))]
    now = (f"{post_name(unit_name(post['unit']), post['title'])}（{labels.value('rank', post['rank'])}）"
           if post else "—")
    return rows + [("现任职务", now)]


def _determinations(result: dict, policy_set: PolicySet, label) -> list[dict]:
    names = [n for n in policy_set.outcomes.determinations if n in result] or ["promotion"]
    out = []
    for name in names:
        det = result[name]
        rows = []
        for req in det["requirements"]:
            mark, cls = _MARK.get(req["result"], ("?", "maybe"))
            rule = policy_set.rule(req["rule"])
            rows.append({"title": req["title"], "code": req["code"], "provision": req["provision"], "mark": mark,
                         "source": source_of(policy_set, rule) if rule is not None else None,
                         "class": cls, "word": _(_RESULT.get(req["result"], "pending (records incomplete)")),
                         "reasons": phrases(req["because"], label, value_label)})
        out.append({"title": policy_set.outcomes.determinations.get(name, {}).get("title", name),
                    "target": value_label("rank", det["target_rank"]) if det.get("target_rank") else None,
                    "word": eligibility_word(det["eligibility"]), "class": _CLASS.get(det["eligibility"], "maybe"),
                    "requirements": rows})
    return out


def sheet_values(result: dict, doc: dict, units: dict, policy_set: PolicySet) -> dict:
    """What the sheet shows, as plain data: facts, posts, each determination's requirements, findings."""
    label = fact_label(policy_set)
    day = date.fromisoformat(result["as_of"])
    unit_name = (lambda uid: units.get(uid, {}).get("name", uid))
    posts = [{"start": str(p["start"]), "end": str(p["end"]) if p.get("end") else None,
              "post": post_name(unit_name(p["unit"]), p["title"]), "rank": labels.value("rank", p["rank"])}
             for p in doc.get("posts", [])]
    findings = [{"title": f["title"], "code": f["code"], "provision": f["provision"], "until": f.get("until"),
                 "superseded_by": f.get("superseded_by"), "source": f["source"],
                 "reasons": phrases(f["because"], label, value_label, finding=True)} for f in result["findings"]]
    return {"cadre": result["cadre"], "name": result["name"], "as_of": result["as_of"],
            "digest": result["policy_set"]["digest"],
            "facts": _facts(doc, current_post(doc.get("posts", []), day), unit_name), "posts": posts,
            "determinations": _determinations(result, policy_set, label), "findings": findings}


def cadre_sheet(result: dict, doc: dict, units: dict, policy_set: PolicySet) -> str:
    """The whole page for one check (its JSON), in the reader's language."""
    values = sheet_values(result, doc, units, policy_set)
    title = _("Eligibility review sheet")
    head = f"{title} · {values['cadre']} {values['name']} · {_('as of')} {values['as_of']} · " \
           f"{_('policy set')} {values['digest'][:19]}"
    frame = shell(f"{title} {values['cadre']} {values['name']}", head)
    return render("sheet.html", heading=title, **frame, **values)
