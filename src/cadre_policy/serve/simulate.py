"""The case simulator (/simulate): one cadre of the officer's units, some facts changed in a form, the findings
and the eligibility with their reasons under the rules in force and under a saved draft, side by side.

Nothing is written: the edited record lives in this request (intake/edit.py validates it as an import
would), and both sides go through the check page's evaluation (``decisions.decide.check_result`` on a
compiled runner). Without a draft the two sides are the record as stored and as edited, both under the
rules in force. The draft's side uses the units as the rules in force see them (structure findings are
not recomputed under the draft).
"""
from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from cadre_policy.i18n import _
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.views import _day, _page, render

FIELD = "f."           # a form field's name: f.<key of intake/edit.py>


def _cadre(request: Request, account, asked: str, day):
    """(the cadre's document or None, the cadres matching a name when it is not one id)."""
    from cadre_policy.serve.api import scoped_cadre
    wb = request.app.state.workbench
    asked = asked.strip()[:100]
    if not asked:
        return None, []
    if wb.store.cadre(asked) is not None:
        return scoped_cadre(wb, account, asked, day), []
    hits = wb.store.search(asked, None, wb.scope(account, day), day, 20)
    if len(hits) == 1:
        return scoped_cadre(wb, account, hits[0]["id"], day), []
    if not hits:
        raise Problem(404, _("no cadre of your units is called {name}").format(name=asked), "cadre")
    return None, hits


def differences(left: dict, right: dict) -> dict:
    """What differs between two checks: finding codes, requirement codes, and whether the eligibility does."""
    def findings(result):
        return {f["code"]: f["status"] for f in result["findings"]}

    def requirements(result):
        return {r["code"]: r["result"] for r in (result["promotion"] or {}).get("requirements", ())}
    one, two = findings(left), findings(right)
    req_one, req_two = requirements(left), requirements(right)
    return {"findings": {c for c in one.keys() | two.keys() if one.get(c) != two.get(c)},
            "requirements": {c for c in req_one.keys() | req_two.keys() if req_one.get(c) != req_two.get(c)},
            "eligibility": (left["promotion"] or {}).get("eligibility") != (right["promotion"] or {}).get("eligibility")}


def simulation(request: Request, account, cadre: str, draft: int | None, as_of: str | None,
               edits: dict[str, str]) -> dict:
    """The simulator's answer: the cadre (or the cadres a name matches), the form's fields, what the edits change
    or why they are refused, and the check on each side (``left``: rules in force; ``right``: the draft, or the
    edited record under the rules in force when no draft is chosen)."""
    from cadre_policy.decisions.decide import check_result
    from cadre_policy.intake.edit import EditRejected, edited, form_fields
    from cadre_policy.language.titles import titled
    from cadre_policy.run.evaluate import PolicyRunner
    from cadre_policy.serve import drafts
    wb = request.app.state.workbench
    if draft is not None and not account.may("author"):
        raise Problem(403, _("this needs the role {role} or higher").format(role="author"), "draft")
    saved = drafts.kept(drafts.store(request).get, draft, account) if draft is not None else None
    draft_set = draft_obj = None
    errors: list = []
    if saved is not None:
        text = drafts.kept(drafts.store(request).version, saved.id, None, account).text
        draft_set, draft_obj, errors = drafts.loaded(request, text)
    day = drafts.day_of_draft(request, draft_obj, as_of) if saved is not None else _day(request, as_of)
    doc, hits = _cadre(request, account, cadre, day)
    out = {"saved": saved, "cadre": cadre, "as_of": day.isoformat(), "hits": hits, "errors": errors, "doc": doc,
           "left": None, "right": None}
    if doc is None or errors:
        return out
    try:
        changed_doc, changed = edited(doc, edits, wb.units().keys())
        refused = []
    except EditRejected as exc:
        changed_doc, changed, refused = doc, [], exc.errors
    with wb.runners.use(day) as (runner, units):
        left = check_result(runner, doc if saved is None else changed_doc, units)
        right = check_result(runner, changed_doc, units) if saved is None else None
    if saved is not None:
        other = PolicyRunner(titled(draft_set, day), day, wb.config.check_engine)
        try:
            right = check_result(other, changed_doc, units)
        finally:
            other.close()
    return dict(out, fields=form_fields(doc), edits=edits, changed=changed, refused=refused, left=left, right=right,
                differs=differences(left, right))


def install(app) -> None:
    @app.get("/simulate", response_class=HTMLResponse, include_in_schema=False)
    def simulate(request: Request, cadre: str = "", draft: str = "", as_of: str | None = None):
        from cadre_policy.serve import drafts
        account, session = _page(request)
        edits = {k[len(FIELD):]: str(v) for k, v in request.query_params.items() if k.startswith(FIELD)}
        found = simulation(request, account, cadre, drafts.number(draft) if draft else None, as_of, edits)
        choices = drafts.store(request).list(account) if account.may("author") else []
        page = render(request, "simulate.html", session, **found, choices=choices, active="search")
        page.status_code = 422 if found.get("refused") else 200
        return page
