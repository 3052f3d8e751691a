"""Errors as ``application/problem+json`` (RFC 9457): a title, the status, a detail, the field at fault.

Every error the server returns goes through here; an unexpected exception becomes
a 500 problem that says only that, never a stack trace (it is logged on the server).
"""
from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadre_policy.errors import UserError
from cadre_policy.i18n import N_, _
from cadre_policy.store.errors import database_fault

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:cadre-policy:problem:"
TITLES = {400: N_("Bad request"), 401: N_("Not signed in"), 403: N_("Forbidden"), 404: N_("Not found"),
          405: N_("Method not allowed"), 409: N_("Conflict"), 413: N_("Too large"),
          415: N_("Unsupported media type"), 422: N_("Unprocessable content"), 429: N_("Too many requests"),
          500: N_("Internal error"), 503: N_("Unavailable")}
#: Starlette's own details (an unknown path, a wrong method) are its status titles in English
_STARLETTE = {"Not Found": 404, "Method Not Allowed": 405}
log = logging.getLogger("cadre_policy.serve")
MAX_DETAIL = 500              # characters of a problem's detail: an echoed value is cut short
MAX_ERRORS = 20               # listed errors of one request (the count of all is given)


class Problem(Exception):
    """An error response: raise it anywhere in a request handler."""

    def __init__(self, status: int, detail: str, field: str | None = None, kind: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        detail = detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL] + "…"     # never an echo of megabytes
        self.status, self.detail, self.field = status, detail, field[:200] if field else field
        self.kind = kind or {401: "unauthenticated", 403: "forbidden", 404: "not-found",
                             429: "rate-limited"}.get(status, "invalid")
        self.headers = headers or {}
        if isinstance(extra.get("errors"), list) and len(extra["errors"]) > MAX_ERRORS:
            extra = dict(extra, errors=extra["errors"][:MAX_ERRORS], errors_total=len(extra["errors"]))
        self.extra = extra

    def body(self, instance: str) -> dict:
        out = {"type": TYPE_BASE + self.kind, "title": _(TITLES[self.status]) if self.status in TITLES else str(self.status),
               "status": self.status, "detail": self.detail, "instance": instance[:200]}
        if self.field:
            out["field"] = self.field
        out.update(self.extra)
        return out


def respond(problem: Problem, request: Request):
    """problem+json; a workbench page asked for by a browser gets the same problem as a small HTML page."""
    if not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
        from cadre_policy.render.templating import render
        page = render("problem.html", title=problem.body("")["title"], detail=problem.detail)
        return HTMLResponse(page, status_code=problem.status, headers=problem.headers)
    return JSONResponse(problem.body(request.url.path), status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=problem.headers)


def _field(loc) -> str:
    """A pydantic location as a field path: ``("body", "as_of")`` -> ``as_of``; list items as ``[i]``."""
    out = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or str(loc[0] if loc else "")


def install(app) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return respond(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        found = exc.errors()
        errors = [{"field": _field(e.get("loc", ()))[:200], "detail": e.get("msg", "")[:MAX_DETAIL]}
                  for e in found[:MAX_ERRORS]]
        first = errors[0] if errors else {"field": None, "detail": _("invalid request")}
        more = {"errors_total": len(found)} if len(found) > MAX_ERRORS else {}
        return respond(Problem(422, f"{first['field']}: {first['detail']}", first["field"], errors=errors, **more),
                       request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if not detail or _STARLETTE.get(detail) == exc.status_code:
            detail = _(TITLES.get(exc.status_code, "Bad request"))
        return respond(Problem(exc.status_code, detail, headers=getattr(exc, "headers", None)), request)

    @app.exception_handler(UserError)
    async def _user(request: Request, exc: UserError):
        details = exc.details()
        extra = {"errors": [{"detail": line} for line in details]} if details else {}
        return respond(Problem(422, str(exc), getattr(exc, "field", None), **extra), request)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        if database_fault(exc):     # a database fault: 503, not a crash (SQL stays in store/)
            log.error("database error on %s: %s", request.url.path, exc)
            return respond(Problem(503, _("database error; the server log has the detail"), kind="database"),
                           request)
        log.exception("unexpected error on %s", request.url.path)
        return respond(Problem(500, _("internal error; the server log has the detail"), kind="internal"),
                       request)
