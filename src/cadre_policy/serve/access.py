"""Who may call each route, in one table; the server refuses any request not signed in but for the public few.

Kinds:
- ``public``: no sign-in (the sign-in page and form, sign-out, the static assets);
- ``account``: signed in; answers about the account itself or the policy set, never about cadres;
- ``scoped``: reads cadres: through ``Workbench.scope`` (state.py), the one place scope is decided;
- ``own``: the caller's own jobs or decision records (an admin's: everyone's);
- ``admin``: the admin role (accounts, imports, the store's settings; every unit by definition);
- ``import``: the roster upload (author or admin). An author limited to some units may write
  only units and cadres inside them (serve/roster.py checks it at the preview and again at
  the confirmation; anything outside: 403, nothing written).
- ``drafts``: saved drafts (author or admin): the author's own and those made under units the
  caller shares (accounts/drafts.py ``visible``; an admin's: all).

tests/test_serve_scope.py enumerates the application's routes: each must be in this
table (a new route cannot be added without saying which kind it is), and every route
that is not public answers 401 (API) or sends to the sign-in page (workbench) when
asked without signing in.
"""
from __future__ import annotations

PUBLIC, ACCOUNT, SCOPED, OWN, ADMIN, IMPORT, DRAFTS = "public", "account", "scoped", "own", "admin", "import", "drafts"

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): ACCOUNT,
    ("GET", "/api/v1/me"): ACCOUNT,
    ("POST", "/api/v1/tokens"): ACCOUNT,
    ("GET", "/api/v1/tokens"): ACCOUNT,
    ("DELETE", "/api/v1/tokens/{token_id}"): ACCOUNT,
    ("GET", "/api/v1/cadres"): SCOPED,
    ("GET", "/api/v1/cadres/{cadre_id}"): SCOPED,
    ("POST", "/api/v1/check"): SCOPED,
    ("POST", "/api/v1/whatif"): SCOPED,
    ("GET", "/api/v1/jobs/{job_id}"): OWN,
    ("GET", "/api/v1/jobs/{job_id}/result"): OWN,
    ("GET", "/api/v1/structure"): SCOPED,
    ("GET", "/api/v1/documents"): ACCOUNT,
    ("GET", "/api/v1/rules"): ACCOUNT,
    ("GET", "/api/v1/rules/{rule_id}"): ACCOUNT,
    ("POST", "/api/v1/lint"): ACCOUNT,
    ("GET", "/api/v1/records"): OWN,
    ("GET", "/api/v1/records/{record_id}"): OWN,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/facts/import"): ADMIN,
    ("GET", "/"): SCOPED,
    ("GET", "/cadres/{cadre_id}"): SCOPED,
    ("GET", "/cadres/{cadre_id}/sheet"): SCOPED,
    ("GET", "/rules"): ACCOUNT,
    ("GET", "/rules/{rule_id}"): ACCOUNT,
    ("GET", "/whatif"): ACCOUNT,
    ("GET", "/whatif/jobs/{job_id}/report"): OWN,
    ("GET", "/whatif/jobs/{job_id}/export.xlsx"): OWN,
    ("GET", "/structure"): SCOPED,
    ("GET", "/structure/report"): SCOPED,
    ("GET", "/structure/export.xlsx"): SCOPED,
    ("GET", "/search/export.xlsx"): SCOPED,
    ("GET", "/records"): OWN,
    ("GET", "/records/export.xlsx"): OWN,
    ("GET", "/whatif/jobs"): OWN,
    ("GET", "/units"): SCOPED,
    ("GET", "/units/export.xlsx"): SCOPED,
    ("POST", "/cadres/{cadre_id}/record"): SCOPED,
    ("GET", "/drafts"): DRAFTS,
    ("POST", "/drafts"): DRAFTS,
    ("GET", "/drafts/{draft_id}"): DRAFTS,
    ("GET", "/drafts/{draft_id}/diff"): DRAFTS,
    ("POST", "/drafts/{draft_id}/versions"): DRAFTS,
    ("POST", "/drafts/{draft_id}/copy"): DRAFTS,
    ("GET", "/simulate"): SCOPED,
    ("GET", "/api/v1/drafts"): DRAFTS,
    ("POST", "/api/v1/drafts"): DRAFTS,
    ("GET", "/api/v1/drafts/{draft_id}"): DRAFTS,
    ("GET", "/api/v1/drafts/{draft_id}/diff"): DRAFTS,
    ("POST", "/api/v1/drafts/{draft_id}/versions"): DRAFTS,
    ("POST", "/api/v1/simulate"): SCOPED,
    ("GET", "/import"): IMPORT,
    ("POST", "/import/preview"): IMPORT,
    ("POST", "/import/confirm"): IMPORT,
    ("POST", "/import/resume/preview"): IMPORT,
    ("POST", "/import/resume/confirm"): IMPORT,
    ("GET", "/settings"): ADMIN,
    ("POST", "/settings"): ADMIN,
}


def is_public(method: str, path: str) -> bool:
    """Whether a request may be answered without signing in."""
    if path.startswith("/static/"):
        return method in ("GET", "HEAD")
    return ROUTES.get(("GET" if method == "HEAD" else method, path)) == PUBLIC
