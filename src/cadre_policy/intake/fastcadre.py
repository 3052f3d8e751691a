"""A cadre's JSON text straight to the store's rows, in one pass with the checks, for a clean record.

The old way (:mod:`.streaming`) decodes a record with the standard library, checks it against
the schema, walks its text, runs the per-cadre checks, builds its canonical form and then the
rows: ≈ 200 µs of CPU a cadre against ≈ 30 µs for the database's insert. Here the text is
checked by one regular expression (:func:`.typed.fast_text`), decoded into typed structs that
hold the schema (:mod:`.typed`), and the rows are built while the per-cadre checks of
:meth:`.importer._Checker.check_cadre` are asked as yes/no questions. Anything unusual (a
record the decoder refuses, a key written twice, any check that might fail) makes
:meth:`FastCadres.add` answer None, and the record is read and checked the old way, which
finds the words: the fast path never decides what the old one would refuse.

The rows are those of :func:`cadre_policy.store.fact_store._cadre_rows` of the canonical form
(record lists sorted by their key, stably; an appraisal's date defaults to 31 December), as
tuples in the tables' column order with dates as ISO text (:class:`~cadre_policy.store.rows.Rows`).
"""
from __future__ import annotations

import datetime as dt
from operator import attrgetter

import msgspec

from cadre_policy.record.canonical import highest_education
from cadre_policy.store import models
from cadre_policy.store.rows import Rows

_CADRE = attrgetter("id", "name", "gender", "birth_date", "work_start", "party", "party_joined", "party_full",
                    "status", "ethnicity", "education", "native_region", "management", "reserve")
_LISTS = attrgetter("recruitment", "posts", "appraisals", "reviews", "nominations", "polls", "opinions",
                    "assessments", "educations", "sanctions")
_POST = attrgetter("unit", "title", "rank", "principal", "leadership", "middle_level", "grassroots", "start", "end",
                   "probation_end")
_RECRUITMENT = attrgetter("date", "fresh_graduate", "unit")
_APPRAISAL = attrgetter("year", "grade", "date")
_REVIEW = attrgetter("date", "total", "dissatisfied", "rectification")
_RECTIFICATION = attrgetter("stage", "date", "result")
_NOMINATION = attrgetter("date", "target_rank", "target_unit", "exceptional")
_POLL = attrgetter("date", "approve", "total")
_OPINION = attrgetter("department", "date", "adverse")
_ASSESSMENT = attrgetter("date", "kind", "prominent_problems")
_EDUCATION = attrgetter("level", "degree", "mode", "school", "major", "date")
_SANCTION = attrgetter("date", "kind", "years", "note")
_BY_DATE = attrgetter("date")
_STAGES = {"three_month": 0, "six_month": 1}
_CADRE_KEYS = 14 + 10           # the fields of _CADRE and _LISTS: every key of a cadre
_COLUMNS = {
    models.cadres: ("id", "name", "gender", "birth_date", "work_start", "party", "party_joined", "party_full",
                    "status", "ethnicity", "education", "native_region", "management", "reserve", "recruitment_date",
                    "recruitment_fresh_graduate", "recruitment_unit"),
    models.posts: ("cadre_id", "seq", "unit_id", "title", "rank", "principal", "leadership", "middle_level",
                   "grassroots", "start_date", "end_date", "probation_end"),
    models.appraisals: ("cadre_id", "seq", "year", "grade", "date"),
    models.reviews: ("cadre_id", "seq", "date", "total", "dissatisfied"),
    models.rectifications: ("cadre_id", "review_seq", "seq", "stage", "date", "result"),
    models.nominations: ("cadre_id", "seq", "date", "target_rank", "target_unit", "exceptional"),
    models.polls: ("cadre_id", "seq", "date", "approve", "total"),
    models.opinions: ("cadre_id", "seq", "department", "date", "adverse"),
    models.assessments: ("cadre_id", "seq", "date", "kind", "prominent_problems"),
    models.educations: ("cadre_id", "seq", "level", "degree", "mode", "school", "major", "date"),
    models.sanctions: ("cadre_id", "seq", "date", "kind", "years", "note"),
}
# the tuples below are laid out in these orders: a change of the tables must show here
assert all(tuple(c.key for c in table.columns) == keys for table, keys in _COLUMNS.items()), "store columns moved"


class _Refused(Exception):
    """The record needs the old way."""


def _iso(day):
    return None if day is None else day.isoformat()


def _once(values) -> None:
    """Refuse values that repeat (a check of the old way reports a duplicate)."""
    if len(set(values)) != len(values):
        raise _Refused


class FastCadres:
    """Decode, check and lay out cadres (see the module docstring) into :attr:`rows`."""

    def __init__(self, decoder: msgspec.json.Decoder, fast_text):
        self.decode, self.fast_text = decoder.decode, fast_text
        self.rows = Rows()

    def add(self, source: str):
        """Lay out the cadre of JSON text ``source``; its (id, unit ids it names) when it is
        clean, else None (nothing laid out)."""
        if not self.fast_text(source):
            return None
        try:
            cadre = self.decode(source)
        except msgspec.MsgspecError:
            return None
        rows = self.rows
        marks = rows.mark()
        try:
            units = self._lay_out(cadre, source.count('":'))
        except _Refused:
            rows.undo(marks)
            return None
        rows.sources.append(source)
        return cadre.id, units

    def _lay_out(self, c, keys: int):
        t = rows = self.rows
        head = _CADRE(c)
        lists = _LISTS(c)
        keys -= _CADRE_KEYS - head.count(None) - lists.count(None)
        cid, birth, work_start, party_joined, party_full, education = head[0], head[3], head[4], head[6], head[7], \
            head[10]
        if (work_start is not None and work_start < birth) or (party_joined is not None and party_joined < birth) \
                or (party_full is not None and party_joined is not None and party_full < party_joined):
            raise _Refused
        recruitment, posts, appraisals, reviews, nominations, polls, opinions, assessments, educations, sanctions \
            = lists
        units = []
        if recruitment is not None:
            r = _RECRUITMENT(recruitment)
            keys -= 3 - r.count(None)
            if r[2] is not None:
                units.append(r[2])
            r = (r[0].isoformat(), r[1], r[2])
        else:
            r = (None, None, None)
        if educations:
            given = education
            educations = sorted(educations, key=_BY_DATE) if len(educations) > 1 else educations
            highest = highest_education([{"level": e.level} for e in educations])
            if given is None:
                head = head[:10] + (highest,) + head[11:]
            elif highest is not None and highest != given:
                raise _Refused
        t = rows.tables
        t[models.cadres].append(head[:3] + (birth.isoformat(), _iso(work_start), head[5], _iso(party_joined),
                                            _iso(party_full)) + head[8:] + r)
        if posts:
            out = t[models.posts]
            for seq, p in enumerate(sorted(posts, key=attrgetter("start")) if len(posts) > 1 else posts):
                v = _POST(p)
                keys -= 10 - v.count(None)
                start, end, probation_end = v[7], v[8], v[9]
                if start < birth or (end is not None and end < start) \
                        or (probation_end is not None and probation_end < start):
                    raise _Refused
                units.append(v[0])
                out.append((cid, seq) + v[:7] + (start.isoformat(), _iso(end), _iso(probation_end)))
        if appraisals:
            out = t[models.appraisals]
            years, days = [], []
            for seq, a in enumerate(sorted(appraisals, key=attrgetter("year")) if len(appraisals) > 1 else appraisals):
                year, grade, day = v = _APPRAISAL(a)
                keys -= 3 - v.count(None)
                if day is None:
                    day = dt.date(year, 12, 31)
                elif day.year < year:
                    raise _Refused
                years.append(year)
                days.append(day)
                out.append((cid, seq, year, grade, day.isoformat()))
            _once(years)
            _once(days)
        if reviews:
            out, checks = t[models.reviews], t[models.rectifications]
            days = []
            for seq, r in enumerate(sorted(reviews, key=_BY_DATE) if len(reviews) > 1 else reviews):
                day, total, dissatisfied, rectification = v = _REVIEW(r)
                keys -= 4 - v.count(None)
                if dissatisfied > total:
                    raise _Refused
                days.append(day)
                out.append((cid, seq, day.isoformat(), total, dissatisfied))
                if rectification:
                    done = [_RECTIFICATION(x) for x in rectification]
                    keys -= 3 * len(done)
                    _once([x[0] for x in done])
                    if any(x[1] < day for x in done):
                        raise _Refused
                    done.sort(key=lambda x: (x[1], _STAGES[x[0]]))
                    checks.extend((cid, seq, n, x[0], x[1].isoformat(), x[2]) for n, x in enumerate(done))
            _once(days)
        if nominations:
            out = t[models.nominations]
            days = []
            for seq, n in enumerate(sorted(nominations, key=_BY_DATE) if len(nominations) > 1 else nominations):
                day, rank, unit, exceptional = v = _NOMINATION(n)
                keys -= 4 - v.count(None)
                days.append(day)
                units.append(unit)
                out.append((cid, seq, day.isoformat(), rank, unit, bool(exceptional)))
            _once(days)
        if polls:
            out = t[models.polls]
            days = []
            for seq, p in enumerate(sorted(polls, key=_BY_DATE) if len(polls) > 1 else polls):
                day, approve, total = _POLL(p)
                keys -= 3
                if approve > total:
                    raise _Refused
                days.append(day)
                out.append((cid, seq, day.isoformat(), approve, total))
            _once(days)
        if opinions:
            out = t[models.opinions]
            for seq, o in enumerate(sorted(opinions, key=_BY_DATE) if len(opinions) > 1 else opinions):
                department, day, adverse = _OPINION(o)
                keys -= 3
                out.append((cid, seq, department, day.isoformat(), adverse))
        if assessments:
            out = t[models.assessments]
            for seq, a in enumerate(sorted(assessments, key=_BY_DATE) if len(assessments) > 1 else assessments):
                day, kind, problems = _ASSESSMENT(a)
                keys -= 3
                out.append((cid, seq, day.isoformat(), kind, problems))
        if educations:
            out = t[models.educations]
            for seq, e in enumerate(educations):
                v = _EDUCATION(e)
                keys -= 6 - v.count(None)
                out.append((cid, seq) + v[:5] + (v[5].isoformat(),))
        if sanctions:
            out = t[models.sanctions]
            for seq, s in enumerate(sorted(sanctions, key=_BY_DATE) if len(sanctions) > 1 else sanctions):
                day, kind, years, note = v = _SANCTION(s)
                keys -= 4 - v.count(None)
                if (kind == "party_probation") != (years is not None):
                    raise _Refused
                out.append((cid, seq, day.isoformat(), kind, years, note))
        if keys:                        # a key written twice (msgspec keeps the last one)
            raise _Refused
        return units
