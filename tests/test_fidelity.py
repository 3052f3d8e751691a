"""Boundary tests of the readings fixed against the text: a post's last day, closed windows."""
from __future__ import annotations

from datetime import date

import pytest

from cadre_policy import data
from cadre_policy.language import periods
from cadre_policy.load.policyset import load
from cadre_policy.run.evaluate import PolicyRunner

POST = {"unit": "U1", "title": "镇长", "rank": "section", "principal": True, "leadership": True}
UNITS = {"U1": {"id": "U1", "name": "某镇", "kind": "township", "level": "township", "flags": []},
         "U2": {"id": "U2", "name": "某局", "kind": "department", "level": "city", "flags": []}}


def _cadre(*posts):
    return {"id": "X1", "name": "测试", "gender": "male", "birth_date": date(1975, 1, 1), "party": "cpc",
            "posts": list(posts), "appraisals": [], "reviews": [], "nominations": [], "polls": [],
            "opinions": [], "assessments": []}


@pytest.fixture(scope="module")
def library():
    return load(data.POLICIES)


@pytest.mark.parametrize("engine", ["durable", "python", "columnar"])
def test_a_post_is_held_on_its_end_day_and_not_the_day_after(library, engine):
    old = dict(POST, start=date(2008, 1, 1), end=date(2009, 12, 31))
    new = dict(POST, unit="U2", title="副局长", rank="section", principal=False, start=date(2010, 1, 1))
    on_end = PolicyRunner(library, date(2009, 12, 31), engine).evaluate(_cadre(old), UNITS).scope
    after = PolicyRunner(library, date(2010, 1, 1), engine).evaluate(_cadre(old), UNITS).scope
    assert on_end["current_post"]["title"] == "镇长"
    assert "current_post" not in after
    # the last day counts whole: 2008-01-01 .. 2009-12-31 is exactly two years of grassroots work
    later = PolicyRunner(library, date(2017, 6, 30), engine).evaluate(_cadre(old, new), UNITS).scope
    assert later["grassroots_experience"] == periods.threshold(24)
    assert later["current_post"]["title"] == "副局长"


@pytest.mark.parametrize("as_of,inside", [(date(2017, 1, 20), True), (date(2017, 1, 21), False)])
def test_within_one_year_includes_its_last_day(as_of, inside):
    start = periods.window_start(as_of, 12)
    assert (start <= date(2016, 1, 20)) == inside


@pytest.mark.parametrize("as_of,inside", [(date(2017, 2, 28), True), (date(2017, 3, 1), False)])
def test_within_one_year_from_a_leap_day_ends_on_the_last_day_of_february(as_of, inside):
    assert (periods.window_start(as_of, 12) <= date(2016, 2, 29)) == inside
