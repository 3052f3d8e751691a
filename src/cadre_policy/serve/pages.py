"""The workbench pages: server-rendered, Chinese first, every asset served from the package (works offline)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from cadre_policy.i18n import DEFAULT, LANGUAGES, _, using
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.security import identify

HERE = Path(__file__).parent
ELIGIBILITY = {"eligible": "符合", "ineligible": "不符合", "pending": "待定（资料不全）"}
RESULT = {"met": "✓ 符合", "unmet": "✗ 不符合", "unknown": "? 资料不全"}
ROLE_PAGES = {"viewer": ["search", "rules", "structure", "records"], "author": ["search", "rules", "whatif",
                                                                                   "structure", "records"]}
NAV = [("search", "/", "干部查询"), ("rules", "/rules", "政策浏览"), ("whatif", "/whatif", "方案测算"),
       ("structure", "/structure", "班子结构"), ("records", "/records", "纪实记录")]

KINDS = {"finding": "认定规则", "requirement": "任用条件", "derive": "推定规则", "exception": "例外规则",
         "aggregate": "结构目标"}
PARAMETER_KINDS = {"count": "人数", "ratio": "比例", "years": "年限", "months": "月数", "date": "日期", "enum": "选项",
                   "number": "数值"}
CHANNELS = {"web": "工作台", "api": "接口", "cli": "命令行"}
BEIJING = timezone(timedelta(hours=8), "北京时间")       # China keeps no daylight saving time

env = Environment(loader=PackageLoader("cadre_policy.serve", "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


def beijing(at) -> str:
    """A stored UTC time (ISO text or datetime) as Beijing time to the second: 2026-12-07 21:05:09."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def codes(text: str) -> Markup:
    """A rule's sentence with its codes (〔path〕) in elements the 显示代码 switch shows."""
    return Markup(re.sub(r"〔[^〕]*〕", lambda m: f'<span class="code">{m.group(0)}</span>', str(escape(text))))


env.filters.update(beijing=beijing, codes=codes)
env.globals.update(KINDS=KINDS, PARAMETER_KINDS=PARAMETER_KINDS, CHANNELS=CHANNELS)


class SignIn(Exception):
    """A page asked for without a session: go to the sign-in page and come back."""


def _page(request: Request, role: str = "viewer"):
    account, session, _token = identify(request)
    if account is None or session is None:
        raise SignIn()
    if not account.may(role):
        raise Problem(403, _("this needs the role {role} or higher").format(role=role), "role")
    return account, session


def render(request: Request, template: str, session=None, **values) -> HTMLResponse:
    from cadre_policy.render.check import fact_label, value_label
    from cadre_policy.render.reasons import phrases
    wb = request.app.state.workbench
    fact = fact_label(wb.policy_set)
    account = session.account if session else None
    allowed = ROLE_PAGES.get(account.role, [n for n, *_rest in NAV]) if account else []
    html = env.get_template(template).render(
        request=request, account=account, csrf=session.csrf if session else "",
        nav=[item for item in NAV if item[0] in allowed], fact=fact, value_label=value_label,
        reasons=lambda entries, finding=False: phrases(entries, fact, value_label, finding),
        unit_names=lambda ids: [wb.units().get(uid, {}).get("name", uid) for uid in ids],
        ELIGIBILITY=ELIGIBILITY, RESULT=RESULT, **values)
    return HTMLResponse(html)


def _day(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(422, _("not a date (YYYY-MM-DD): {text}").format(text=text), "as_of") from None


def install(app) -> None:
    """Add the pages, the static assets and the sign-in redirect to the application."""
    from cadre_policy.serve import api
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def _language(request: Request, call_next):
        # one language a request: ?lang=en (remembered in a cookie) or the cookie, else Chinese
        asked = request.query_params.get("lang")
        lang = asked if asked in LANGUAGES else request.cookies.get("lang")
        with using(lang if lang in LANGUAGES else DEFAULT):
            response = await call_next(request)
        if asked in LANGUAGES:
            response.set_cookie("lang", asked, max_age=365 * 86400, samesite="strict", path="/")
        return response

    @app.exception_handler(SignIn)
    async def _sign_in(request: Request, exc: SignIn):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", failed: int = 0):
        return render(request, "login.html", next=next, failed=bool(failed))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, q: str = "", as_of: str | None = None):
        account, session = _page(request)
        wb = request.app.state.workbench
        day = _day(as_of)
        hits = wb.store.search(q.strip()[:100], None, wb.scope(account, day), day, 100) if q.strip() else []
        units = wb.units()
        return render(request, "search.html", session, q=q, as_of=day.isoformat(), hits=hits, units=units)

    def checked(request: Request, cadre_id: str, as_of: str | None):
        """A check made (and recorded) for a page: (session, result, the cadre's document, day)."""
        account, session = _page(request)
        wb = request.app.state.workbench
        day = _day(as_of)
        result = api.run_check(wb, api.Caller(account, "web"), cadre_id, None, day)
        return session, result, wb.store.cadre(cadre_id), day

    @app.get("/cadres/{cadre_id}", response_class=HTMLResponse, include_in_schema=False)
    def check_page(request: Request, cadre_id: str, as_of: str | None = None):
        from cadre_policy.language.posts import current_post, post_name
        session, result, doc, day = checked(request, cadre_id, as_of)
        units = request.app.state.workbench.units()
        held = current_post(doc.get("posts", []), day)
        post = post_name(units.get(held["unit"], {}).get("name", held["unit"]), held["title"]) if held else ""
        return render(request, "check.html", session, result=result, doc=doc, units=units, post=post,
                      as_of=day.isoformat())

    @app.get("/cadres/{cadre_id}/sheet", response_class=HTMLResponse, include_in_schema=False)
    def sheet_page(request: Request, cadre_id: str, as_of: str | None = None):
        from cadre_policy.render.sheet import cadre_sheet
        session, result, doc, day = checked(request, cadre_id, as_of)
        wb = request.app.state.workbench
        return HTMLResponse(cadre_sheet(result, doc, wb.units(), wb.titled(day)))

    @app.get("/rules", response_class=HTMLResponse, include_in_schema=False)
    def rules_page(request: Request):
        from cadre_policy.serve.legislation import documents
        account, session = _page(request)
        wb = request.app.state.workbench
        return render(request, "rules.html", session, documents=documents(wb.titled(date.today())),
                      digest=wb.policy_set.digest)

    @app.get("/rules/{rule_id}", response_class=HTMLResponse, include_in_schema=False)
    def rule_page(request: Request, rule_id: str, as_of: str | None = None):
        from cadre_policy.serve.legislation import rule_detail
        account, session = _page(request)
        wb = request.app.state.workbench
        policy_set = wb.titled(_day(as_of))
        rule = rule_detail(policy_set, api.find_rule(policy_set, rule_id), _day(as_of))
        return render(request, "rule.html", session, rule=rule)

    @app.get("/whatif", response_class=HTMLResponse, include_in_schema=False)
    def whatif_page(request: Request, draft: str | None = None):
        from cadre_policy import data
        account, session = _page(request, "author")
        samples = sorted(p.name for p in data.DRAFTS.glob("*.yaml"))
        text = (data.DRAFTS / draft).read_text(encoding="utf-8") if draft in samples else ""
        return render(request, "whatif.html", session, samples=samples, draft=draft if text else "", text=text)

    @app.get("/whatif/jobs/{job_id}/report", response_class=HTMLResponse, include_in_schema=False)
    def whatif_report(request: Request, job_id: str):
        account, session = _page(request, "author")
        job = api.own_job(request.app.state.workbench, api.Caller(account, "web"), job_id)
        if job.status != "done":
            raise Problem(409, _("the job is not finished ({status})").format(status=job.status), "job", kind="not-ready")
        return FileResponse(job.path("report.html"), media_type="text/html; charset=utf-8")

    @app.get("/structure", response_class=HTMLResponse, include_in_schema=False)
    def structure_page(request: Request, region: str | None = None, as_of: str | None = None):
        account, session = _page(request)
        wb = request.app.state.workbench
        regions = wb.regions(account)
        choices = sorted(regions) if regions is not None else sorted(
            {u.get("region") for u in wb.units().values() if u.get("region")})
        return render(request, "structure.html", session, regions=choices, region=region or "",
                      as_of=_day(as_of).isoformat())

    @app.get("/structure/report", response_class=HTMLResponse, include_in_schema=False)
    def structure_report(request: Request, region: str | None = None, as_of: str | None = None):
        from cadre_policy.aggregate import evaluate_structure
        from cadre_policy.render.structure import render_html
        account, session = _page(request)
        wb = request.app.state.workbench
        region = api.allowed_region(wb, account, region or None)
        policy_set = wb.titled(_day(as_of))
        report = evaluate_structure(policy_set, wb.store, _day(as_of), region, members_limit=50)
        return HTMLResponse(render_html(report, policy_set))

    @app.get("/records", response_class=HTMLResponse, include_in_schema=False)
    def records_page(request: Request):
        account, session = _page(request)
        wb = request.app.state.workbench
        found = wb.records.list(None if account.may("admin") else account.name, None, 200)
        return render(request, "records.html", session, records=[r.summary() for r in found])
