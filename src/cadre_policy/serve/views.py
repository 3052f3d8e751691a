"""What every workbench page shares: the Jinja environment (filters, words), the sign-in check, rendering, dates.

Pages (serve/pages.py, serve/unit_list.py, …) are modules of routes on top of this one.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from cadre_policy.i18n import _
from cadre_policy.render.templating import codes
from cadre_policy.render.times import beijing, long_day
from cadre_policy.serve.problems import Problem
from cadre_policy.serve.security import identify

HERE = Path(__file__).parent
ELIGIBILITY = {"eligible": "符合", "ineligible": "不符合", "pending": "待定（资料不全）"}
RESULT = {"met": "✓ 符合", "unmet": "✗ 不符合", "unknown": "? 资料不全"}
ROLE_PAGES = {"viewer": ["search", "units", "rules", "structure", "records"],
              "author": ["search", "units", "rules", "whatif", "drafts", "structure", "records", "import"]}
NAV = [("search", "/", "干部查询"), ("units", "/units", "本单位一览"), ("rules", "/rules", "政策浏览"),
       ("whatif", "/whatif", "方案测算"), ("drafts", "/drafts", "草案"),
       ("structure", "/structure", "班子结构"), ("records", "/records", "纪实记录"), ("import", "/import", "导入名册"),
       ("settings", "/settings", "本库设置")]

KINDS = {"finding": "认定规则", "requirement": "任用条件", "derive": "推定规则", "exception": "例外规则",
         "aggregate": "结构目标"}
PARAMETER_KINDS = {"count": "人数", "ratio": "比例", "years": "年限", "months": "月数", "date": "日期", "enum": "选项",
                   "number": "数值"}
CHANNELS = {"web": "工作台", "api": "接口", "cli": "命令行"}

env = Environment(loader=PackageLoader("cadre_policy.serve", "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


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
    account = getattr(request.state, "account", None) if session else None
    allowed = ROLE_PAGES.get(account.role, [n for n, *_rest in NAV]) if account else []
    html = env.get_template(template).render(
        request=request, account=account, csrf=session.csrf if session else "",
        dated=dated(request, values.get("as_of")) if account else None,
        nav=[item for item in NAV if item[0] in allowed], fact=fact, value_label=value_label,
        reasons=lambda entries, finding=False: phrases(entries, fact, value_label, finding),
        unit_names=lambda ids: [wb.units().get(uid, {}).get("name", uid) for uid in ids],
        ELIGIBILITY=ELIGIBILITY, RESULT=RESULT, **values)
    return HTMLResponse(html)


def dated(request: Request, as_of: str | None) -> dict:
    """What the header says of the page's date: the day, whether it is the store's default or today, and
    (on a page that has a date) when no document is in force on it, why and the dates to choose instead."""
    from cadre_policy.explain.coverage import choices, outside_force
    wb = request.app.state.workbench
    if as_of:
        day, source = date.fromisoformat(as_of), getattr(request.state, "day_default", None)
    else:
        stored = wb.default_day()
        day, source = stored or date.today(), "store" if stored else "today"
    outside = outside_force(wb.policy_set, day) if as_of else None
    links = [(d, request.url.path + "?" + urlencode({**request.query_params, "as_of": d.isoformat()}))
             for d in choices(wb.policy_set)] if outside else []
    return {"day": long_day(day), "source": source, "outside": outside, "choices": links}


def _day(request: Request, text: str | None) -> date:
    """The page's evaluation date: the one asked for, else the store's default date, else today (the header
    says which: ``request.state.day_default``)."""
    if not text:
        stored = request.app.state.workbench.default_day()
        request.state.day_default = "store" if stored else "today"
        return stored or date.today()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Problem(422, _("not a date (YYYY-MM-DD): {text}").format(text=text), "as_of") from None
    from cadre_policy.serve.api import day_of
    return day_of(request.app.state.workbench, day)     # within 1900–2999, as the API's
