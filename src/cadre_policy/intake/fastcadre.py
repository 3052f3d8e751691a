"""A cadre's JSON text straight to the store's rows, in one pass with the checks, for a clean record.

The old way (:mod:`.streaming`) decodes a record with the standard library, checks it against
the schema, walks its text, runs the per-cadre checks, builds its canonical form and then the
rows: ≈ 200 µs of CPU a cadre against ≈ 30 µs for the database's insert. Here the text is
checked by substring searches (:func:`.typed.fast_text`), decoded into typed structs that
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

from cadre_policy.language import record_table
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
_BY_START = attrgetter("start")
_BY_YEAR = attrgetter("year")
_STAGES = {"three_month": 0, "six_month": 1}
_LEVEL = {level: n for n, level in enumerate(record_table.enums()["education"])}   # lowest first
_CADRE_KEYS = 14 + 10           # the fields of _CADRE and _LISTS: every key of a cadre


def _in_order(records: list, key) -> list:
    """``records`` sorted by ``key``, stably, as the canonical form sorts them."""
    return sorted(records, key=key) if len(records) > 1 else records


def _by_stage(check: tuple):
    """A rectification's order (canonical.py): by date, then three months before six."""
    return check[1], _STAGES[check[0]]


class _Refused(Exception):
    """The record needs the old way."""


class FastCadres:
    """Decode, check and lay out cadres (see the module docstring) into :attr:`rows`."""

    def __init__(self, decoder: msgspec.json.Decoder, fast_text):
        self.decode, self.fast_text = decoder.decode, fast_text
        #: Whether the rows keep each cadre's text (not needed when the store has no cadre).
        self.sources = True
        self.rows = Rows()

    def add(self, source: str):
        """Lay out the cadre of JSON text ``source``; its (id, unit ids it names) when it is
        clean, else None (nothing laid out)."""
        text = source.encode()
        if not self.fast_text(text):
            return None
        try:
            cadre = self.decode(text)
        except msgspec.MsgspecError:
            return None
        rows = self.rows
        try:
            units = _lay_out(cadre, source.count('":'), rows.lists)
        except _Refused:
            rows.drop(cadre.id)
            return None
        if rows.sources is not None:
            rows.sources.append(source)
        return cadre.id, units


_ISO = dt.date.isoformat


def _lay_out(c, keys: int, lists: tuple) -> list[str]:
    """Append the rows of cadre ``c`` to ``lists`` (:attr:`Rows.lists`, laid out as
    :data:`~cadre_policy.store.rows.COLUMNS` says); return the unit ids it names. ``keys``: the
    keys of its text, to be matched by the fields given."""
    cadres, posts_out, appraisals_out, reviews_out, checks_out, nominations_out, polls_out, opinions_out, \
        assessments_out, educations_out, sanctions_out = lists
    head = _CADRE(c)
    recruitment, posts, appraisals, reviews, nominations, polls, opinions, assessments, educations, sanctions \
        = more = _LISTS(c)
    keys -= _CADRE_KEYS - head.count(None) - more.count(None)
    cid, birth, work_start, party_joined, party_full = head[0], head[3], head[4], head[6], head[7]
    if (work_start is not None and work_start < birth) or (party_joined is not None and party_joined < birth) \
            or (party_full is not None and party_joined is not None and party_full < party_joined):
        raise _Refused
    units = []
    if recruitment is not None:
        day, fresh, unit = _RECRUITMENT(recruitment)
        keys -= 1 + (fresh is not None) + (unit is not None)
        if unit is not None:
            units.append(unit)
        tail = (_ISO(day), fresh, unit)
    else:
        tail = (None, None, None)
    if educations:
        if len(educations) > 1:
            educations = sorted(educations, key=_BY_DATE)
            highest = max([e.level for e in educations], key=_LEVEL.__getitem__)
        else:
            highest = educations[0].level
        if head[10] is None:
            head = head[:10] + (highest,) + head[11:]
        elif highest != head[10]:
            raise _Refused
    cadres.append(head[:3] + (_ISO(birth), work_start and _ISO(work_start), head[5],
                              party_joined and _ISO(party_joined), party_full and _ISO(party_full)) + head[8:] + tail)
    if posts:
        seq = 0
        for p in _in_order(posts, _BY_START):
            v = _POST(p)
            keys -= 10 - v.count(None)
            start, end, probation_end = v[7], v[8], v[9]
            if start < birth or (end is not None and end < start) \
                    or (probation_end is not None and probation_end < start):
                raise _Refused
            units.append(v[0])
            posts_out.append((cid, seq) + v[:7] + (_ISO(start), end and _ISO(end),
                                                   probation_end and _ISO(probation_end)))
            seq += 1
    if appraisals:
        days = set()
        seq = 0
        for a in _in_order(appraisals, _BY_YEAR):
            year, grade, day = _APPRAISAL(a)
            if day is None:
                keys -= 2
                day = dt.date(year, 12, 31)
            else:
                keys -= 3
                if day.year < year:
                    raise _Refused
            days.add(day)
            appraisals_out.append((cid, seq, year, grade, _ISO(day)))
            seq += 1
        if len(days) != seq or len({a.year for a in appraisals}) != seq:
            raise _Refused
    if reviews:
        days = set()
        seq = 0
        for r in _in_order(reviews, _BY_DATE):
            day, total, dissatisfied, rectification = v = _REVIEW(r)
            keys -= 4 - v.count(None)
            if dissatisfied > total:
                raise _Refused
            days.add(day)
            reviews_out.append((cid, seq, _ISO(day), total, dissatisfied))
            if rectification:
                done = [_RECTIFICATION(x) for x in rectification]
                keys -= 3 * len(done)
                if len({x[0] for x in done}) != len(done) or any(x[1] < day for x in done):
                    raise _Refused
                done.sort(key=_by_stage)
                checks_out.extend((cid, seq, n, x[0], _ISO(x[1]), x[2]) for n, x in enumerate(done))
            seq += 1
        if len(days) != seq:
            raise _Refused
    if nominations:
        days = set()
        seq = 0
        for n in _in_order(nominations, _BY_DATE):
            day, rank, unit, exceptional = _NOMINATION(n)
            keys -= 3 + (exceptional is not None)
            days.add(day)
            units.append(unit)
            nominations_out.append((cid, seq, _ISO(day), rank, unit, bool(exceptional)))
            seq += 1
        if len(days) != seq:
            raise _Refused
    if polls:
        days = set()
        seq = 0
        for p in _in_order(polls, _BY_DATE):
            day, approve, total = _POLL(p)
            if approve > total:
                raise _Refused
            days.add(day)
            polls_out.append((cid, seq, _ISO(day), approve, total))
            seq += 1
        keys -= 3 * seq
        if len(days) != seq:
            raise _Refused
    if opinions:
        for seq, o in enumerate(_in_order(opinions, _BY_DATE)):
            department, day, adverse = _OPINION(o)
            opinions_out.append((cid, seq, department, _ISO(day), adverse))
        keys -= 3 * len(opinions)
    if assessments:
        for seq, a in enumerate(_in_order(assessments, _BY_DATE)):
            day, kind, problems = _ASSESSMENT(a)
            assessments_out.append((cid, seq, _ISO(day), kind, problems))
        keys -= 3 * len(assessments)
    if educations:
        for seq, e in enumerate(educations):
            v = _EDUCATION(e)
            keys -= 6 - v.count(None)
            educations_out.append((cid, seq) + v[:5] + (_ISO(v[5]),))
    if sanctions:
        for seq, s in enumerate(_in_order(sanctions, _BY_DATE)):
            day, kind, years, note = v = _SANCTION(s)
            keys -= 4 - v.count(None)
            if (kind == "party_probation") != (years is not None):
                raise _Refused
            sanctions_out.append((cid, seq, _ISO(day), kind, years, note))
    if keys:                        # a key written twice (msgspec keeps the last one)
        raise _Refused
    return units
