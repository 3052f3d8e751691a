"""Decision records as an officer reads them: who, when (Beijing time), what was asked, the result's digest;
as an XLSX workbook with a 说明 sheet."""
from __future__ import annotations

import io

from cadre_policy.i18n import N_, _
from cadre_policy.render.about import About
from cadre_policy.render.tables import Column, Sheet, write_xlsx
from cadre_policy.render.times import beijing

KINDS = {"check": N_("check"), "whatif": N_("what-if")}
CHANNELS = {"web": N_("workbench"), "api": N_("API"), "cli": N_("command line")}


def asked(record: dict) -> str:
    """What was asked: the cadre or the draft (or the changed parameters), and the date."""
    request = record["request"]
    what = request.get("cadre") or request.get("draft") or " ".join(request.get("set") or ()) or _("posted facts")
    return f"{what} · {request.get('as_of', '')}"


def records_workbook(records: list[dict], filters: dict, who: str) -> bytes:
    """The records as XLSX: one row each, then 说明 (filters, count, who exported them and when)."""
    rows = [{"id": r["id"], "at": beijing(r["at"]), "actor": r["actor"], "channel": _(CHANNELS.get(r["channel"], r["channel"])),
             "kind": _(KINDS.get(r["kind"], r["kind"])), "asked": asked(r), "policy": r["policy_digest"],
             "result": r["result_digest"]} for r in records]
    columns = [Column("id", N_("ID")), Column("at", N_("Time (Beijing)")), Column("actor", N_("Officer")),
               Column("channel", N_("Channel")), Column("kind", N_("Kind")), Column("asked", N_("Asked")),
               Column("policy", N_("Policy set")), Column("result", N_("Result digest"))]
    about = About(who, filters=filters, count=(N_("Records"), len(rows)))
    out = io.BytesIO()
    write_xlsx([Sheet(N_("Decision records"), columns, rows), about.sheet()], out)
    return out.getvalue()
