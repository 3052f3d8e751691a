"""A cadre's 简历 (the résumé of a 干部任免审批表) read into posts, with every reading shown.

One line per period, as departments write them::

    1998.07--2001.03  西陵区西陵街道科员
    2001.03-2005.06   西陵区西陵街道副主任
    2005.06—          西陵区教育局局长

A period's dates are months, read by the rule of 出生年月 (the 1st); a period ends the day
before its end month begins, so the next period follows without a gap or an overlap; an open
end (``1998.07—`` or ``至今``) is the current post. The text after the dates is a unit's name
followed by a title: the longest title of the title table that ends it, the rest the unit,
matched to the store's units by name (exactly, then without spaces and with its region,
then a did-you-mean). Every uncertainty is an issue on its line: an unknown unit or title,
periods out of order or overlapping, a line that is not a period. Nothing is written while
there is one.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cadre_policy import data
from cadre_policy.i18n import _
from cadre_policy.parse.issues import ImportRejected, Issue

_MONTH = r"(\d{4})\s*[.．/年-]\s*(\d{1,2})\s*月?"
_LINE = re.compile(rf"^\s*{_MONTH}\s*(?:--|—+|–|-|～|~|至)\s*(?:{_MONTH}|至今|今)?\s*(.*?)\s*$")


@dataclass
class Reading:
    """One line of a 简历 and what it was read as."""

    line: int
    text: str
    start: dt.date | None = None
    end: dt.date | None = None
    unit: str | None = None          # the unit id
    unit_name: str = ""
    title: str = ""
    post: dict | None = None
    problems: list[str] = field(default_factory=list)


def titles(path: str | None = None) -> dict[str, dict]:
    """The title table (``data/resume_titles.yaml``, or a department's own file)."""
    source = Path(path) if path else data.ROOT / "resume_titles.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))["titles"]


def _month(year: str, month: str) -> dt.date | None:
    year_n, month_n = int(year), int(month)
    return dt.date(year_n, month_n, 1) if 1 <= month_n <= 12 and 1900 <= year_n <= 2999 else None


def _unit(name: str, units: dict) -> tuple[str | None, str | None]:
    """(unit id, problem) of a unit's name among the store's units."""
    compact = re.sub(r"\s+", "", name)
    for uid, unit in units.items():
        if unit["name"] == name or unit["name"] == compact:
            return uid, None
    for uid, unit in units.items():      # the name written with its region before it (西陵区 + 西陵街道)
        if unit.get("region") and compact == unit["region"] + unit["name"]:
            return uid, None
    names = [u["name"] for u in units.values()]
    close = difflib.get_close_matches(compact, names, n=1, cutoff=0.6)
    hint = _(" (did you mean '{name}'?)").format(name=close[0]) if close else ""
    return None, _("unknown unit '{name}'{hint}").format(name=compact, hint=hint)


def read_resume(text: str, units: dict, table: dict) -> list[Reading]:
    """Every non-empty line of a 简历, read (see the module docstring)."""
    readings = []
    by_length = sorted(table, key=len, reverse=True)
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        reading = Reading(number, raw.strip())
        readings.append(reading)
        match = _LINE.match(raw)
        if not match:
            reading.problems.append(_("not a period (1998.07--2001.03 ××单位××职务)"))
            continue
        reading.start = _month(match.group(1), match.group(2))
        if match.group(3):
            first_of_end = _month(match.group(3), match.group(4))
            reading.end = first_of_end - dt.timedelta(days=1) if first_of_end else None
            if first_of_end is None:
                reading.problems.append(_("the end month is not a month"))
        if reading.start is None:
            reading.problems.append(_("the start month is not a month"))
        rest = match.group(5)
        title = next((t for t in by_length if rest.endswith(t)), None)
        if title is None:
            reading.problems.append(_("unknown title in '{text}' (add it to the title table)").format(text=rest))
            continue
        reading.title, reading.unit_name = title, rest[: -len(title)].strip()
        reading.unit, problem = _unit(reading.unit_name, units)
        if problem:
            reading.problems.append(problem)
            continue
        if reading.start and reading.end is not None and reading.end < reading.start:
            reading.problems.append(_("the period ends before it starts"))
            continue
        post = {"unit": reading.unit, "title": title, **{k: table[title][k] for k in ("rank", "principal", "leadership")},
                "start": reading.start}
        if reading.end is not None:
            post["end"] = reading.end
        reading.post = post
    _order(readings)
    return readings


def _order(readings: list[Reading]) -> None:
    """Periods out of order or overlapping an earlier line: a problem on the later line."""
    earlier: list[Reading] = []
    for reading in readings:
        if reading.start is None:
            continue
        if earlier and reading.start < earlier[-1].start:
            reading.problems.append(_("out of order: starts before line {line}").format(line=earlier[-1].line))
        for other in earlier:
            ends_after = reading.end is None or reading.end >= other.start
            if ends_after and (other.end is None or reading.start <= other.end):
                reading.problems.append(_("overlaps line {line}").format(line=other.line))
        earlier.append(reading)


def issues(file: str, readings: list[Reading]) -> list[Issue]:
    """Every problem of the readings, each on its line."""
    return [Issue(file, r.line, 1, "简历", problem) for r in readings for problem in r.problems]



def import_resume(store, file: str, cadre_id: str, table: dict, check: bool) -> list[Reading]:
    """Read ``file`` as the 简历 of ``cadre_id``; unless ``check``, replace the cadre's posts with it.

    Raises:
        ImportRejected: any line has a problem, or the cadre is not in the store (nothing written).
    """
    from cadre_policy.record.canonical import canonical_cadre
    text = Path(file).read_text(encoding="utf-8-sig")
    doc = store.cadre(cadre_id)
    if doc is None:
        raise ImportRejected([Issue(file, 0, 0, "", _("unknown cadre id '{id}'").format(id=cadre_id))])
    readings = read_resume(text, store.units(), table)
    for reading in readings:
        if reading.start and doc.get("birth_date") and reading.start < doc["birth_date"]:
            reading.problems.append(_("starts before the birth date {date}").format(date=doc["birth_date"]))
    found = issues(file, readings)
    if check:
        return readings
    if found:
        raise ImportRejected(found)
    if not readings:
        raise ImportRejected([Issue(file, 0, 0, "", _("the 简历 has no period"))])
    store.upsert([], [canonical_cadre(dict(doc, posts=[r.post for r in readings]))])
    return readings


#: The columns of a sheet of 简历: the cadre, and the 简历 itself (one cell, a line a period).
SHEET_COLUMNS = ("干部编号", "简历")


def sheet_resumes(path: str) -> tuple[list[tuple[str, str, str]], list[Issue]]:
    """(cadre id, the cell's place, the 简历 text) of each row of a sheet (XLSX: the first sheet;
    CSV) with the columns 干部编号 and 简历; the problems of its layout."""
    from openpyxl.utils import get_column_letter

    from cadre_policy.intake.sheets.sources import _csv_rows, _openpyxl_book
    if path.lower().endswith(".csv"):
        name, rows = Path(path).stem, _csv_rows(path)
    else:
        names, read, close = _openpyxl_book(path)
        name, rows = names[0], list(read(names[0]))
        close()
    rows = iter(rows)
    header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
    missing = [c for c in SHEET_COLUMNS if c not in header]
    if missing:
        return [], [Issue(path, 0, 0, "", _("a sheet of 简历 has the columns {columns}; missing: {missing}").format(
            columns="、".join(SHEET_COLUMNS), missing="、".join(missing)), cell=f"{name}!1")]
    who, what = header.index(SHEET_COLUMNS[0]), header.index(SHEET_COLUMNS[1])
    found = []
    for number, row in enumerate(rows, 2):
        cells = list(row) + [None] * (len(header) - len(row))
        if cells[who] is None and cells[what] is None:
            continue
        found.append((str(cells[who] or "").strip(), f"{name}!{get_column_letter(what + 1)}{number}",
                      str(cells[what] or "")))
    return found, []


def import_resume_sheet(store, path: str, table: dict, check: bool) -> list[tuple[str, str, list[Reading]]]:
    """Every row's 简历 read (see :func:`import_resume`); unless ``check``, each cadre's posts replaced by
    it, all in one transaction and only when no line of any row has a problem.

    Raises:
        ImportRejected: a problem anywhere (each named ``FILE:SHEET!CELL`` and the line in the cell).
    """
    from cadre_policy.record.canonical import canonical_cadre
    rows, found = sheet_resumes(path)
    units = store.units()
    out, docs = [], []
    for cadre_id, cell, text in rows:
        doc = store.cadre(cadre_id) if cadre_id else None
        if doc is None:
            found.append(Issue(path, 0, 0, "", _("unknown cadre id '{id}'").format(id=cadre_id), cell=cell))
            continue
        readings = read_resume(text, units, table)
        for reading in readings:
            if reading.start and reading.start < doc["birth_date"]:
                reading.problems.append(_("starts before the birth date {date}").format(date=doc["birth_date"]))
            found += [Issue(path, 0, 0, _("line {line}").format(line=reading.line), problem, cell=cell)
                      for problem in reading.problems]
        if not readings:
            found.append(Issue(path, 0, 0, "", _("the 简历 has no period"), cell=cell))
        out.append((cadre_id, cell, readings))
        if all(r.post is not None for r in readings):
            docs.append(canonical_cadre(dict(doc, posts=[r.post for r in readings])))
    if check:
        return out
    if found:
        raise ImportRejected(found)
    store.upsert([], docs)
    return out
