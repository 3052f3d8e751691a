"""本单位干部核查一览: the cadres of a unit and the units below it on a date, with their findings and
eligibility, filtered, sorted and paged; and the same list as an Excel workbook with a 说明 sheet.

The list is computed with the columnar engine (``run.population.check_all`` evaluates each chunk
of cadres at once) and kept for a minute per (unit, date, policy set), so paging and filtering
do not evaluate again.
"""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse

from cadre_policy.i18n import N_, _
from cadre_policy.serve.problems import Problem

PAGE = 50
SIZES = (20, 50, 100)        # cadres a page (?size=)
KEEP_SECONDS = 60.0
ELIGIBILITY_ORDER = ("ineligible", "exception_required", "pending", "eligible")
_lock = threading.Lock()
_kept: dict[tuple, tuple[float, "Listing"]] = {}


@dataclass
class Listing:
    """The evaluated cadres of a unit's subtree on a day."""
    unit: str
    day: date
    digest: str
    rows: list[dict]
    seconds: float


def _row(result, policy_set, units: dict) -> dict:
    from cadre_policy.language.labels import value
    from cadre_policy.language.posts import current_post, post_name
    from cadre_policy.render.check import eligibility_word
    post = current_post(result.scope.get("posts", []), result.as_of) or {}
    unit = post.get("unit") or {}
    unit_id = unit.get("id", "") if isinstance(unit, dict) else unit
    codes = result.active_codes()
    promotion = result.determinations.get("promotion") or {}
    unmet = [r for r in promotion.get("requirements", []) if r.result == "unmet"]
    requirements = policy_set.outcomes.requirements
    return {"cadre": result.cadre_id, "name": result.name, "unit": unit_id,
            "post": post_name(units.get(unit_id, {}).get("name", unit_id), post.get("title", "")) if post else "",
            "rank": post.get("rank") or "", "rank_title": value("rank", post.get("rank")) if post else "",
            "findings": codes,
            "finding_titles": [policy_set.outcomes.findings.get(c, {}).get("title", c) for c in codes],
            "eligibility": promotion.get("eligibility", ""),
            "eligibility_title": eligibility_word(promotion["eligibility"]) if promotion else "",
            "unmet": [r.code for r in unmet],
            "unmet_titles": [requirements.get(r.code, {}).get("title", r.code) for r in unmet]}


def listing(wb, unit: str, day: date) -> Listing:
    """The unit's list on ``day``, evaluated once a minute at most."""
    from cadre_policy.run.evaluate import PolicyRunner
    from cadre_policy.run.population import check_all, units_for
    from cadre_policy.store.fact_store import scope_of
    key = (id(wb), unit, day, wb.policy_set.digest)
    with _lock:
        kept = _kept.get(key)
        if kept and time.time() - kept[0] < KEEP_SECONDS:
            return kept[1]
    started = time.perf_counter()
    policy_set = wb.titled(day)
    runner = PolicyRunner(policy_set, day, "columnar")
    units = units_for(runner, wb.store)
    names = wb.units()
    rows, seen = [], set()
    with wb.store.one_state():
        for uid in sorted(scope_of(names, [unit], day).units):
            for result in check_all(runner, wb.store, units, uid):
                if result.cadre_id not in seen:
                    seen.add(result.cadre_id)
                    rows.append(_row(result, policy_set, names))
    rows.sort(key=lambda r: r["cadre"])
    made = Listing(unit, day, wb.policy_set.digest, rows, time.perf_counter() - started)
    with _lock:
        for old in [k for k, (at, _l) in _kept.items() if time.time() - at >= KEEP_SECONDS]:
            del _kept[old]
        _kept[key] = (time.time(), made)
    return made


@dataclass
class Filters:
    finding: str = ""
    eligibility: str = ""
    rank: str = ""
    unmet: str = ""
    sort: str = "cadre"

    def keep(self, row: dict) -> bool:
        if self.finding == "any" and not row["findings"]:
            return False
        if self.finding not in ("", "any") and self.finding not in row["findings"]:
            return False
        if self.eligibility and row["eligibility"] != self.eligibility:
            return False
        if self.rank and row["rank"] != self.rank:
            return False
        return not self.unmet or self.unmet in row["unmet"]

    def apply(self, rows: list[dict]) -> list[dict]:
        from cadre_policy.language.types import rank_index
        kept = [r for r in rows if self.keep(r)]
        if self.sort == "eligibility":
            order = {e: i for i, e in enumerate(ELIGIBILITY_ORDER)}
            kept.sort(key=lambda r: (order.get(r["eligibility"], 9), r["cadre"]))
        elif self.sort == "findings":
            kept.sort(key=lambda r: (-len(r["findings"]), r["cadre"]))
        elif self.sort == "rank":
            kept.sort(key=lambda r: (-rank_index(r["rank"] or None), r["cadre"]))
        return kept

    def query(self) -> dict:
        return {k: v for k, v in vars(self).items() if v and not (k == "sort" and v == "cadre")}


COLUMNS = ((N_("ID"), "cadre"), (N_("Name"), "name"), (N_("Current post"), "post"), (N_("Rank"), "rank_title"),
           (N_("Findings"), "finding_titles"), (N_("Promotion"), "eligibility_title"),
           (N_("Requirements not met"), "unmet_titles"))


def workbook(listing_: Listing, rows: list[dict], filters: Filters, unit_name: str, who: str, policy_set) -> bytes:
    """The list as XLSX: the cadres, then a 说明 sheet (date, policy set and digest, filters, who, when)."""
    from cadre_policy.render.about import About
    from cadre_policy.render.tables import Column, Sheet, write_xlsx
    flat = [dict(r, finding_titles="、".join(r["finding_titles"]), unmet_titles="、".join(r["unmet_titles"]))
            for r in rows]
    about = About.of(policy_set, listing_.day, who, False, scope=f"{unit_name}（{listing_.unit}）",
                     filters=filters.query(), count=(N_("Cadres"), len(rows)))
    sheets = [Sheet(N_("Cadres"), [Column(key, title) for title, key in COLUMNS], flat), about.sheet()]
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()


def install(app) -> None:
    """The page /units and its export /units/export.xlsx."""
    from cadre_policy.serve.exports import xlsx
    from cadre_policy.serve.views import _day, _page, render

    def chosen(request: Request, account, unit: str | None, day: date) -> str:
        wb = request.app.state.workbench
        names = wb.units()
        if unit is None:
            unit = account.units[0] if account.units else next(
                (u for u, v in sorted(names.items()) if not v.get("parent")), "")
        if unit not in names:
            raise Problem(404, _("unknown unit id: {id}").format(id=unit), "unit")
        if account.units and unit not in scope_of_account(wb, account, day):
            raise Problem(403, _("unit {id} is outside your units").format(id=unit), "unit")
        return unit

    def scope_of_account(wb, account, day: date) -> frozenset:
        from cadre_policy.store.fact_store import scope_of
        return scope_of(wb.units(), account.units, day).units

    def asked(request: Request, unit: str | None, as_of: str | None, filters: Filters):
        """(account, session, the unit chosen, its listing, the rows the filters keep) for a request."""
        account, session = _page(request)
        day = _day(request, as_of)
        unit = chosen(request, account, unit, day)
        made = listing(request.app.state.workbench, unit, day)
        return account, session, unit, made, filters.apply(made.rows)

    @app.get("/units", response_class=HTMLResponse, include_in_schema=False)
    def unit_page(request: Request, unit: str | None = None, as_of: str | None = None, finding: str = "",
                  eligibility: str = "", rank: str = "", unmet: str = "", sort: str = "cadre", page: int = 1,
                  size: int = PAGE):
        filters = Filters(finding, eligibility, rank, unmet, sort)
        account, session, unit, made, rows = asked(request, unit, as_of, filters)
        wb, day = request.app.state.workbench, made.day
        size = size if size in SIZES else PAGE
        pages = max(1, -(-len(rows) // size))
        page = min(max(page, 1), pages)
        names = wb.units()
        allowed = scope_of_account(wb, account, day) if account.units else set(names)
        policy_set = wb.titled(day)
        return render(request, "units.html", session, listing=made, rows=rows[(page - 1) * size:page * size],
                      total=len(rows), page=page, pages=pages, filters=filters, unit=unit,
                      unit_name=names[unit].get("name", unit), as_of=day.isoformat(),
                      units=sorted(((u, names[u].get("name", u)) for u in allowed if u in names), key=lambda x: x[0]),
                      finding_choices=sorted((c, o.get("title", c)) for c, o in policy_set.outcomes.findings.items()
                                             if o.get("kind") != "target"),
                      requirement_choices=sorted((c, o.get("title", c))
                                                 for c, o in policy_set.outcomes.requirements.items()),
                      query=dict(filters.query(), **({"size": size} if size != PAGE else {})), active="units")

    @app.get("/units/export.xlsx", include_in_schema=False)
    def unit_export(request: Request, unit: str | None = None, as_of: str | None = None, finding: str = "",
                    eligibility: str = "", rank: str = "", unmet: str = "", sort: str = "cadre"):
        filters = Filters(finding, eligibility, rank, unmet, sort)
        account, session, unit, made, rows = asked(request, unit, as_of, filters)
        name_of_unit = request.app.state.workbench.units()[unit].get("name", unit)
        body = workbook(made, rows, filters, name_of_unit, account.name, request.app.state.workbench.policy_set)
        name = f"units-{unit}-{made.day.isoformat()}.xlsx"
        return xlsx(body, name)
