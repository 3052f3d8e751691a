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
    """Stands for the fact store in ``import_paths``: reads from it, compares instead of writing."""

    def __init__(self, store, preview: Preview):
        self.store, self.preview = store, preview

    def units(self) -> dict:
        return self.store.units()

    def upsert(self, units: list[dict], cadres: list[dict], chunk_size: int = 2000):
        from cadre_policy.store.fact_store import Counts, UpsertResult
        existing = self.store.units()
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


@dataclass
class Upload:
    folder: str
    path: str
    name: str
    account: str
    at: float
    preview: Preview


_lock = threading.Lock()
_uploads: dict[str, Upload] = {}


def _forget_old() -> None:
    with _lock:
        for token in [t for t, u in _uploads.items() if time.time() - u.at > KEEP_SECONDS]:
            shutil.rmtree(_uploads.pop(token).folder, ignore_errors=True)


def _issues(exc) -> list[dict]:
    return [{"place": str(issue).split(": ", 1)[0].rsplit("/", 1)[-1], "text": issue.message,
             "field": issue.path} for issue in exc.issues]


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
        from cadre_policy.intake.sheets import import_paths
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
        preview = Preview()
        try:
            await run_in_threadpool(import_paths, _ComparingStore(wb.store, preview), [path])
        except ImportRejected as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return render(request, "import.html", session, step="errors", name=name, issues=_issues(exc),
                          active="import")
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
            if upload is None or upload.account != account.name:
                raise Problem(404, _("this upload is no longer kept: upload the file again"), "token")
            del _uploads[str(form.get("token"))]
        wb = request.app.state.workbench
        started = time.perf_counter()
        try:
            report = await run_in_threadpool(import_paths, wb.store, [upload.path])
        except ImportRejected as exc:
            return render(request, "import.html", session, step="errors", name=upload.name, issues=_issues(exc),
                          active="import")
        finally:
            shutil.rmtree(upload.folder, ignore_errors=True)
        wb.forget_units()
        return render(request, "import.html", session, step="done", name=upload.name, result=report.result,
                      preview=upload.preview, seconds=time.perf_counter() - started, shown=SHOWN, active="import")
