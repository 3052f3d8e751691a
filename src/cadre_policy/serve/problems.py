"""Errors as ``application/problem+json`` (RFC 9457): a title, the status, a detail, the field at fault.

Every error the server returns goes through here; an unexpected exception becomes
a 500 problem that says only that, never a stack trace (it is logged on the server).
"""
from __future__ import annotations

import html
import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadre_policy.errors import UserError
from cadre_policy.store.errors import database_fault

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:cadre-policy:problem:"
TITLES = {400: "请求有误 Bad request", 401: "未登录 Not signed in", 403: "无权访问 Forbidden",
          404: "未找到 Not found", 405: "方法不允许 Method not allowed", 409: "冲突 Conflict",
          413: "请求过大 Too large", 415: "媒体类型不支持 Unsupported media type",
          422: "内容无法处理 Unprocessable content", 429: "请求过多 Too many requests",
          500: "服务器内部错误 Internal error", 503: "服务不可用 Unavailable"}
log = logging.getLogger("cadre_policy.serve")


class Problem(Exception):
    """An error response: raise it anywhere in a request handler."""

    def __init__(self, status: int, detail: str, field: str | None = None, kind: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field
        self.kind = kind or {401: "unauthenticated", 403: "forbidden", 404: "not-found",
                             429: "rate-limited"}.get(status, "invalid")
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str) -> dict:
        out = {"type": TYPE_BASE + self.kind, "title": TITLES.get(self.status, str(self.status)),
               "status": self.status, "detail": self.detail, "instance": instance}
        if self.field:
            out["field"] = self.field
        out.update(self.extra)
        return out


def respond(problem: Problem, request: Request):
    """problem+json; a workbench page asked for by a browser gets the same problem as a small HTML page."""
    if not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
        e = html.escape
        page = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(problem.body("")["title"])}'
                f'</title><link rel="stylesheet" href="/static/workbench.css"></head><body><main>'
                f'<h1>{e(problem.body("")["title"])}</h1><p class="error" id="problem">{e(problem.detail)}</p>'
                f'<p><a href="/">返回首页</a></p></main></body></html>')
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
        errors = [{"field": _field(e.get("loc", ())), "detail": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "detail": "invalid request"}
        return respond(Problem(422, f"{first['field']}: {first['detail']}", first["field"], errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
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
            return respond(Problem(503, "数据库错误 database error; the server log has the detail", kind="database"),
                           request)
        log.exception("unexpected error on %s", request.url.path)
        return respond(Problem(500, "服务器内部错误 internal error; the server log has the detail", kind="internal"),
                       request)
