"""Saved drafts in the workbench: 我的草案 / 全部草案, a draft's page (its diff against the rules in force, its
versions and who changed what, the case simulator's form), save as a new version, duplicate (另存为).

The drafts themselves are kept by accounts/drafts.py; the comparison is the what-if report's own
(render/comparison.py). A draft that does not load (a typo saved mid-work) shows its diagnostics
instead of a diff; it stays editable in the what-if editor.
"""
from __future__ import annotations

import re
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cadre_policy.i18n import _
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.views import _day, _page, render

DRAFT_FILE = "草案.yaml"


def store(request: Request):
    from cadre_policy.accounts.drafts import Drafts
    return Drafts(request.app.state.workbench.store.engine)


def file_name(saved) -> str:
    """The file name a saved draft's what-if carries in reports and 我的测算: its name."""
    return re.sub(r"[/\\\x00-\x1f]", "_", saved.name)[:95] + ".yaml"


def number(text: str) -> int:
    """A draft's id as a form sends it."""
    if not text.strip().isdigit() or len(text.strip()) > 12:
        raise Problem(422, _("not a draft's or a version's number: {text}").format(text=text[:20]), "draft")
    return int(text)


def kept(call, *args):
    """A call on the drafts store, its refusals as problems (404 unknown, 403 other units, 422 a bad value)."""
    from cadre_policy.accounts.drafts import DraftStoreError
    try:
        return call(*args)
    except DraftStoreError as exc:
        raise Problem(exc.status, str(exc), exc.field) from None


def loaded(request: Request, text: str):
    """(draft set, Draft, errors): the set is None when the text does not load; errors are its diagnostics."""
    from cadre_policy.serve.api import diagnostic_json, load_text
    draft_set, draft, diagnostics = load_text(request.app.state.workbench.policy_set, text, DRAFT_FILE)
    errors = [diagnostic_json(d) for d in diagnostics if d.severity == "error"]
    return draft_set, draft, errors


def comparison_html(diff: dict, heading: str | None = None):
    """The comparison as the what-if report prints it (the one template, render/templates/whatif_comparison.html)."""
    from markupsafe import Markup
    from cadre_policy.render.templating import render as report
    return Markup(report("whatif_comparison.html", heading=heading, **diff))


def day_of_draft(request: Request, draft, as_of: str | None) -> date:
    """The date a draft is read on: the one asked, else the store's default date when the draft is in force
    on it (as `policy whatif`), else the day its changes take effect; without a draft, as any page."""
    if as_of or draft is None or draft.in_force is None:
        return _day(request, as_of)
    stored = request.app.state.workbench.default_day()
    return stored if stored is not None and draft.in_force.holds(stored) else draft.in_force.start


async def _form(request: Request, session) -> dict:
    from cadre_policy.serve.security import require_csrf
    form = dict(await request.form())
    require_csrf(request, session, form.get("csrf_token"))
    return {k: str(v) for k, v in form.items()}


def shown_draft(request: Request, account, draft_id: int, version: int | None, as_of: str | None) -> dict:
    """A saved draft as its page and the API show it: the version, its comparison with the rules in force
    (None when the text does not load: ``errors``), the versions, the date read on."""
    from cadre_policy.render.comparison import changes
    drafts = store(request)
    saved = kept(drafts.get, draft_id, account)
    shown = kept(drafts.version, draft_id, version, account)
    draft_set, draft, errors = loaded(request, shown.text)
    day = day_of_draft(request, draft, as_of)
    baseline = request.app.state.workbench.policy_set
    return {"saved": saved, "shown": shown, "draft": draft, "errors": errors, "as_of": day.isoformat(),
            "diff": changes(baseline, draft_set, day, baseline) if draft_set is not None else None,
            "versions": kept(drafts.versions, draft_id, account)}


def version_changes(request: Request, account, draft_id: int, a: int, b: int, as_of: str | None) -> dict:
    """Who changed what between two versions: the later against the earlier, in the comparison's sentences."""
    from cadre_policy.render.comparison import changes
    drafts = store(request)
    saved = kept(drafts.get, draft_id, account)
    older, newer = (kept(drafts.version, draft_id, seq, account) for seq in (a, b))
    (set_a, _d, errors_a), (set_b, draft, errors_b) = loaded(request, older.text), loaded(request, newer.text)
    day = day_of_draft(request, draft, as_of)
    baseline = request.app.state.workbench.policy_set
    return {"saved": saved, "older": older, "newer": newer, "errors": errors_a + errors_b, "as_of": day.isoformat(),
            "diff": changes(set_a, set_b, day, baseline) if set_a is not None and set_b is not None else None}


def install(app) -> None:
    @app.get("/drafts", response_class=HTMLResponse, include_in_schema=False)
    def drafts_page(request: Request, mine: int = 0):
        account, session = _page(request, "author")
        return render(request, "drafts.html", session, drafts=store(request).list(account, bool(mine)),
                      mine=bool(mine), active="drafts")

    @app.post("/drafts", include_in_schema=False)
    async def create(request: Request):
        account, session = _page(request, "author")
        form = await _form(request, session)
        draft_id = kept(store(request).create, form.get("name", ""), form.get("text", ""), form.get("note", ""),
                        account)
        return RedirectResponse(f"/drafts/{draft_id}", status_code=303)

    @app.get("/drafts/{draft_id}", response_class=HTMLResponse, include_in_schema=False)
    def draft_page(request: Request, draft_id: str, version: str = "", as_of: str | None = None):
        account, session = _page(request, "author")
        shown = shown_draft(request, account, number(draft_id), number(version) if version else None, as_of)
        return render(request, "draft.html", session, **shown, comparison=comparison_html, active="drafts")

    @app.get("/drafts/{draft_id}/diff", response_class=HTMLResponse, include_in_schema=False)
    def version_diff(request: Request, draft_id: str, a: str = "", b: str = "", as_of: str | None = None):
        account, session = _page(request, "author")
        found = version_changes(request, account, number(draft_id), number(a), number(b), as_of)
        return render(request, "draft_diff.html", session, **found, active="drafts",
                      comparison=lambda diff: comparison_html(diff, _("What the later version changes")))

    @app.post("/drafts/{draft_id}/versions", include_in_schema=False)
    async def save_version(request: Request, draft_id: str):
        account, session = _page(request, "author")
        form = await _form(request, session)
        kept(store(request).save, number(draft_id), form.get("text", ""), form.get("note", ""), account)
        return RedirectResponse(f"/drafts/{number(draft_id)}", status_code=303)

    @app.post("/drafts/{draft_id}/copy", include_in_schema=False)
    async def duplicate(request: Request, draft_id: str):
        account, session = _page(request, "author")
        form = await _form(request, session)
        if not form.get("name", "").strip():
            raise Problem(422, _("give the draft a name"), "name")
        copy = kept(store(request).duplicate, number(draft_id), form["name"], account)
        return RedirectResponse(f"/drafts/{copy}", status_code=303)
