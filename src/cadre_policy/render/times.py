"""Times as an officer reads them: Beijing time (UTC+8, no daylight saving), to the second."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
