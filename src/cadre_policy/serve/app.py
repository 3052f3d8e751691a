"""The ASGI application: the API, the workbench pages, sign-in, and problem+json for every error.

FastAPI (on Starlette) because it derives the OpenAPI document and the request
validation from the same typed signatures, and its validation errors carry the
field's location, which becomes the problem's ``field``. Swagger UI and ReDoc are
off: they load scripts from a CDN, and the workbench must work offline; the
OpenAPI document itself is served at /api/v1/openapi.json.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from cadre_policy.i18n import DEFAULT, LANGUAGES, _, using
from cadre_policy.serve import csp, problems
from cadre_policy.serve.access import is_public
from cadre_policy.serve.problems import Problem, respond
from cadre_policy.serve.security import COOKIE, SAFE_METHODS, SESSION_SECONDS, client_of, identify, require_csrf
from cadre_policy.serve.state import Config, Workbench


def create_app(config: Config) -> FastAPI:
    """The application for a configuration; the store and policy set are opened at start-up."""
    workbench = Workbench.open(config)

    csp.policy()                        # the report blocks' hashes, computed once at start-up

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
    async def guard(request: Request, call_next):
        """Deny by default: a request from another site that would change something, or one not signed in
        to anything but the public routes (serve/access.py), is answered here and goes no further."""
        from starlette.concurrency import run_in_threadpool
        method, path = request.method, request.url.path
        origin = request.headers.get("origin")
        if method not in SAFE_METHODS and origin is not None and not _same_site(origin, request):
            return respond(Problem(403, _("a request from another site is refused"), "Origin",
                                   kind="csrf"), request)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > _body_limit(path):    # refused before a byte of it is read
            return respond(Problem(413, _("the request body is larger than {n} bytes").format(n=f"{_body_limit(path):,}"),
                                   "body"), request)
        if not is_public(method, path):
            try:
                account, _session, _channel = await run_in_threadpool(identify, request)
            except Problem as problem:
                return respond(problem, request)
            if account is None:
                if path.startswith("/api/"):
                    return respond(Problem(401, _("sign in first (a session cookie or an Authorization: Bearer token)"),
                                           headers={"WWW-Authenticate": "Bearer"}), request)
                return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
        return await call_next(request)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # personal data: never kept by a browser's or a proxy's cache (the static assets may be)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", csp.policy())
        return response

    @app.middleware("http")
    async def language(request: Request, call_next):
        # the outermost layer: every answer, the guard's refusals too, in the one language of the request
        asked = request.query_params.get("lang")
        with using(request_language(request)):
            response = await call_next(request)
        if asked in LANGUAGES:            # the page switch (?lang=en) is remembered
            response.set_cookie("lang", asked, max_age=365 * 86400, samesite="strict", path="/")
        return response
    return app


def request_language(request: Request) -> str:
    """One language a request: ?lang=, else the page switch's cookie, else the browser's Accept-Language
    (the first of zh and en it names, by weight), else Chinese.

    >>> from starlette.requests import Request as R
    >>> ask = lambda header: request_language(R({"type": "http", "query_string": b"",
    ...                                          "headers": [(b"accept-language", header.encode())]}))
    >>> ask("en-US,en;q=0.9,zh;q=0.8"), ask("zh-CN,zh;q=0.9,en;q=0.8"), ask("fr, en;q=0.5"), ask("")
    ('en', 'zh', 'en', 'zh')
    """
    for lang in (request.query_params.get("lang"), request.cookies.get("lang")):
        if lang in LANGUAGES:
            return lang
    weighted = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            weighted.append((-weight, position, primary))
    return min(weighted)[2] if weighted else DEFAULT


MAX_LOGIN_BODY = 16_000       # bytes of a sign-in form


def _body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have (the routes enforce it again as it streams)."""
    from cadre_policy.serve.api import MAX_BODY, MAX_IMPORT
    if path == "/api/v1/facts/import":
        return MAX_IMPORT
    return MAX_LOGIN_BODY if path in ("/login", "/logout") else MAX_BODY


def _same_site(origin: str, request: Request) -> bool:
    """Whether an ``Origin`` names this server: its host and port as the request addressed it (the scheme is
    not compared: behind a TLS proxy the browser's https is the server's http)."""
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower() != ""


def _safe_next(target: str | None) -> str:
    """Only a local path is followed after sign-in (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _sign_in(app: FastAPI) -> None:
    @app.post("/login", include_in_schema=True, max_body_size=MAX_LOGIN_BODY,
              summary="Sign in (form or JSON: name, password); sets the session cookie")
    async def login(request: Request):
        wb = request.app.state.workbench
        is_json = request.headers.get("content-type", "").startswith("application/json")
        if is_json:
            try:
                data = await request.json()
            except ValueError:
                raise Problem(400, _("the body is not JSON"), "body") from None
            if not isinstance(data, dict):
                raise Problem(422, _("give name and password"), "name")
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
            raise Problem(401, _("wrong user name or password"), "password")
        account, stamp = found
        wb.limiter.succeeded(client, name, mark)
        sid, session = wb.sessions.open(account, stamp)
        response = (JSONResponse({"user": account.as_dict(), "csrf_token": session.csrf}) if is_json
                    else RedirectResponse(target, status_code=303))
        response.set_cookie(COOKIE, sid, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.post("/logout", max_body_size=MAX_LOGIN_BODY,
              summary="Sign out (form with csrf_token, or the X-CSRF-Token header)")
    async def logout(request: Request):
        account, session, _channel = identify(request)
        form = {} if request.headers.get("content-type", "").startswith("application/json") else \
            dict(await request.form())
        require_csrf(request, session, form.get("csrf_token"))
        request.app.state.workbench.sessions.close(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
