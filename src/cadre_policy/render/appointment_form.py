"""The 干部任免审批表 layout of one cadre (``policy check ID --format html --layout appointment``).

The fields the record has, where the form puts them: 姓名, 性别, 出生年月（岁）, 民族, 籍贯, 入党时间,
参加工作时间, 学历学位 (全日制 and 在职: the highest of each), 现任职务, 拟任职务, 简历 rebuilt from
the posts (one line a period, ``1998.07--2001.03  单位职务``), 奖惩情况 from the sanctions,
年度考核结果 of the last three years; with the product's 资格审查 conclusion attached. One A4
page when it fits; the reports' one stylesheet, no script; the markup is
templates/appointment_form.html (autoescaped).
"""
from __future__ import annotations

import datetime as dt

from cadre_policy.language import labels, periods
from cadre_policy.language.posts import current_post
from cadre_policy.record.canonical import highest_education
from cadre_policy.render.html import shell

VERDICT = {"eligible": "符合", "ineligible": "不符合", "pending": "待定（资料不全）",
           "exception_required": "须按例外程序"}
RESULT = {"unmet": "不符合", "unknown": "资料不全", "waived": "已破格"}


def _month(day) -> str:
    return f"{day.year}.{day.month:02d}" if day else ""


def _education(doc: dict, mode: str) -> str:
    records = [r for r in doc.get("educations", ()) if r.get("mode") == mode]
    level = highest_education(records)
    if level is None:
        return labels.value("education", doc["education"]) if mode == "full_time" and doc.get("education") \
            and not doc.get("educations") else ""
    best = next(r for r in reversed(records) if r["level"] == level)
    degree = labels.value("degree", best["degree"]) if best.get("degree") else ""
    school = best.get("school", "")
    return " ".join(p for p in (labels.value("education", level), degree, school) if p)


def resume_lines(posts: list[dict], unit_name) -> list[str]:
    """The 简历 of the form: one line per post, ``1998.07--2001.03  单位职务`` (an open end: ``1998.07--``)."""
    lines = []
    for post in sorted(posts, key=lambda p: p["start"]):
        end = post.get("end")
        # a post ends the day before the month the next begins: the form gives that month
        end_month = _month(end + dt.timedelta(days=1)) if end else ""
        lines.append(f"{_month(post['start'])}--{end_month:<7}  {unit_name(post['unit'])}{post['title']}")
    return lines


def appointment_form(result: dict, doc: dict, units: dict) -> str:
    """The 干部任免审批表 of one cadre as an HTML page, with the 资格审查 conclusion of ``result``
    (the JSON of ``policy check``)."""
    from cadre_policy.render.templating import render
    day = dt.date.fromisoformat(result["as_of"])

    def unit_name(uid):
        return units.get(uid, {}).get("name", uid)
    post = current_post(doc.get("posts", []), day)
    nominations = [n for n in doc.get("nominations", ()) if n["date"] <= day]
    target = nominations[-1] if nominations else None
    age = periods.completed_years(doc["birth_date"], day)
    appraisals = sorted((a for a in doc.get("appraisals", ()) if a["date"] <= day), key=lambda a: a["year"])[-3:]
    sanctions = [s for s in doc.get("sanctions", ()) if s["date"] <= day]
    rewards = "；".join(f"{s['date'].isoformat()} {labels.value('sanction_kind', s['kind'])}"
                       + (f"（{s['years']}年）" if s.get("years") else "") + (f" {s['note']}" if s.get("note") else "")
                       for s in sanctions) or "无"
    promotion = result.get("promotion") or {}
    open_items = [f"{r['title']}：{RESULT[r['result']]}" for r in promotion.get("requirements", ())
                  if r["result"] in RESULT]
    verdict = VERDICT.get(promotion.get("eligibility", ""), promotion.get("eligibility", "—"))
    rows = [
        ("姓名", doc["name"], "性别", labels.value("gender", doc["gender"]),
         "出生年月（岁）", f"{_month(doc['birth_date'])}（{age}岁）"),
        ("民族", doc.get("ethnicity", ""), "籍贯", doc.get("native_region", ""),
         "入党时间", _month(doc.get("party_joined"))),
        ("参加工作时间", _month(doc.get("work_start")), "身份", labels.value("status", doc["status"])
         if doc.get("status") else "", "政治面貌", labels.value("party", doc["party"])),
    ]
    current = f"{unit_name(post['unit'])}{post['title']}（{labels.value('rank', post['rank'])}）" if post else "—"
    proposed = f"{unit_name(target['target_unit'])}（{labels.value('rank', target['target_rank'])}）" if target else "—"
    grades = "；".join(f"{a['year']}年度 {labels.value('grade', a['grade'])}" for a in appraisals) or "无"
    title = f"干部任免审批表 {doc['id']} {doc['name']}"
    return render("appointment_form.html", **shell(title, f"{title} · 审查日期 {result['as_of']}", searchable=False),
                  rows=[[str(v) for v in row] for row in rows], full_time=_education(doc, "full_time"),
                  in_service=_education(doc, "in_service"), current=current, proposed=proposed,
                  resume="\n".join(resume_lines(doc.get("posts", []), unit_name)), rewards=rewards, grades=grades,
                  conclusion=verdict + ("：" + "；".join(open_items) if open_items else ""), as_of=result["as_of"],
                  digest=result["policy_set"]["digest"])
