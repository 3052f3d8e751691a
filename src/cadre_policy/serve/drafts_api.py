"""Saved drafts and the case simulator over the REST API (/api/v1/drafts, /api/v1/simulate): what the pages
show (serve/drafts.py, serve/simulate.py), as JSON, for a program. Times are UTC (ISO, ``Z``)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cadre_policy.i18n import _
from cadre_policy.serve.api import MAX_BODY, MAX_DRAFT, Author, StrictRoute, Viewer, without_paths
from cadre_policy.serve.problems import Problem

router = APIRouter(prefix="/api/v1", route_class=StrictRoute, max_body_size=MAX_BODY)
DraftId = Annotated[int, Path(ge=1, le=2 ** 31 - 1)]
Seq = Annotated[int, Query(ge=1, le=2 ** 31 - 1)]


def _at(moment) -> str:
    return moment.isoformat() + "Z"


def _listed(d) -> dict:
    return {"id": d.id, "name": d.name, "author": d.author, "versions": d.versions, "created": _at(d.created),
            "updated": _at(d.updated), "updated_by": d.updated_by}


def _version(v, text: bool = False) -> dict:
    out = {"seq": v.seq, "author": v.author, "at": _at(v.at), "note": v.note}
    return dict(out, text=v.text) if text else out


class DraftIn(BaseModel):
    name: str = Field(max_length=200, description="the draft's name")
    text: str = Field(max_length=MAX_DRAFT, description="its YAML")
    note: str = Field("", max_length=500, description="what this version changes")


class VersionIn(BaseModel):
    text: str = Field(max_length=MAX_DRAFT)
    note: str = Field("", max_length=500)


class SimulateIn(BaseModel):
    cadre: str = Field(max_length=100, description="a cadre's id or name (within your units)")
    draft: int | None = Field(None, ge=1, le=2 ** 31 - 1, description="a saved draft's id (none: the facts as "
                                                                     "stored against the facts as edited)")
    as_of: date | None = None
    facts: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=200, description="fact key (reviews.0.dissatisfied) -> new value")


@router.get("/drafts", summary="Saved drafts you see (yours and those of your units'), newest change first")
def drafts(who: Author, request: Request, mine: bool = False):
    from cadre_policy.serve.drafts import store
    return {"drafts": [_listed(d) for d in store(request).list(who.account, mine)]}


@router.post("/drafts", status_code=201, summary="Save a new draft (its version 1)")
def create(body: DraftIn, who: Author, request: Request):
    from cadre_policy.serve.drafts import kept, store
    draft_id = kept(store(request).create, body.name, body.text, body.note, who.account)
    return JSONResponse({"id": draft_id, "version": 1}, status_code=201, headers={"Location": f"/api/v1/drafts/{draft_id}"})


@router.get("/drafts/{draft_id}", summary="A saved draft: a version's text, its comparison with the rules in "
                                          "force (or its errors), every version")
def draft(draft_id: DraftId, who: Author, request: Request, version: Seq | None = None, as_of: date | None = None):
    from cadre_policy.serve.drafts import shown_draft
    shown = shown_draft(request, who.account, draft_id, version, as_of.isoformat() if as_of else None)
    return dict(_listed(shown["saved"]), version=_version(shown["shown"], text=True), as_of=shown["as_of"],
                comparison=shown["diff"], errors=shown["errors"], history=[_version(v) for v in shown["versions"]])


@router.post("/drafts/{draft_id}/versions", status_code=201, summary="Save a new version of a draft")
def save(draft_id: DraftId, body: VersionIn, who: Author, request: Request):
    from cadre_policy.serve.drafts import kept, store
    return {"id": draft_id, "version": kept(store(request).save, draft_id, body.text, body.note, who.account)}


@router.get("/drafts/{draft_id}/diff", summary="What version b changes against version a, in sentences")
def diff(draft_id: DraftId, a: Seq, b: Seq, who: Author, request: Request, as_of: date | None = None):
    from cadre_policy.serve.drafts import version_changes
    found = version_changes(request, who.account, draft_id, a, b, as_of.isoformat() if as_of else None)
    return {"id": draft_id, "a": _version(found["older"]), "b": _version(found["newer"]), "as_of": found["as_of"],
            "comparison": found["diff"], "errors": found["errors"]}


@router.post("/simulate", summary="One cadre, facts changed in memory, checked under the rules in force and a "
                                  "draft; nothing is written")
def simulate(body: SimulateIn, who: Viewer, request: Request):
    from cadre_policy.serve.simulate import simulation
    found = simulation(request, who.account, body.cadre, body.draft, body.as_of.isoformat() if body.as_of else None,
                       body.facts)
    if found["errors"]:
        raise Problem(422, found["errors"][0]["message"], "draft", errors=found["errors"])
    if found["doc"] is None:
        raise Problem(422, _("“{name}” names several cadres: {ids}").format(
            name=body.cadre, ids="、".join(f"{h['id']} {h['name']}" for h in found["hits"])), "cadre",
                      errors=[{"field": "cadre", "detail": h["id"]} for h in found["hits"]])
    if found["refused"]:
        errors = [{"field": f"facts.{key}", "detail": f"{label}：{message}"} for key, label, message in found["refused"]]
        raise Problem(422, errors[0]["detail"], errors[0]["field"], errors=errors)
    return {"cadre": found["doc"]["id"], "as_of": found["as_of"], "draft": body.draft,
            "changed": [{"fact": label, "before": old, "after": new} for label, old, new in found["changed"]],
            "in_force": without_paths(found["left"]), "draft_side": without_paths(found["right"]),
            "differs": {k: sorted(v) if isinstance(v, set) else v for k, v in found["differs"].items()}}


def install(app) -> None:
    app.include_router(router)
