"""The calendar rule of ``language.periods`` over arrays of day numbers.

``encode_durations`` is ``periods.encode_duration`` and ``completed_years`` is
``periods.completed_years`` for whole columns (tests/test_columnar_calendar.py checks they agree
on every pair of a span of days, month ends and leap days included): a population's merged
durations and ages have thousands of distinct (start, end) pairs, too many to call the scalar
rule for each.
"""
from __future__ import annotations

import numpy as np

from cadre_policy.language.periods import DAYS_PER_MONTH_SLOT


def _add_months(month0: np.ndarray, day0: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Day numbers of ``periods.add_months``: the same day of the month, or the month's last day."""
    month = month0 + months
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    return first.astype(np.int64) + np.minimum(day0, length - 1)


def encode_durations(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``months * 32 + days`` completed from each ``start`` to its ``end`` (0 where end < start)."""
    start_days = np.asarray(start, dtype=np.int64)
    end_days = np.asarray(end, dtype=np.int64)
    s = start_days.astype("datetime64[D]")
    month0 = s.astype("datetime64[M]")
    day0 = (s - month0.astype("datetime64[D]")).astype(np.int64)
    months = (end_days.astype("datetime64[D]").astype("datetime64[M]") - month0).astype(np.int64)
    reached = _add_months(month0, day0, months)
    over = reached > end_days           # the same-numbered day of the end's month is still ahead
    months = months - over
    reached = np.where(over, _add_months(month0, day0, months), reached)
    encoded = months * DAYS_PER_MONTH_SLOT + (end_days - reached)
    return np.where(end_days < start_days, 0, encoded)


def completed_years(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years (周岁) from each ``start`` to its ``end`` (0 where end < start)."""
    return encode_durations(start, end) // DAYS_PER_MONTH_SLOT // 12
