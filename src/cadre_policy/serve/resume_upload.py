"""A cadre's 简历 on the import page (/import/resume/…): upload the text, see the posts it would give, line
by line, with every line that could not be read (its number and a Chinese sentence); confirm replaces
the cadre's posts with them, all or nothing (``intake.resume.import_resume``, as `policy facts import
--cadre ID FILE.txt`).

An author limited to some units may read in the 简历 of a cadre of theirs, whose every post lies in them.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from cadre_policy.i18n import _
from cadre_policy.scratch import write_text
from cadre_policy.serve.problems import Problem

MAX_BYTES = 200_000          # a 简历 is a page of text


def _text(body: bytes, name: str) -> str:
    """The upload as text: UTF-8 (with or without its mark), else GB18030 as Chinese Windows saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Problem(422, _("{name}: not a text file in UTF-8 or GB18030").format(name=name), "resume")


def _check_scope(wb, account, cadre_id: str, readings) -> None:
    """403 when the cadre or a unit of the 简历 lies outside an author's units."""
    from cadre_policy.serve.roster import _allowed, _outside_scope
    allowed = _allowed(wb, account)
    if allowed is None:
        return
    doc = wb.store.cadre(cadre_id)
    outside = [_("cadre {id}").format(id=cadre_id)] if doc and any(
        post.get("unit") not in allowed for post in doc.get("posts", ())) else []
    outside += [_("unit {id}").format(id=r.unit) for r in readings if r.unit and r.unit not in allowed]
    if outside:
        raise _outside_scope(outside)


def install(app) -> None:
    """The pages POST /import/resume/preview and /import/resume/confirm."""
    from cadre_policy.intake.resume import import_resume, titles
    from cadre_policy.parse.issues import ImportRejected
    from cadre_policy.serve import roster
    from cadre_policy.serve.security import require_csrf
    from cadre_policy.serve.views import _page, render

    def shown(request, session, **values) -> HTMLResponse:
        return render(request, "resume.html", session, active="import", **values)

    @app.post("/import/resume/preview", response_class=HTMLResponse, include_in_schema=False)
    async def resume_preview(request: Request):
        account, session = _page(request, "author")
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        cadre_id, upload = str(form.get("cadre") or "").strip(), form.get("resume")
        if not cadre_id:
            raise Problem(422, _("give the cadre id whose 简历 this is"), "cadre")
        if upload is None or not getattr(upload, "filename", ""):
            raise Problem(422, _("choose a file to import"), "resume")
        name = os.path.basename(upload.filename)
        if not name.lower().endswith(".txt"):
            raise Problem(422, _("{name}: a 简历 is a text file (.txt), a line a period").format(name=name), "resume")
        body = await upload.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise Problem(413, _("the 简历 is larger than 200 kB"), "resume")
        wb = request.app.state.workbench
        from cadre_policy.serve.api import scoped_cadre
        doc = scoped_cadre(wb, account, cadre_id, wb.default_day() or date.today())      # 404 / 403 first
        roster._forget_old()
        folder = tempfile.mkdtemp(prefix="policy-resume-")
        path = os.path.join(folder, name)
        write_text(path, _text(body, name))
        try:
            readings = await run_in_threadpool(import_resume, wb.store, path, cadre_id, titles(), True)
            _check_scope(wb, account, cadre_id, readings)
        except (ImportRejected, Problem):
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if any(r.problems for r in readings) or not readings:
            shutil.rmtree(folder, ignore_errors=True)
            return shown(request, session, step="errors", name=name, doc=doc, readings=readings)
        token = secrets.token_urlsafe(16)
        with roster._lock:
            roster._uploads[token] = roster.Upload(folder, path, name, account.name, time.time(), None, cadre_id)
        return shown(request, session, step="preview", name=name, doc=doc, readings=readings, token=token)

    @app.post("/import/resume/confirm", response_class=HTMLResponse, include_in_schema=False)
    async def resume_confirm(request: Request):
        account, session = _page(request, "author")
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        with roster._lock:
            upload = roster._uploads.get(str(form.get("token", "")))
            if upload is None or upload.account != account.name or upload.cadre is None:
                raise Problem(404, _("this upload is no longer kept: upload the file again"), "token")
            del roster._uploads[str(form.get("token"))]
        wb = request.app.state.workbench
        try:                             # read again: the store may have changed since the preview
            readings = await run_in_threadpool(import_resume, wb.store, upload.path, upload.cadre, titles(), True)
            _check_scope(wb, account, upload.cadre, readings)
            if any(r.problems for r in readings) or not readings:
                return shown(request, session, step="errors", name=upload.name, doc=wb.store.cadre(upload.cadre),
                             readings=readings)
            readings = await run_in_threadpool(import_resume, wb.store, upload.path, upload.cadre, titles(), False)
        except ImportRejected as exc:
            raise Problem(422, "；".join(issue.message for issue in exc.issues), "resume") from None
        finally:
            shutil.rmtree(upload.folder, ignore_errors=True)
        wb.forget_units()
        return shown(request, session, step="done", name=upload.name, doc=wb.store.cadre(upload.cadre),
                     readings=readings)

