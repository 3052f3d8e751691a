"""The calendar rule over arrays (run.columnar.calendar) against the scalar rule (language.periods)."""
from datetime import date, timedelta

import numpy as np

from cadre_policy.language import periods
from cadre_policy.run.columnar.calendar import completed_years, encode_durations


def _pairs():
    """Every (start, end) of a span around leap days and month ends, and some ages decades long."""
    days = [date(2015, 12, 25) + timedelta(days=i) for i in range(0, 800, 3)]
    days += [date(1964, 2, 29), date(1972, 6, 30), date(1972, 7, 1), date(1999, 12, 31), date(2000, 2, 29)]
    return [(a, b) for a in days for b in days]


def test_whole_columns_keep_the_calendar_rule():
    pairs = _pairs()
    start = np.array([periods.day_number(a) for a, _ in pairs], dtype=np.int64)
    end = np.array([periods.day_number(b) for _, b in pairs], dtype=np.int64)
    assert encode_durations(start, end).tolist() == [periods.encode_duration(a, b) for a, b in pairs]
    assert completed_years(start, end).tolist() == [periods.completed_years(a, b) for a, b in pairs]
