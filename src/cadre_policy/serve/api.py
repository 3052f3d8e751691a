"""The REST decision API, /api/v1/…: cadres, check, what-if jobs, structure, rules, lint, records, users."""
from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, Field

from cadre_policy.accounts.users import Account
from cadre_policy.i18n import _
from cadre_policy.serve.problems import Problem
from cadre_policy.scratch import write_bytes, write_text
from cadre_policy.serve.security import identify, require_csrf

MAX_DRAFT = 200_000           # characters of a posted draft
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)      # evaluation dates, as the CLI takes them


def _strict_pairs(pairs: list) -> dict:
    """A JSON object, refused when a key repeats (last-wins would hide what was sent) or a text holds a lone
    surrogate (it cannot be stored or shown)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise StarletteHTTPException(422, _("duplicate key in a JSON object: “{key}”").format(key=key[:100]))
        for text in [key, value] + (value if isinstance(value, list) else []):
            if isinstance(text, str) and not _encodable(text):
                raise StarletteHTTPException(422, _("a text with an invalid character (a lone surrogate) at “{key}”").format(
                    key=key[:100]))
        out[key] = value
    return out


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictRequest(Request):
    async def json(self):
        if not hasattr(self, "_json"):
            from starlette.concurrency import run_in_threadpool
            body = await self.body()          # at most MAX_BODY: parsed in a worker thread, not on the event loop
            self._json = await run_in_threadpool(json.loads, body, object_pairs_hook=_strict_pairs)
        return self._json


class StrictRoute(APIRoute):
    """Request bodies read with :func:`_strict_pairs`."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request):
            return await handler(StrictRequest(request.scope, request.receive))
        return strict


MAX_BODY = 1_000_000          # bytes of an API request body but an import's (checked as it arrives, too)
router = APIRouter(prefix="/api/v1", route_class=StrictRoute, max_body_size=MAX_BODY)


class Caller:
    """The account behind a request and the channel it came through."""

    def __init__(self, account: Account, channel: str):
        self.account, self.channel = account, channel


def caller(role: str):
    """A dependency: the signed-in account, with at least ``role``; CSRF checked for cookie sessions."""
    def dependency(request: Request) -> Caller:
        account, session, channel = identify(request)
        if account is None:
            raise Problem(401, _("sign in first (a session cookie or an Authorization: Bearer token)"),
                          headers={"WWW-Authenticate": "Bearer"})
        require_csrf(request, session)
        if not account.may(role):
            raise Problem(403, _("this needs the role {role} or higher").format(role=role), "role")
        return Caller(account, channel)
    return dependency


Viewer = Annotated[Caller, Depends(caller("viewer"))]
Author = Annotated[Caller, Depends(caller("author"))]
Admin = Annotated[Caller, Depends(caller("admin"))]
AsOf = Annotated[date | None, Query(description="评估日期 evaluation date, YYYY-MM-DD (default: the store's default date, else today)")]


def workbench(request: Request):
    return request.app.state.workbench


def day_of(wb, as_of: date | None, field: str = "as_of") -> date:
    """The evaluation date asked for (default: the store's default date, else today), within 1900–2999 as
    the CLI's."""
    day = as_of or wb.default_day() or date.today()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Problem(422, _("the date must lie between 1900-01-01 and 2999-12-31: {day}").format(day=day), field)
    return day


def scoped_cadre(wb, account: Account, cadre_id: str, day: date) -> dict:
    """The cadre's document, read through the account's scope: 404 unknown, 403 outside the units."""
    scope = wb.scope(account, day)
    doc = wb.store.cadre(cadre_id, scope)
    if doc is None:
        if scope is not None and wb.store.cadre(cadre_id) is not None:
            raise Problem(403, _("cadre {id} is outside your units on {day}").format(id=cadre_id, day=day),
                          "cadre")
        raise Problem(404, _("unknown cadre id: {id}").format(id=cadre_id), "cadre")
    return doc


# ---- who am I, tokens ---------------------------------------------------------------------------
@router.get("/me", summary="The signed-in account")
def me(who: Viewer):
    return who.account.as_dict()


class TokenIn(BaseModel):
    label: str = Field("", max_length=100, description="what the token is for")


@router.post("/tokens", status_code=201, summary="A new API token for the signed-in account (shown once)")
def new_token(body: TokenIn, who: Viewer, request: Request):
    accounts = workbench(request).accounts
    return {"token": accounts.new_token(who.account.name, body.label), "days": accounts.token_days}


@router.get("/tokens", summary="The signed-in account's API tokens: id, label, made, expires (never the token)")
def tokens(who: Viewer, request: Request):
    return {"tokens": workbench(request).accounts.tokens(who.account.name)}


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of the signed-in account's API tokens")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2 ** 31 - 1)], who: Viewer, request: Request):
    from cadre_policy.accounts.users import AccountError
    try:
        workbench(request).accounts.revoke_token(who.account.name, token_id)
    except AccountError:
        raise Problem(404, _("you have no token {id}").format(id=token_id), "token") from None
    return Response(status_code=204)


# ---- cadres -------------------------------------------------------------------------------------
@router.get("/cadres", summary="Search cadres by name or id, or by unit (only those in your units)")
def cadres(who: Viewer, request: Request, q: Annotated[str, Query(max_length=100)] = "",
           unit: Annotated[str | None, Query(max_length=64)] = None, as_of: AsOf = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 50):
    wb = workbench(request)
    day = day_of(wb, as_of)
    if unit is not None and unit not in wb.units():
        raise Problem(404, _("unknown unit id: {id}").format(id=unit), "unit")
    hits = wb.store.search(q.strip(), unit, wb.scope(who.account, day), day, limit)
    units = wb.units()
    for hit in hits:
        if hit["post"]:
            hit["post"]["unit_name"] = units.get(hit["post"]["unit"], {}).get("name", hit["post"]["unit"])
    return {"as_of": day.isoformat(), "cadres": hits}


@router.get("/cadres/{cadre_id}", summary="One cadre's record (canonical document)")
def cadre(cadre_id: Annotated[str, Path(max_length=64)], who: Viewer, request: Request, as_of: AsOf = None):
    wb = workbench(request)
    return scoped_cadre(wb, who.account, cadre_id, day_of(wb, as_of))


# ---- check --------------------------------------------------------------------------------------
class InlineFacts(BaseModel):
    cadre: dict[str, Any] = Field(description="a cadre in the import format (facts.schema.json)")
    units: list[dict[str, Any]] = Field(default_factory=list, description="extra units in the import format")


class CheckIn(BaseModel):
    cadre: str | None = Field(None, max_length=64, description="a stored cadre's id")
    input: InlineFacts | None = Field(None, description="facts posted inline (as OPA takes input)")
    as_of: date | None = Field(None, description="评估日期 YYYY-MM-DD (default: the store's default date, else today)")


def run_check(wb, who: Caller, cadre_id: str | None, facts: InlineFacts | None, day: date) -> dict:
    """A check made and recorded: the same JSON as `policy check --format json`, plus ``record``."""
    from cadre_policy.decisions.decide import check_result, record_check
    if cadre_id is not None:
        doc = scoped_cadre(wb, who.account, cadre_id, day)      # refused before anything is compiled
    with wb.runners.use(day) as (runner, units):
        if facts is not None:
            doc, units = inline_facts(wb, facts, units)
            asked = {"input": {"cadre": facts.cadre, "units": facts.units}, "as_of": day.isoformat()}
        else:
            asked = {"cadre": cadre_id, "as_of": day.isoformat()}
        result = check_result(runner, doc, units)
    asked["engine"] = wb.config.check_engine
    # recorded outside the runner's lock (the runner's policy set outlives its rulesets)
    result["record"] = record_check(wb.store, runner, doc, units, result, actor=who.account.name,
                                    channel=who.channel, request=asked)
    return result


def inline_facts(wb, facts: InlineFacts, units: dict) -> tuple[dict, dict]:
    """Validate posted facts as an import would; (canonical cadre, units the rules see)."""
    from cadre_policy.record.canonical import canonical_cadre, canonical_unit
    from cadre_policy.parse.positioned import Document
    from cadre_policy.intake.importer import validate
    from cadre_policy.run.evaluate import normalise_units
    document = Document("input", json.loads(json.dumps({"units": facts.units, "cadres": [facts.cadre]}, default=str)))
    issues = validate([document], units.keys())
    if issues:
        fields = [{"field": _input_path(i.path), "detail": i.message} for i in issues]
        raise Problem(422, f"{fields[0]['field']}: {fields[0]['detail']}", fields[0]["field"], errors=fields)
    extra = normalise_units({u["id"]: canonical_unit(u) for u in document.data["units"]})
    return canonical_cadre(document.data["cadres"][0]), {**units, **extra}


def _input_path(path: str) -> str:
    return path.replace("$.cadres[0]", "input.cadre", 1).replace("$.units", "input.units", 1).replace("$", "input")


@router.post("/check", summary="Check a stored cadre, or posted facts, on a date; the decision is recorded")
def check(body: CheckIn, who: Viewer, request: Request):
    if (body.cadre is None) == (body.input is None):
        raise Problem(422, _("give exactly one of cadre or input"), "cadre")
    if body.input is not None and not who.account.may("author"):
        raise Problem(403, _("checking posted facts needs the role author"), "input")
    wb = workbench(request)
    return without_paths(run_check(wb, who, body.cadre, body.input, day_of(wb, body.as_of)))


def without_paths(doc: dict) -> dict:
    """An answer without the server's file paths (the policy set is named by its digest)."""
    if isinstance(doc.get("policy_set"), dict):
        doc = dict(doc, policy_set={k: v for k, v in doc["policy_set"].items() if k != "path"})
    return doc


# ---- what-if ------------------------------------------------------------------------------------
class WhatIfIn(BaseModel):
    draft: str | None = Field(None, max_length=MAX_DRAFT, description="a draft's YAML text")
    draft_name: str = Field("草案.yaml", max_length=100, pattern=r"^[^/\\]+$", description="its file name in reports")
    set: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50,
                                                              description="NAME=VALUE parameter changes")
    as_of: date | None = None
    unit: str | None = Field(None, max_length=64)


def start_whatif(wb, who: Caller, body: WhatIfIn):
    """Check the request here (errors answer at once), then run it as a job."""
    from cadre_policy.whatif import request as whatif_request
    if body.draft is None and not body.set:
        raise Problem(422, _("give a draft and/or set changes"), "draft")
    wb.jobs.admit(who.account.name)          # a full queue answers at once, before the draft is read
    scope = wb.scope(who.account, day_of(wb, body.as_of))
    scoped = {}
    if scope is not None:                  # the population, the unit, the result and the snapshot: theirs only
        if body.unit is not None and body.unit not in scope.units:
            raise Problem(403, _("the unit {id} is outside your units").format(id=body.unit), "unit")
        roots = [u for u in who.account.units if u in scope.units]
        scoped = {"scope": sorted(scope.units), "scope_root": roots[0] if len(roots) == 1 else None}
    with tempfile.TemporaryDirectory(prefix="policy-draft-") as tmp:
        path = None
        if body.draft is not None:
            path = os.path.join(tmp, "draft.yaml")
            write_text(path, body.draft)
        try:
            prepared = whatif_request.prepare(wb.policy_set, wb.store, wb.config.db_url, draft_path=path,
                                              draft_display=body.draft_name, sets=body.set, as_of=body.as_of,
                                              default_day=wb.default_day(),
                                              unit=body.unit, engine=wb.config.whatif_engine, **scoped)
        except Exception as exc:
            raise _draft_problem(exc) from None
    asked = {"draft": body.draft_name if body.draft is not None else None, "set": body.set,
             "as_of": prepared.job.as_of.isoformat(), "unit": body.unit, "engine": wb.config.whatif_engine,
             "near": None, **scoped}
    from cadre_policy.i18n import language
    job = wb.jobs.start(who.account.name, {**scoped, "lang": language(),     # the job speaks the server's language
        "request": asked, "db_url": wb.config.db_url, "policies": wb.config.policies, "draft": body.draft,
        "set": body.set, "as_of": asked["as_of"], "unit": body.unit, "engine": wb.config.whatif_engine,
        "workers": wb.config.whatif_workers, "actor": who.account.name, "channel": who.channel})
    return job


def _draft_problem(exc: Exception) -> Exception:
    from cadre_policy.diagnostics import PolicyRejected
    from cadre_policy.errors import UserError
    if isinstance(exc, PolicyRejected):
        errors = [diagnostic_json(d) for d in exc.diagnostics]
        first = next((d for d in exc.diagnostics if d.severity == "error"), exc.diagnostics[0])
        return Problem(422, _("the draft has errors: line {line}: {code} {message}").format(
            line=first.location.line, code=first.code, message=first.message),
                       "draft", kind="draft", errors=errors)
    if isinstance(exc, UserError):
        return Problem(422, str(exc), getattr(exc, "field", "set"))
    return exc


@router.post("/whatif", status_code=202, summary="Start a what-if job: a draft and/or set changes over the population")
def whatif(body: WhatIfIn, who: Author, request: Request):
    job = start_whatif(workbench(request), who, body)
    return JSONResponse(job.as_dict(), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


def own_job(wb, who: Caller, job_id: str):
    job = wb.jobs.get(job_id)
    if job is None:
        raise Problem(404, _("unknown job: {id}").format(id=job_id), "job")
    if job.owner != who.account.name and not who.account.may("admin"):
        raise Problem(403, _("not your job"), "job")
    return job


@router.get("/jobs/{job_id}", summary="A what-if job's status and progress")
def job_status(job_id: Annotated[str, Path(max_length=64)], who: Author, request: Request):
    return own_job(workbench(request), who, job_id).as_dict()


@router.get("/jobs/{job_id}/result", summary="A finished job's report: the JSON of `policy whatif --format json`")
def job_result(job_id: Annotated[str, Path(max_length=64)], who: Author, request: Request):
    job = own_job(workbench(request), who, job_id)
    if job.status != "done":
        raise Problem(409, _("the job is not finished ({status})").format(status=job.status), "job", kind="not-ready")
    return FileResponse(job.path("result.json"), media_type="application/json")


# ---- structure, rules, documents, lint ----------------------------------------------------------
@router.get("/structure", summary="Team and population targets (your regions only)")
def structure(who: Viewer, request: Request, as_of: AsOf = None,
              region: Annotated[str | None, Query(max_length=100)] = None):
    from cadre_policy.render.structure import to_json
    wb = workbench(request)
    _region, policy_set, report = region_structure(wb, who.account, region, day_of(wb, as_of))
    return without_paths(to_json(report, policy_set))


def region_structure(wb, account: Account, region: str | None, day):
    """What the structure API, page and export show: (the region, allowed for the account; the policy set
    titled on ``day``; the report with member lists cut to the account's scope)."""
    from cadre_policy.aggregate import evaluate_structure
    region = allowed_region(wb, account, region)
    policy_set = wb.titled(day)
    report = evaluate_structure(policy_set, wb.store, day, region, members_limit=50)
    return region, policy_set, scoped_structure(wb, account, report)


def scoped_structure(wb, account: Account, report):
    """The report with its member lists cut to the account's scope (figures are counts and stay)."""
    import dataclasses
    scope = wb.scope(account, report.as_of)
    if scope is None:
        return report
    cadres = wb.store.in_scope_of([m.id for r in report.results for m in r.listed if not m.unit], scope)
    results = []
    for r in report.results:
        kept = tuple(m for m in r.listed if (m.unit in scope.units if m.unit else m.id in cadres))
        results.append(r if len(kept) == len(r.listed) else dataclasses.replace(r, listed=kept, listed_all=False))
    return dataclasses.replace(report, results=results)


def allowed_region(wb, account: Account, region: str | None) -> str | None:
    regions = wb.regions(account)
    if regions is None:
        return region
    if region is None:
        if len(regions) != 1:
            raise Problem(422, _("give a region: one of {regions}").format(regions="、".join(sorted(regions))), "region")
        return next(iter(regions))
    if region not in regions:
        raise Problem(403, _("region {region} is outside your units").format(region=region), "region")
    return region


@router.get("/documents", summary="Documents → provisions → rules (the legislation explorer's tree)")
def documents(who: Viewer, request: Request):
    from cadre_policy.serve.legislation import documents
    wb = workbench(request)
    return {"policy_set": {"digest": wb.policy_set.digest},
            "documents": documents(wb.titled(wb.default_day() or date.today()))}


@router.get("/rules", summary="Every rule: id, title, kind, provision")
def rules(who: Viewer, request: Request):
    from cadre_policy.serve.legislation import rule_list
    return {"rules": rule_list(workbench(request).titled(workbench(request).default_day() or date.today()))}


def find_rule(policy_set, rule_id: str):
    from cadre_policy.diagnostics import suggest
    rule = policy_set.rule(rule_id)
    if rule is None:
        hint = suggest(rule_id, [r.id for r in policy_set.rules])
        raise Problem(404, _("unknown rule id: {id}").format(id=rule_id) + (_(" (did you mean {hint}?)").format(hint=hint) if hint else ""),
                      "rule")
    return rule


@router.get("/rules/{rule_id}", summary="A rule: Chinese sentence, quote, provision, parameters with dated values, tests")
def rule(rule_id: Annotated[str, Path(max_length=200)], who: Viewer, request: Request, as_of: AsOf = None):
    from cadre_policy.serve.legislation import rule_detail
    wb = workbench(request)
    policy_set = wb.titled(day_of(wb, as_of))
    return rule_detail(policy_set, find_rule(policy_set, rule_id), day_of(wb, as_of))


class LintIn(BaseModel):
    text: str = Field(max_length=MAX_DRAFT, description="a draft's YAML text")
    name: str = Field("草案.yaml", max_length=100, pattern=r"^[^/\\]+$")


def diagnostic_json(d) -> dict:
    return {"code": d.code, "severity": d.severity, "message": d.message, "line": d.location.line,
            "column": d.location.column, "suggestion": d.suggestion, "text": str(d)}


def load_text(policy_set, text: str, name: str):
    """A draft's text applied to the policy set in force: (draft set or None, Draft or None, diagnostics)."""
    from cadre_policy.load.drafts import load_draft
    with tempfile.TemporaryDirectory(prefix="policy-lint-") as tmp:
        path = os.path.join(tmp, "draft.yaml")
        write_text(path, text)
        return load_draft(path, policy_set, name)


def lint_text(policy_set, text: str, name: str) -> list[dict]:
    """Every diagnostic of a draft's text against the policy set in force."""
    return [diagnostic_json(d) for d in load_text(policy_set, text, name)[2]]


@router.post("/lint", summary="Diagnostics of a draft's text, each with its line and column")
def lint(body: LintIn, who: Author, request: Request):
    diagnostics = lint_text(workbench(request).policy_set, body.text, body.name)
    return {"errors": sum(d["severity"] == "error" for d in diagnostics),
            "warnings": sum(d["severity"] == "warning" for d in diagnostics), "diagnostics": diagnostics}


# ---- records ------------------------------------------------------------------------------------
@router.get("/records", summary="Decision records (纪实), newest first: yours, or everyone's for an admin")
def records(who: Viewer, request: Request, kind: Literal["check", "whatif"] | None = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 50,
            before: Annotated[int | None, Query(ge=1, le=2 ** 63 - 1)] = None):
    actor = None if who.account.may("admin") else who.account.name
    found = workbench(request).records.list(actor, kind, limit, before)
    return {"records": with_integrity(workbench(request), found)}


@router.get("/records/{record_id}", summary="One decision record in full, with its integrity")
def record(record_id: Annotated[int, Path(ge=1, le=2 ** 63 - 1)], who: Viewer, request: Request):
    from cadre_policy.decisions.store import RecordsError
    try:
        found = workbench(request).records.get(record_id)
    except RecordsError:
        raise Problem(404, _("unknown record id: {id}").format(id=record_id), "record") from None
    if found.actor != who.account.name and not who.account.may("admin"):
        raise Problem(403, _("not your record"), "record")
    return with_integrity(workbench(request), [found], full=True)[0]


def with_integrity(wb, found: list, full: bool = False) -> list[dict]:
    """Records as dicts, each with ``integrity``: whether it is as recorded (result digest, chain link)."""
    from cadre_policy.decisions.verify import integrity
    problems = integrity(wb.records, [r.id for r in found])
    return [dict(r.as_dict() if full else r.summary(),
                 integrity={"intact": not problems[r.id], "problems": problems[r.id]}) for r in found]


# ---- accounts and imports (admin) ---------------------------------------------------------------
class UserIn(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: Literal["viewer", "author", "admin"]
    units: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=200)


@router.get("/users", summary="Accounts")
def users(who: Admin, request: Request):
    return {"users": [a.as_dict() for a in workbench(request).accounts.list()]}


@router.post("/users", status_code=201, summary="Add an account")
def add_user(body: UserIn, who: Admin, request: Request):
    from cadre_policy.accounts.users import AccountError
    wb = workbench(request)
    try:
        return wb.accounts.add(body.name, body.password, body.role, body.units, wb.units().keys()).as_dict()
    except AccountError as exc:
        raise Problem(422, str(exc), "name" if "user" in str(exc) else "units") from None


MAX_IMPORT = 50_000_000     # bytes: refused as they arrive (Content-Length first), never read whole beyond it


@router.post("/facts/import", max_body_size=MAX_IMPORT,
             summary="Import facts (YAML or JSON text, the import format, at most 50 MB); all or nothing")
async def import_facts(who: Admin, request: Request):
    from starlette.concurrency import run_in_threadpool
    body = await request.body()
    suffix = ".json" if request.headers.get("content-type", "").startswith("application/json") else ".yaml"
    return await run_in_threadpool(_import, workbench(request), body, suffix)


def _import(wb, body: bytes, suffix: str) -> dict:
    from cadre_policy.parse.issues import ImportRejected
    from cadre_policy.intake.streaming import import_files
    with tempfile.TemporaryDirectory(prefix="policy-import-") as tmp:
        path = os.path.join(tmp, "import" + suffix)
        write_bytes(path, body)
        try:
            result = import_files(wb.store, [path])
        except ImportRejected as exc:
            errors = [{"field": i.path, "line": i.line, "column": i.column, "detail": i.message} for i in exc.issues]
            raise Problem(422, str(exc), errors[0]["field"] if errors else None, kind="import", errors=errors) from None
    wb.forget_units()
    return {"units": vars(result.units), "cadres": vars(result.cadres)}
