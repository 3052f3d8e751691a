"""The workbench pages: server-rendered, Chinese first, every asset served from the package (works offline)."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from cadre_policy.i18n import _
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.views import HERE, SignIn, _day, _page, render


def install(app) -> None:
    """Add the pages, the static assets and the sign-in redirect to the application."""
    from cadre_policy.serve import api, drafts, drafts_api, exports, resume_upload, roster, settings, simulate, unit_list
    unit_list.install(app)
    exports.install(app)
    roster.install(app)
    resume_upload.install(app)
    drafts.install(app)
    drafts_api.install(app)
    simulate.install(app)
    settings.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

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
        day = _day(request, as_of)
        hits = wb.store.search(q.strip()[:100], None, wb.scope(account, day), day, 100) if q.strip() else []
        units = wb.units()
        return render(request, "search.html", session, q=q, as_of=day.isoformat(), hits=hits, units=units)

    def checked(request: Request, cadre_id: str, as_of: str | None):
        """A check for a page, not recorded (a record is made when asked: 核查并留痕):
        (session, result, the cadre's document, day)."""
        from cadre_policy.decisions.decide import check_result
        account, session = _page(request)
        wb = request.app.state.workbench
        day = _day(request, as_of)
        doc = api.scoped_cadre(wb, account, cadre_id, day)
        with wb.runners.use(day) as (runner, units):
            result = check_result(runner, doc, units)
        return session, result, doc, day

    @app.get("/cadres/{cadre_id}", response_class=HTMLResponse, include_in_schema=False)
    def check_page(request: Request, cadre_id: str, as_of: str | None = None, record: int | None = None):
        from cadre_policy.language.posts import current_post, post_name
        session, result, doc, day = checked(request, cadre_id, as_of)
        units = request.app.state.workbench.units()
        held = current_post(doc.get("posts", []), day)
        post = post_name(units.get(held["unit"], {}).get("name", held["unit"]), held["title"]) if held else ""
        return render(request, "check.html", session, result=result, doc=doc, units=units, post=post,
                      as_of=day.isoformat(), record=record)

    @app.post("/cadres/{cadre_id}/record", include_in_schema=False)
    async def record_check(request: Request, cadre_id: str):
        from starlette.concurrency import run_in_threadpool
        from cadre_policy.serve.security import require_csrf
        account, session = _page(request)
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        day = _day(request, str(form.get("as_of") or "") or None)
        result = await run_in_threadpool(api.run_check, request.app.state.workbench, api.Caller(account, "web"),
                                         cadre_id, None, day)
        return RedirectResponse(f"/cadres/{quote(cadre_id)}?as_of={day.isoformat()}&record={result['record']}",
                                status_code=303)

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
        return render(request, "rules.html", session, documents=documents(wb.titled(_day(request, None))),
                      digest=wb.policy_set.digest)

    @app.get("/rules/{rule_id}", response_class=HTMLResponse, include_in_schema=False)
    def rule_page(request: Request, rule_id: str, as_of: str | None = None):
        from cadre_policy.serve.legislation import rule_detail
        account, session = _page(request)
        wb = request.app.state.workbench
        day = _day(request, as_of)
        policy_set = wb.titled(day)
        rule = rule_detail(policy_set, api.find_rule(policy_set, rule_id), day)
        saved = drafts.store(request).list(account) if account.may("author") else []
        return render(request, "rule.html", session, rule=rule, may_draft=account.may("author"), saved=saved)

    @app.get("/whatif", response_class=HTMLResponse, include_in_schema=False)
    def whatif_page(request: Request, draft: str | None = None, param: str | None = None, value: str = "",
                    disable: str | None = None, start: str | None = None, title: str = "", saved: str = "",
                    restore: str | None = None):
        from cadre_policy import data
        from cadre_policy.serve.draft_form import draft_text, merged_text
        account, session = _page(request, "author")
        samples = sorted(p.name for p in data.DRAFTS.glob("*.yaml"))
        text = (data.DRAFTS / draft).read_text(encoding="utf-8") if draft in samples else ""
        name = draft if text else ""
        kept = None
        if saved:                                              # a saved draft, its newest version
            kept = drafts.kept(drafts.store(request).get, drafts.number(saved), account)
            text, name = drafts.kept(drafts.store(request).version, kept.id, None, account).text, drafts.file_name(kept)
        if restore and kept:                                   # 恢复适用: out of the saved draft's disable
            text = merged_text(text, start=_day(request, start), restore=api.find_rule(request.app.state.workbench.policy_set,
                                                                              restore).id)
        if param or disable:                                   # 起草修改 from the legislation explorer
            wb = request.app.state.workbench
            day = _day(request, start)
            if param:
                spec = wb.policy_set.parameters.get(param)
                if spec is None:
                    raise Problem(404, _("unknown parameter: {name}").format(name=param), "param")
                title = title.strip() or _("Draft: {title} changed to {value}").format(title=spec.title, value=value)
                change = {"parameter": (param, spec.kind, value)}
            else:
                rule = api.find_rule(wb.policy_set, disable)
                title = title.strip() or _("Draft: “{title}” no longer applied").format(title=rule.title)
                change = {"disable": rule.id}
            text = merged_text(text, start=day, **change) if kept else draft_text(title=title, start=day, **change)
            name = drafts.file_name(kept) if kept else drafts.DRAFT_FILE
        return render(request, "whatif.html", session, samples=samples, draft=name if name in samples else "",
                      text=text, draft_name=name, saved=kept, title=title)

    @app.get("/whatif/jobs", response_class=HTMLResponse, include_in_schema=False)
    def my_jobs(request: Request):
        account, session = _page(request, "author")
        jobs = request.app.state.workbench.jobs.of(None if account.may("admin") else account.name)
        return render(request, "jobs.html", session, jobs=[j.as_dict() for j in jobs], active="whatif")

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
                      as_of=_day(request, as_of).isoformat())

    @app.get("/structure/report", response_class=HTMLResponse, include_in_schema=False)
    def structure_report(request: Request, region: str | None = None, as_of: str | None = None):
        from cadre_policy.render.structure import render_html
        account, session = _page(request)
        region, policy_set, report = api.region_structure(request.app.state.workbench, account, region or None,
                                                          _day(request, as_of))
        return HTMLResponse(render_html(report, policy_set,
                                        ask=lambda day: "/structure?" + urlencode(
                                            {"region": region or "", "as_of": day.isoformat()})))

    @app.get("/records", response_class=HTMLResponse, include_in_schema=False)
    def records_page(request: Request, kind: str = "", actor: str = "", cadre: str = ""):
        account, session = _page(request)
        return render(request, "records.html", session, records=_records(request, account, kind, actor, cadre),
                      kind=kind, actor=actor, cadre=cadre)

    def _records(request: Request, account, kind: str, actor: str, cadre: str, limit: int = 200) -> list[dict]:
        """The records an account may see (its own; an administrator's: everyone's), newest first, filtered."""
        wb = request.app.state.workbench
        who = (actor.strip() or None) if account.may("admin") else account.name
        found = api.with_integrity(wb, wb.records.list(who, kind if kind in ("check", "whatif") else None, limit))
        return [r for r in found if not cadre.strip() or r["request"].get("cadre") == cadre.strip()]

    @app.get("/records/export.xlsx", include_in_schema=False)
    def records_export(request: Request, kind: str = "", actor: str = "", cadre: str = ""):
        from cadre_policy.render.records import records_workbook
        account, session = _page(request)
        body = records_workbook(_records(request, account, kind, actor, cadre, 10_000),
                                {"kind": kind, "actor": actor, "cadre": cadre}, account.name)
        return exports.xlsx(body, "records.xlsx")
