"""``policy facts import``: validate import files completely, upsert in one transaction.

The checks: the JSON Schema (``data/schemas/facts.schema.json``, Draft 2020-12), then what a schema
cannot express (unknown unit ids, dates out of order, counts above their totals, duplicate
ids, control characters in text, dates outside the calendar range the program computes
with). Any problem rejects the whole import. YAML and JSON files are checked record by
record as they are read (:mod:`cadre_policy.intake.streaming`, with the functions here);
parsed documents (the workbench's posted facts) go through :func:`validate`, two passes
over every document; spreadsheets through its parts (:func:`document_issues`, :class:`_Checker`),
a round of cadres at a time (:mod:`cadre_policy.intake.sheets`).

Decided on purpose: an integer field takes an integer only, so JSON ``16.0`` is refused
(JSON Schema would accept it; a float where a count is due means the exporting program
lost track of the type), and ``yes``/``no`` are text, not booleans (see ``parse.limits``).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from cadre_policy.i18n import _, language
from cadre_policy.language.values import DATE_MAX, DATE_MIN

from cadre_policy.record.canonical import highest_education
from cadre_policy.intake.messages import schema_message
from cadre_policy.intake.vocabulary import normalise_document
from cadre_policy.parse.positioned import Document, read_document
from cadre_policy.parse.schemas import unknown_keys
from cadre_policy.parse.schemas import record_validator
from cadre_policy.parse.schemas import validator as schema_validator
from cadre_policy.intake.fastschema import Unsupported, compile_schema
from cadre_policy.parse.issues import Issue


#: C0 and C1 control characters and DEL; tab and line breaks included (no text field is
#: multi-line). PostgreSQL refuses NUL while SQLite and MariaDB store it: refuse them all here.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validator() -> Draft202012Validator:
    """The import-format validator (the one configuration of ``parse.schemas``)."""
    return schema_validator("facts")


def text_issues(doc: Document, path: tuple = (), value=None) -> list[Issue]:
    """Control characters in any key or text value, and dates outside DATE_MIN..DATE_MAX.

    Args:
        doc: The document (anything with ``issue(path, message)``).
        path: Where ``value`` lies in the document; ``()`` with ``value`` None means
            the whole of ``doc.data``.
        value: The value to walk (a record of a streamed file).
    """
    out: list[Issue] = []
    _walk_text(doc, doc.data if value is None and not path else value, list(path), out)
    return out


_LOW, _HIGH = DATE_MIN.isoformat(), DATE_MAX.isoformat()


def _walk_text(doc, value, path: list, out: list) -> None:
    if type(value) is dict:
        items = value.items()
        for key in value:
            if type(key) is str and _CONTROL.search(key):
                out.append(doc.issue(path, _("control character U+{value} in a key").format(
                    value=format(ord(_CONTROL.search(key)[0]), '04X'))))
    elif type(value) is list:
        items = enumerate(value)
    else:
        _text_issue(doc, value, path, out)
        return
    search = _CONTROL.search
    for key, item in items:
        kind = type(item)
        if kind is str:
            if search(item) or (len(item) == 10 and not _LOW <= item <= _HIGH):
                path.append(key)
                _text_issue(doc, item, path, out)
                path.pop()
        elif kind is dict or kind is list:
            path.append(key)
            _walk_text(doc, item, path, out)
            path.pop()


def _text_issue(doc, value, path: list, out: list) -> None:
    if type(value) is str:
        found = _CONTROL.search(value)
        if found:
            out.append(doc.issue(path, _("control character U+{value} in text").format(
                value=format(ord(found[0]), '04X'))))
        elif len(value) == 10 and not _LOW <= value <= _HIGH and _date(value):
            out.append(doc.issue(path, _("date {value} is outside {LOW}..{HIGH}").format(
                value=value, LOW=_LOW, HIGH=_HIGH)))


_ESCAPED = re.compile(r"[\\\x7f-\x9f]")
_YEAR = re.compile(r'"([0-9]{4})-')


def json_text_is_plain(source: str) -> bool:
    """True when the JSON text ``source`` surely holds no control character and no date outside
    DATE_MIN..DATE_MAX, so :func:`text_issues` would find nothing in it.

    Raw C0 characters cannot stand in JSON text, so a control character needs a backslash
    escape or a raw U+007F..U+009F; a date of ten characters outside the range has a year
    outside DATE_MIN's..DATE_MAX's (they are 1 January and 31 December).
    """
    if _ESCAPED.search(source):
        return False
    if (DATE_MIN.month, DATE_MIN.day, DATE_MAX.month, DATE_MAX.day) != (1, 1, 12, 31):
        return False
    low, high = DATE_MIN.year, DATE_MAX.year
    return all(low <= int(year) <= high for year in _YEAR.findall(source))


@cache
def fast_checks() -> dict:
    """``units`` / ``cadres`` -> the fast sound check of one such record (:mod:`.fastschema`);
    a check that always says no (jsonschema decides alone) if the schema outgrows it."""
    from cadre_policy import data
    schema = data.schema("facts")
    try:
        return {kind: compile_schema(schema, schema["properties"][kind]["items"]["$ref"]) for kind in RECORD_KINDS}
    except (Unsupported, KeyError):
        return {kind: (lambda value: False) for kind in RECORD_KINDS}


RECORD_KINDS = ("units", "cadres")


def document_schema_issues(doc, fast: dict | None = None) -> list[Issue]:
    """:func:`schema_issues` of a whole document, its records checked one at a time: the fast
    check first (``fast``, default :func:`fast_checks`), jsonschema (for the words) only on a
    record it refuses. The same issues as validating the document at once (the fast check is
    sound), at a small part of the cost."""
    data = doc.data
    if type(data) is not dict or not all(type(data.get(kind, [])) is list for kind in RECORD_KINDS):
        return schema_issues(doc)
    out = schema_issues(doc, value={key: ([] if key in RECORD_KINDS else value) for key, value in data.items()},
                        path=())
    fast = fast or fast_checks()
    for kind in RECORD_KINDS:
        check = fast[kind]
        for i, record in enumerate(data.get(kind, ())):
            if not check(record):
                out += schema_issues(doc, record_validator(kind), (kind, i), record)
    return out


def document_text_issues(doc) -> list[Issue]:
    """:func:`text_issues` of a whole document, a record at a time: a record whose JSON text
    :func:`json_text_is_plain` clears is not walked (``json.dumps`` escapes every C0 character
    with a backslash, which that check never clears)."""
    data = doc.data
    if type(data) is not dict:
        return text_issues(doc)
    out = text_issues(doc, (), {key: ([] if key in RECORD_KINDS and type(value) is list else value)
                                for key, value in data.items()})
    for kind in RECORD_KINDS:
        records = data.get(kind)
        for i, record in enumerate(records if type(records) is list else ()):
            try:
                plain = json_text_is_plain(json.dumps(record, ensure_ascii=False))
            except (TypeError, ValueError):     # a value JSON has no text for: walk it
                plain = False
            if not plain:
                out += text_issues(doc, (kind, i), record)
    return out


def schema_issues(doc: Document, checker=None, path: tuple = (), value=None) -> list[Issue]:
    """Return one issue per JSON Schema violation in ``doc`` (dates checked as calendar dates).

    Args:
        doc: The document (anything with ``data`` and ``issue(path, message, key=None)``).
        checker: The validator to use (the whole import format when None).
        path: Where ``value`` lies in the document (a streamed record: ``("cadres", 12)``).
        value: The value to validate (``doc.data`` when None and ``path`` is empty).
    """
    out = []
    instance = doc.data if value is None and not path else value
    for error in (checker or validator()).iter_errors(instance):
        if error.context:  # anyOf/oneOf: report the most relevant branch
            error = best_match(error.context)
        where = list(path) + list(error.absolute_path)
        unknown = unknown_keys(error)
        if unknown is not None:
            out += [doc.issue(where, _("unknown field '{key}'").format(key=key), key=str(key)) for key in unknown[0]]
            continue
        out.append(doc.issue(where, schema_message(error)))
    return list(dict.fromkeys(out))          # a bad date breaks its format and its pattern: said once


def _items(container, key: str) -> list[tuple[int, dict]]:
    """(index, item) of the mappings in ``container[key]``; tolerant of schema-invalid input."""
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


class _Checker:
    """Cross-record checks over all files of one import.

    They run on schema-invalid input too (every value is type-checked before use),
    so one import run reports every problem at once.
    """

    def __init__(self, store_units: Iterable[str]):
        self.store_units = set(store_units)
        self.units: dict[str, tuple[Document, int]] = {}
        self.cadres: dict[str, tuple[Document, int]] = {}
        self.issues: list[Issue] = []

    def _where(self, seen: tuple[Document, int], kind: str) -> str:
        doc, index = seen
        return doc.where([kind, index])

    def _unit_known(self, doc: Document, path: list, record: dict, key: str) -> None:
        unit_id = _str(record.get(key))
        if unit_id is not None and unit_id not in self.units and unit_id not in self.store_units:
            self.unknown_unit(doc, path + [key], unit_id)

    def unknown_unit(self, doc, path: list, unit_id: str) -> None:
        """A reference to a unit neither imported nor in the store (so far)."""
        self.issues.append(doc.issue(path, _("unknown unit id '{unit_id}'").format(unit_id=unit_id)))

    def collect_ids(self, doc: Document) -> None:
        """First pass: register unit and cadre ids, reporting duplicates."""
        for kind, table in (("units", self.units), ("cadres", self.cadres)):
            for i, item in _items(doc.data, kind):
                ident = _str(item.get("id"))
                if ident is None:
                    continue
                if ident in table:
                    self.issues.append(doc.issue(
                        [kind, i, "id"], _("duplicate {value} id '{ident}' (first at {where})").format(
                            value=kind[:-1] if language() == "en" else _(kind), ident=ident, where=self._where(table[ident], kind))))
                else:
                    table[ident] = (doc, i)

    def check_units(self, doc: Document) -> None:
        """Parents must exist and must not form a cycle."""
        for i, unit in _items(doc.data, "units"):
            self._unit_known(doc, ["units", i], unit, "parent")
            ident = _str(unit.get("id"))
            if ident is None or self.units.get(ident) != (doc, i):
                continue
            seen, cur = {ident}, _str(unit.get("parent"))
            while cur is not None and cur in self.units:
                if cur in seen:
                    self.issues.append(doc.issue(["units", i, "parent"],
                                                 _("unit '{ident}' is its own ancestor (parent cycle)").format(
                                                     ident=ident)))
                    break
                seen.add(cur)
                pdoc, pi = self.units[cur]
                cur = _str(pdoc.data["units"][pi].get("parent"))

    def check_cadres(self, doc: Document) -> None:
        """Checks inside each cadre: references, date order, counts against totals."""
        for i, c in _items(doc.data, "cadres"):
            self.check_cadre(doc, i, c)

    def check_cadre(self, doc, i: int, c: dict) -> None:
        """The checks inside cadre ``i`` of ``doc``."""
        add = self.issues.append
        base = ["cadres", i]
        birth = _date(c.get("birth_date"))
        work_start = _date(c.get("work_start"))
        if work_start and birth and work_start < birth:
            add(doc.issue(base + ["work_start"], _("work_start {work_start} is before birth_date {birth}").format(
                work_start=work_start, birth=birth)))
        party_joined, party_full = _date(c.get("party_joined")), _date(c.get("party_full"))
        if party_joined and birth and party_joined < birth:
            add(doc.issue(base + ["party_joined"], _("party_joined {party_joined} is before birth_date {birth}").format(
                party_joined=party_joined, birth=birth)))
        if party_joined and party_full and party_full < party_joined:
            add(doc.issue(base + ["party_full"], _("party_full {party_full} is before party_joined {party_joined}").format(
                party_full=party_full, party_joined=party_joined)))
        self._check_educations(doc, base, c)
        self._check_sanctions(doc, base, c)
        if isinstance(c.get("recruitment"), dict):
            self._unit_known(doc, base + ["recruitment"], c["recruitment"], "unit")
        for j, p in _items(c, "posts"):
            path = base + ["posts", j]
            self._unit_known(doc, path, p, "unit")
            start, end = _date(p.get("start")), _date(p.get("end"))
            if start and end and end < start:
                add(doc.issue(path + ["end"], _("end {end} is before start {start}").format(end=end, start=start)))
            if start and birth and start < birth:
                add(doc.issue(path + ["start"], _("start {start} is before birth_date {birth}").format(
                    start=start, birth=birth)))
            probation_end = _date(p.get("probation_end"))
            if start and probation_end and probation_end < start:
                add(doc.issue(path + ["probation_end"], _("probation_end {probation_end} is before start {start}").format(
                    probation_end=probation_end, start=start)))
        years: dict[int, int] = {}
        confirmed: dict[dt.date, int] = {}
        for j, a in _items(c, "appraisals"):
            path = base + ["appraisals", j]
            year, date = _int(a.get("year")), _date(a.get("date"))
            if year is None:
                continue
            _once(years, year, j, lambda first: add(doc.issue(
                path + ["year"], _("duplicate appraisal year {year} (also appraisals[{first}])").format(
                    year=year, first=first))))
            # the date a result counts from (31 Dec of its year when not given): two on one date
            # would make "the latest appraisal" depend on list order, as for reviews below
            effective = date or (dt.date(year, 12, 31) if 1 <= year <= 9999 else None)
            _once(confirmed, effective, j, lambda first: add(doc.issue(
                path + (["date"] if date else ["year"]),
                _("two appraisals confirmed on {effective} (also appraisals[{first}]): which is the latest would depend on list order").format(
                    effective=effective, first=first))))
            if date and 1 <= year <= 9999 and date < dt.date(year, 1, 1):
                add(doc.issue(path + ["date"], _("date {date} is before the appraisal year {year}").format(
                    date=date, year=year)))
        review_dates: dict[dt.date, int] = {}
        for j, r in _items(c, "reviews"):
            path = base + ["reviews", j]
            review_date = _date(r.get("date"))
            # two on one date: which is "the latest review" would depend on list order
            _once(review_dates, review_date, j, lambda first: add(doc.issue(
                path + ["date"], _("duplicate review date {review_date} (also reviews[{first}])").format(
                    review_date=review_date, first=first))))
            total, dissatisfied = _int(r.get("total")), _int(r.get("dissatisfied"))
            if total is not None and dissatisfied is not None and dissatisfied > total:
                add(doc.issue(path + ["dissatisfied"],
                              _("dissatisfied {dissatisfied} is greater than total {total}").format(
                                  dissatisfied=dissatisfied, total=total)))
            stages: dict[str, int] = {}
            for k, rc in _items(r, "rectification"):
                rpath = path + ["rectification", k]
                stage = _str(rc.get("stage"))
                _once(stages, stage, k, lambda first: add(doc.issue(
                    rpath + ["stage"], _("duplicate rectification stage '{stage}' (also rectification[{first}])").format(
                        stage=stage, first=first))))
                date = _date(rc.get("date"))
                if date and review_date and date < review_date:
                    add(doc.issue(rpath + ["date"],
                                  _("date {date} is before the review date {review_date}").format(
                                      date=date, review_date=review_date)))
        nominated: dict[dt.date, int] = {}
        for j, n in _items(c, "nominations"):
            self._unit_known(doc, base + ["nominations", j], n, "target_unit")
            day = _date(n.get("date"))       # the open nomination is the latest: one a day
            _once(nominated, day, j, lambda first: add(doc.issue(
                base + ["nominations", j, "date"], _("two nominations on {day} (also nominations[{first}]): which is open would depend on list order").format(
                    day=day, first=first))))
        polled: dict[dt.date, int] = {}
        for j, p in _items(c, "polls"):
            day = _date(p.get("date"))       # "the latest poll" decides P004-4: one a day
            _once(polled, day, j, lambda first: add(doc.issue(
                base + ["polls", j, "date"], _("two polls on {day} (also polls[{first}]): which is the latest would depend on list order").format(
                    day=day, first=first))))
            approve, total = _int(p.get("approve")), _int(p.get("total"))
            if approve is not None and total is not None and approve > total:
                add(doc.issue(base + ["polls", j, "approve"],
                              _("approve {approve} is greater than total {total}").format(
                                  approve=approve, total=total)))


    def _check_educations(self, doc, base: list, c: dict) -> None:
        """``education`` given beside education records must be their highest level."""
        records = [e for _index, e in _items(c, "educations")]
        given = _str(c.get("education"))
        if not records or given is None:
            return
        highest = highest_education(records)
        if highest is not None and highest != given:
            self.issues.append(doc.issue(base + ["education"], _("education '{given}' is not the highest level of the education records ('{highest}')").format(
                given=given, highest=highest)))

    def _check_sanctions(self, doc, base: list, c: dict) -> None:
        """留党察看 needs its one or two years; no other kind has years."""
        for j, s in _items(c, "sanctions"):
            kind, years = s.get("kind"), s.get("years")
            if kind == "party_probation" and years is None:
                self.issues.append(doc.issue(base + ["sanctions", j], _("years (1 or 2) is required for party_probation 留党察看")))
            elif kind != "party_probation" and years is not None and isinstance(kind, str):
                self.issues.append(doc.issue(base + ["sanctions", j, "years"],
                                             _("years is for party_probation 留党察看 only, not {kind}").format(kind=kind)))


def _once(seen: dict, key, index: int, report) -> None:
    """Keep the first index of ``key``; call ``report(first index)`` for a later duplicate."""
    if key is None:
        return
    if key in seen:
        report(seen[key])
    else:
        seen[key] = index


def document_issues(doc) -> list[Issue]:
    """The issues of one parsed document on its own (enumerated values, schema, text); the
    cross-record checks are :class:`_Checker`'s. A record the fast check passes has codes and
    fits the schema: it is checked once for both (normalising and the schema check each ran it)."""
    passed: set[int] = set()         # ids of records of doc.data, all alive during the call

    def once(check):
        def checked(record) -> bool:
            if id(record) in passed:
                return True
            if check(record):
                passed.add(id(record))
                return True
            return False
        return checked
    fast = {kind: once(check) for kind, check in fast_checks().items()}
    return normalise_document(doc, fast) + document_schema_issues(doc, fast) + document_text_issues(doc)


def validate(docs: list[Document], store_units: Iterable[str]) -> list[Issue]:
    """Return every schema and cross-record issue of the parsed documents.

    A document is anything with ``file``, ``data`` (the import format, dates as ISO
    text), ``issue(path, message, key=None)`` and ``where(path)``: a YAML/JSON
    :class:`Document`, or a workbook read by :mod:`cadre_policy.intake.sheets`, whose
    issues name the sheet and cell of the value.
    """
    issues: list[Issue] = []
    checker = _Checker(store_units)
    for doc in docs:
        issues.extend(document_issues(doc))
        checker.collect_ids(doc)
    for doc in docs:
        checker.check_units(doc)
        checker.check_cadres(doc)
    return issues + checker.issues


def read_files(files: list[str]) -> tuple[list[Document], list[Issue]]:
    """Parse every file; return the documents and the reading issues."""
    docs, issues = [], []
    for file in files:
        doc, found = read_document(file)
        issues.extend(found)
        if doc is not None:
            docs.append(doc)
    return docs, issues
