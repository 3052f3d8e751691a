"""导出 Excel of the search, the structure report and a what-if job, each with its 说明 sheet
(render/about.py); each reads what its page shows, with the same scope."""
from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, Response

from cadre_policy.i18n import N_, _
from cadre_policy.serve.problems import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEARCH_LIMIT = 10_000        # the page shows the first 100 hits; the file holds them all, up to this
HIT_COLUMNS = ((N_("ID"), "id"), (N_("Name"), "name"), (N_("Current post"), "post"), (N_("Unit ID"), "unit"),
               (N_("Unit"), "unit_name"), (N_("Rank"), "rank"))


def xlsx(body: bytes, name: str) -> Response:
    """A workbook to download as ``name`` (ASCII and UTF-8 names both given: RFC 6266)."""
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name.encode('ascii', 'replace').decode()}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


def hit_rows(hits: list[dict], units: dict) -> list[dict]:
    """Search hits as rows: the cadre, the post held, its unit and rank."""
    from cadre_policy.language.labels import value
    from cadre_policy.language.posts import post_name
    rows = []
    for hit in hits:
        post = hit["post"] or {}
        unit = post.get("unit", "")
        name = units.get(unit, {}).get("name", unit)
        rows.append({"id": hit["id"], "name": hit["name"], "post": post_name(name, post.get("title", "")) if post else "",
                     "unit": unit, "unit_name": name, "rank": value("rank", post.get("rank")) if post else ""})
    return rows


def _book(sheets) -> bytes:
    from cadre_policy.render.tables import write_xlsx
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()


def install(app) -> None:
    """/search/export.xlsx, /structure/export.xlsx and /whatif/jobs/{id}/export.xlsx."""
    from cadre_policy.serve import api
    from cadre_policy.serve.views import _day, _page

    @app.get("/search/export.xlsx", include_in_schema=False)
    def search_export(request: Request, q: str = "", as_of: str | None = None):
        from cadre_policy.render.about import About
        from cadre_policy.render.tables import Column, Sheet
        account, _session = _page(request)
        wb = request.app.state.workbench
        day = _day(request, as_of)
        text = q.strip()[:100]
        hits = wb.store.search(text, None, wb.scope(account, day), day, SEARCH_LIMIT) if text else []
        rows = hit_rows(hits, wb.units())
        about = About.of(wb.policy_set, day, account.name, False, scope=_scope_words(wb, account),
                         filters={_("name or ID"): text}, count=(N_("Cadres"), len(rows)))
        sheet = Sheet(N_("Cadres"), [Column(key, title) for title, key in HIT_COLUMNS], rows)
        return xlsx(_book([sheet, about.sheet()]), f"search-{day.isoformat()}.xlsx")

    @app.get("/structure/export.xlsx", include_in_schema=False)
    def structure_export(request: Request, region: str | None = None, as_of: str | None = None):
        from cadre_policy.render.about import About
        from cadre_policy.render.structure import sheets
        account, _session = _page(request)
        day = _day(request, as_of)
        region, policy_set, report = api.region_structure(request.app.state.workbench, account, region or None, day)
        about = About.of(policy_set, day, account.name, False, scope=region or _("all regions"),
                         count=(N_("Targets"), len(report.results)))
        return xlsx(_book(sheets(report, policy_set, about)), f"structure-{region or 'all'}-{day.isoformat()}.xlsx")

    @app.get("/whatif/jobs/{job_id}/export.xlsx", include_in_schema=False)
    def whatif_export(request: Request, job_id: str):
        account, _session = _page(request, "author")
        job = api.own_job(request.app.state.workbench, api.Caller(account, "web"), job_id)
        if job.status != "done":
            raise Problem(409, _("the job is not finished ({status})").format(status=job.status), "job", kind="not-ready")
        return FileResponse(job.path("result.xlsx"), media_type=XLSX, filename=f"whatif-{job.id}.xlsx")


def _scope_words(wb, account) -> str:
    """The units an account reads, by name (an account of no units reads them all)."""
    if not account.units:
        return _("all units")
    names = wb.units()
    return "、".join(names.get(u, {}).get("name", u) for u in account.units)
