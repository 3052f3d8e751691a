"""The roster import page (/import): upload the 干部名册 (XLSX, CSV, YAML or JSON), see what would change
(new, changed and unchanged cadres and units) or every error at its ``SHEET!CELL`` in Chinese, then
confirm: the file is written all or nothing, and the changed cadres are linked.

The preview runs the import's own validation and reading (``intake.sheets.import_paths``) against a
store that compares instead of writing, so what it shows is what the write will do, unless the
store changes in between (the confirmed write validates again).
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from cadre_policy.i18n import _
from cadre_policy.scratch import write_bytes
from cadre_policy.serve.problems import Problem

SUFFIXES = (".xlsx", ".csv", ".yaml", ".yml", ".json")
MAX_BYTES = 50_000_000
KEEP_SECONDS = 3600.0
SHOWN = 200            # cadres listed per kind on the preview


@dataclass
class Preview:
    """What an import would do: ids by kind (added, updated, unchanged) for units and cadres."""
    units: dict = field(default_factory=lambda: {"added": [], "updated": [], "unchanged": []})
    cadres: dict = field(default_factory=lambda: {"added": [], "updated": [], "unchanged": []})
    names: dict = field(default_factory=dict)


class _ComparingStore:
    """Stands for the fact store in ``import_paths``: reads from it, compares instead of writing.

    ``allowed`` (None: every unit) is the set of unit ids an author limited to some units covers:
    every unit of the upload must lie in it (a new unit under a unit in it joins it), every post of
    an uploaded cadre must be in one of them, and a cadre already stored must already be theirs.
    """

    def __init__(self, store, preview: Preview, allowed: set | None = None):
        self.store, self.preview, self.allowed = store, preview, allowed
        self.outside: list[str] = []

    def units(self) -> dict:
        return self.store.units()

    def _check_scope(self, units: list[dict], cadres: list[dict], stored: dict) -> None:
        allowed = self.allowed
        for unit in units:
            if unit["id"] in allowed or (unit["id"] not in self.store.units() and unit.get("parent") in allowed):
                allowed.add(unit["id"])
            else:
                self.outside.append(_("unit {id}").format(id=unit["id"]))
        for doc in cadres:
            posts = list(doc.get("posts", ())) + list((stored.get(doc["id"]) or {}).get("posts", ()))
            if any(post.get("unit") not in allowed for post in posts):
                self.outside.append(_("cadre {id}").format(id=doc["id"]))

    def upsert(self, units: list[dict], cadres: list[dict], chunk_size: int = 2000):
        from cadre_policy.store.fact_store import Counts, UpsertResult
        existing = self.store.units()
        if self.allowed is not None:
            stored = {d["id"]: d for d in self.store.read(("ids", tuple(c["id"] for c in cadres)))} if cadres else {}
            self._check_scope(units, cadres, stored)
        for unit in units:
            old = existing.get(unit["id"])
            self.preview.units["added" if old is None else "updated" if old != unit else "unchanged"].append(unit["id"])
        for start in range(0, len(cadres), chunk_size):
            part = cadres[start:start + chunk_size]
            old = {d["id"]: d for d in self.store.read(("ids", tuple(c["id"] for c in part)))}
            for doc in part:
                before = old.get(doc["id"])
                kind = "added" if before is None else "updated" if before != doc else "unchanged"
                self.preview.cadres[kind].append(doc["id"])
                self.preview.names[doc["id"]] = doc.get("name", "")
        counts = {k: Counts(*(len(v[x]) for x in ("added", "updated", "unchanged")))
                  for k, v in (("units", self.preview.units), ("cadres", self.preview.cadres))}
        return UpsertResult(counts["units"], counts["cadres"])

    def upsert_batches(self, batches):
        """:meth:`upsert` of each ``(units, cadres)`` batch; the preview adds them up."""
        result = None
        for units, cadres in batches:
            result = self.upsert(units, cadres)
        return result


@dataclass
class Upload:
    folder: str
    path: str
    name: str
    account: str
    at: float
    preview: Preview | None
    cadre: str | None = None       # a 简历 upload (serve/resume_upload.py): whose posts it replaces


_lock = threading.Lock()
_uploads: dict[str, Upload] = {}


def _forget_old() -> None:
    with _lock:
        for token in [t for t, u in _uploads.items() if time.time() - u.at > KEEP_SECONDS]:
            shutil.rmtree(_uploads.pop(token).folder, ignore_errors=True)


def _outside_scope(outside: list[str]) -> Problem:
    shown = "、".join(outside[:10]) + ("…" if len(outside) > 10 else "")
    return Problem(403, _("nothing was written: the import reaches beyond your units ({items})").format(
        items=shown), "roster")


def _issues(exc) -> list[dict]:
    return [{"place": str(issue).split(": ", 1)[0].rsplit("/", 1)[-1], "text": issue.message,
             "field": issue.path} for issue in exc.issues]


def _allowed(wb, account) -> set | None:
    """The unit ids an account may import into (None: every unit)."""
    if not account.units:
        return None
    from datetime import date

    from cadre_policy.store.fact_store import scope_of
    return set(scope_of(wb.units(), account.units, date.today()).units)


def _compare(wb, account, path: str) -> tuple[Preview, list[str]]:
    """What importing ``path`` would do, and what of it lies outside the account's units."""
    from cadre_policy.intake.sheets import import_paths
    preview = Preview()
    comparing = _ComparingStore(wb.store, preview, _allowed(wb, account))
    import_paths(comparing, [path])
    return preview, comparing.outside


def install(app) -> None:
    """The pages /import, /import/preview and /import/confirm."""
    from cadre_policy.serve.security import require_csrf
    from cadre_policy.serve.views import _page, render

    @app.get("/import", response_class=HTMLResponse, include_in_schema=False)
    def import_page(request: Request):
        account, session = _page(request, "author")
        return render(request, "import.html", session, step="upload", active="import")

    @app.post("/import/preview", response_class=HTMLResponse, include_in_schema=False)
    async def import_preview(request: Request):
        from cadre_policy.parse.issues import ImportRejected
        account, session = _page(request, "author")
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        upload = form.get("roster")
        if upload is None or not getattr(upload, "filename", ""):
            raise Problem(422, _("choose a file to import"), "roster")
        name = os.path.basename(upload.filename)
        if not name.lower().endswith(SUFFIXES):
            raise Problem(422, _("{name}: import a .xlsx workbook, a .csv sheet, or a .yaml or .json file").format(
                name=name), "roster")
        body = await upload.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise Problem(413, _("the import is larger than 50 MB"), "roster")
        _forget_old()
        folder = tempfile.mkdtemp(prefix="policy-roster-")
        path = os.path.join(folder, name)
        write_bytes(path, body)
        wb = request.app.state.workbench
        try:
            preview, outside = await run_in_threadpool(_compare, wb, account, path)
        except ImportRejected as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return render(request, "import.html", session, step="errors", name=name, issues=_issues(exc),
                          active="import")
        if outside:
            shutil.rmtree(folder, ignore_errors=True)
            raise _outside_scope(outside)
        token = secrets.token_urlsafe(16)
        with _lock:
            _uploads[token] = Upload(folder, path, name, account.name, time.time(), preview)
        return render(request, "import.html", session, step="preview", name=name, token=token, preview=preview,
                      shown=SHOWN, active="import")

    @app.post("/import/confirm", response_class=HTMLResponse, include_in_schema=False)
    async def import_confirm(request: Request):
        from cadre_policy.intake.sheets import import_paths
        from cadre_policy.parse.issues import ImportRejected
        account, session = _page(request, "author")
        form = await request.form()
        require_csrf(request, session, form.get("csrf_token"))
        with _lock:
            upload = _uploads.get(str(form.get("token", "")))
            if upload is None or upload.account != account.name or upload.cadre is not None:
                raise Problem(404, _("this upload is no longer kept: upload the file again"), "token")
            del _uploads[str(form.get("token"))]
        wb = request.app.state.workbench
        started = time.perf_counter()
        try:
            if account.units:       # the store may have changed since the preview: the scope again
                _preview, outside = await run_in_threadpool(_compare, wb, account, upload.path)
                if outside:
                    raise _outside_scope(outside)
            report = await run_in_threadpool(import_paths, wb.store, [upload.path])
        except ImportRejected as exc:
            return render(request, "import.html", session, step="errors", name=upload.name, issues=_issues(exc),
                          active="import")
        finally:
            shutil.rmtree(upload.folder, ignore_errors=True)
        wb.forget_units()
        return render(request, "import.html", session, step="done", name=upload.name, result=report.result,
                      preview=upload.preview, seconds=time.perf_counter() - started, shown=SHOWN, active="import")
