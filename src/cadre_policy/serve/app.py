"""The ASGI application: the API, the workbench pages, sign-in, and problem+json for every error.

FastAPI (on Starlette) because it derives the OpenAPI document and the request
validation from the same typed signatures, and its validation errors carry the
field's location, which becomes the problem's ``field``. Swagger UI and ReDoc are
off: they load scripts from a CDN, and the workbench must work offline; the
OpenAPI document itself is served at /api/v1/openapi.json.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from cadre_policy.serve import problems
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.security import COOKIE, SESSION_SECONDS, client_of, identify, require_csrf
from cadre_policy.serve.state import Config, Workbench


def create_app(config: Config) -> FastAPI:
    """The application for a configuration; the store and policy set are opened at start-up."""
    workbench = Workbench.open(config)

    @asynccontextmanager
    async def lifespan(app):
        yield
        workbench.close()

    app = FastAPI(title="cadre-policy 干部政策核查", version="1", lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None,
                  description="规则核查、拟定方案测算、班子结构与纪实记录 REST API. Errors are application/problem+json.")
    app.state.workbench = workbench
    problems.install(app)

    from cadre_policy.serve.api import router
    app.include_router(router)
    _sign_in(app)
    from cadre_policy.serve.pages import install as install_pages
    install_pages(app)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                    "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'")
        return response
    return app


def _safe_next(target: str | None) -> str:
    """Only a local path is followed after sign-in (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _sign_in(app: FastAPI) -> None:
    @app.post("/login", include_in_schema=True, summary="Sign in (form or JSON: name, password); sets the session cookie")
    async def login(request: Request):
        wb = request.app.state.workbench
        is_json = request.headers.get("content-type", "").startswith("application/json")
        if is_json:
            try:
                data = await request.json()
            except ValueError:
                raise Problem(400, "请求体不是 JSON the body is not JSON", "body") from None
            if not isinstance(data, dict):
                raise Problem(422, "需要 name 与 password give name and password", "name")
        else:
            data = dict(await request.form())
        name, password = str(data.get("name") or ""), str(data.get("password") or "")
        target = _safe_next(str(data.get("next") or "/"))
        client = client_of(request)
        mark = wb.limiter.attempt(client, name)      # counted before the slow password check
        from starlette.concurrency import run_in_threadpool
        found = await run_in_threadpool(wb.accounts.authenticate, name, password)
        if found is None:
            if not is_json:
                return RedirectResponse(f"/login?failed=1&next={target}", status_code=303)
            raise Problem(401, "用户名或密码错误 wrong user name or password", "password")
        account, stamp = found
        wb.limiter.succeeded(client, name, mark)
        sid, session = wb.sessions.open(account, stamp)
        response = (JSONResponse({"user": account.as_dict(), "csrf_token": session.csrf}) if is_json
                    else RedirectResponse(target, status_code=303))
        response.set_cookie(COOKIE, sid, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.post("/logout", summary="Sign out (form with csrf_token, or the X-CSRF-Token header)")
    async def logout(request: Request):
        account, session, _ = identify(request)
        form = {} if request.headers.get("content-type", "").startswith("application/json") else \
            dict(await request.form())
        require_csrf(request, session, form.get("csrf_token"))
        request.app.state.workbench.sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
