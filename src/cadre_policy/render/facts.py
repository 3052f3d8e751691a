"""Text output of ``policy facts show`` and ``policy facts list``.

Lines are built as (text, style) segments; on a terminal they are printed with
``rich`` in colour, otherwise written plain so that piped output has no escapes.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from cadre_policy.language.labels import field, value
from cadre_policy.language.posts import current_post
from cadre_policy.render.terminal import safe

Line = list[tuple[str, str | None]]


def emit(console: Console, lines: Iterable[Line]) -> None:
    """Print lines in colour on a terminal, plain text otherwise; control characters in the
    records (a name written by another program) shown as escapes, never sent raw."""
    if console.is_terminal:
        for line in lines:
            console.print(Text.assemble(*((safe(text), style) for text, style in line)), soft_wrap=True)
    else:
        out = console.file
        for line in lines:
            out.write("".join(safe(text) for text, _ in line) + "\n")


def _unit(units: dict, unit_id: str | None) -> str:
    if unit_id is None:
        return "—"
    unit = units.get(unit_id)
    return f"{unit['name']}({unit_id})" if unit else unit_id


def _d(date: dt.date | None) -> str:
    return date.isoformat() if date else "至今"


def _flags(rec: dict, keys: tuple[str, ...]) -> str:
    return " ".join(field(k) for k in keys if rec.get(k))


def _record_lines(doc: dict, units: dict) -> dict[str, list[str]]:
    posts = [f"{_d(p['start'])} {'至 ' + _d(p['end']) if p.get('end') else '至今'}  {p['title']}  {_unit(units, p['unit'])}  "
             f"{value('rank', p['rank'])}  "
             f"{_flags(p, ('principal', 'leadership', 'middle_level', 'grassroots'))}".rstrip()
             + (f"  试用期至 {_d(p['probation_end'])}" if p.get("probation_end") else "")
             for p in doc["posts"]]
    appraisals = [f"{a['year']}年度  {value('grade', a['grade'])}  (确定于 {_d(a['date'])})"
                  for a in doc["appraisals"]]
    reviews = []
    for r in doc["reviews"]:
        text = f"{_d(r['date'])}  不满意 {r['dissatisfied']}/{r['total']}"
        checks = [f"{value('stage', c['stage'])} {_d(c['date'])} {value('result', c['result'])}"
                  for c in r.get("rectification", ())]
        reviews.append(text + ("；整改：" + "，".join(checks) if checks else ""))
    return {
        "posts": posts,
        "appraisals": appraisals,
        "reviews": reviews,
        "nominations": [f"{_d(n['date'])}  拟任 {value('rank', n['target_rank'])}  "
                        f"{_unit(units, n['target_unit'])}" for n in doc["nominations"]],
        "polls": [f"{_d(p['date'])}  同意 {p['approve']}/{p['total']}" for p in doc["polls"]],
        "opinions": [f"{_d(o['date'])}  {value('department', o['department'])}  "
                     f"{'否定意见' if o['adverse'] else '无否定意见'}" for o in doc["opinions"]],
        "assessments": [f"{_d(a['date'])}  {value('assessment_kind', a['kind'])}  "
                        f"{'问题突出' if a['prominent_problems'] else '无突出问题'}"
                        for a in doc["assessments"]],
        # the record lists added later are shown when there are any, so earlier outputs stay as they were
        "educations": [f"{_d(x['date'])}  {value('mode', x['mode'])}  {value('education', x['level'])}"
                       + "".join(f"  {v}" for v in (value("degree", x["degree"]) if x.get("degree") else None,
                                                      x.get("school"), x.get("major")) if v)
                       for x in doc.get("educations", ())] or None,
        "sanctions": [f"{_d(s['date'])}  {value('sanction_kind', s['kind'])}"
                      + (f"（{s['years']}年）" if s.get("years") else "") + (f"  {s['note']}" if s.get("note") else "")
                      for s in doc.get("sanctions", ())] or None,
    }


def cadre_lines(doc: dict, units: dict) -> list[Line]:
    """Lines of ``policy facts show`` for one canonical cadre document."""
    lines: list[Line] = [[(f"{doc['name']}", "bold"), (f"  {doc['id']}", "dim")]]

    def row(key: str, text: str) -> None:
        lines.append([(f"  {field(key)}：", "cyan"), (text, None)])

    row("id", doc["id"])
    row("name", doc["name"])
    row("gender", value("gender", doc["gender"]))
    row("birth_date", doc["birth_date"].isoformat())
    row("party", value("party", doc["party"]))
    for key in ("ethnicity", "native_region"):
        if key in doc:
            row(key, doc[key])
    for key in ("education", "management", "reserve"):
        if key in doc:
            row(key, value(key, doc[key]))
    for key in ("party_joined", "party_full"):
        if key in doc:
            row(key, doc[key].isoformat())
    if "status" in doc:
        row("status", value("status", doc["status"]))
    if "recruitment" in doc:
        rec = doc["recruitment"]
        text = rec["date"].isoformat()
        if "unit" in rec:
            text += "  " + _unit(units, rec["unit"])
        if rec.get("fresh_graduate"):
            text += "  应届毕业生"
        row("recruitment", text)
    for key, items in _record_lines(doc, units).items():
        if items is None:
            continue
        lines.append([(f"{field(key)}", "bold magenta")])
        lines.extend([[("  ", None), (item, None)] for item in items] or [[("  （无）", "dim")]])
    return lines


def _pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - cell_len(text))


def list_line(doc: dict, units: dict, day: dt.date, unit: str | None = None) -> Line:
    """One line of ``policy facts list``: id, name, current post on ``day`` (in ``unit`` if given), unit, rank."""
    post = current_post(doc["posts"], day, unit)
    title = post["title"] if post else "（无现职）"
    where = _unit(units, post["unit"]) if post else "—"
    rank = value("rank", post["rank"]) if post else "—"
    return [(_pad(doc["id"], 10), "dim"), ("  ", None), (_pad(doc["name"], 8), "bold"), ("  ", None),
            (_pad(title, 16), None), ("  ", None), (_pad(where, 24), "cyan"), ("  ", None),
            (rank, None)]
