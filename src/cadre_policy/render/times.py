"""Times as an officer reads them: Beijing time (UTC+8, no daylight saving), to the second."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from cadre_policy.i18n import language

BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing(at) -> str:
    """A stored UTC time (ISO text or datetime; naive means UTC) as Beijing time: 2026-12-08 05:05:09.

    >>> beijing("2026-12-07T21:05:09+00:00"), beijing("2026-12-07T21:05:09")
    ('2026-12-08 05:05:09', '2026-12-08 05:05:09')
    """
    if isinstance(at, (int, float)):                # seconds since the epoch (time.time())
        at = datetime.fromtimestamp(at, timezone.utc)
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_now() -> str:
    """Now, in Beijing time."""
    return beijing(datetime.now(timezone.utc))


def long_day(day: date) -> str:
    """A date as a sentence writes it: 2024年6月30日 (English: 30 June 2024).

    >>> from cadre_policy.i18n import using
    >>> with using("zh"):
    ...     long_day(date(2024, 6, 30))
    '2024年6月30日'
    """
    if language() == "en":
        return f"{day.day} {day.strftime('%B')} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"
