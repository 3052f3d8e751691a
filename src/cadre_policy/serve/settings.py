"""The 本库设置 page (/settings, admin): the store's default evaluation date, which every page and
command uses when none is asked for (as `policy store set-date`)."""
from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cadre_policy.i18n import _
from cadre_policy.serve.problems import Problem


def install(app) -> None:
    """The pages GET and POST /settings."""
    from cadre_policy.serve.security import require_csrf
    from cadre_policy.serve.views import _page, render

    @app.get("/settings", response_class=HTMLResponse, include_in_schema=False)
    def settings_page(request: Request, saved: int = 0):
        account, session = _page(request, "admin")
        stored = request.app.state.workbench.default_day()
        return render(request, "settings.html", session, stored=stored.isoformat() if stored else "",
                      saved=bool(saved), active="settings")

    @app.post("/settings", include_in_schema=False)
    async def save_settings(request: Request):
        from cadre_policy.serve.api import day_of
        from cadre_policy.store.settings import set_default_as_of
        account, session = _page(request, "admin")
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        wb = request.app.state.workbench
        day = None
        if form.get("action") != "clear":
            text = str(form.get("default_as_of") or "").strip()
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise Problem(422, _("not a date (YYYY-MM-DD): {text}").format(text=text), "default_as_of") from None
            day_of(wb, day, "default_as_of")             # within 1900–2999
        set_default_as_of(wb.store, day)
        return RedirectResponse("/settings?saved=1", status_code=303)
