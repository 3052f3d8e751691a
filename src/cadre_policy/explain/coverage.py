"""Which evaluation dates the policy set speaks to: the union of its documents' periods in force.

A date outside every document's force finds nothing, and says nothing about why; the pages and
commands say instead which dates are covered and offer one of them (issue 23 §8).
"""
from __future__ import annotations

from datetime import date, timedelta

from cadre_policy.i18n import _
from cadre_policy.language.model import PolicySet


def covered(policy_set: PolicySet) -> list[tuple[date, date | None]]:
    """The documents' periods in force merged: (first day, last day or None while open), in order."""
    spans = sorted((p.in_force.start, p.in_force.end) for p in policy_set.policies if p.in_force is not None)
    merged: list[list] = []
    for start, end in spans:
        last = merged[-1] if merged else None
        if last is not None and (last[1] is None or start <= last[1] + timedelta(days=1)):
            last[1] = None if last[1] is None or end is None else max(last[1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def is_covered(policy_set: PolicySet, day: date) -> bool:
    """Whether some document of the set is in force on ``day``."""
    return any(start <= day and (end is None or day <= end) for start, end in covered(policy_set))


def choices(policy_set: PolicySet) -> list[date]:
    """The dates to offer instead: each covered period's last day, or its first when it is open."""
    return [end or start for start, end in covered(policy_set)]


def span_text(start: date, end: date | None) -> str:
    """A period as a reader sees it: 2013-12-04 至 2017-12-31, 2000-01-01 起."""
    if end is None:
        return _("from {start}").format(start=start.isoformat())
    return _("{start} to {end}").format(start=start.isoformat(), end=end.isoformat())


def outside_force(policy_set: PolicySet, day: date) -> str | None:
    """The sentence for a date outside every document's force (None when some document is in force):
    the dates covered; the caller adds how to choose one (--as-of, or links on a page)."""
    if is_covered(policy_set, day):
        return None
    spans = covered(policy_set)
    if not spans:
        return _("The policy set has no document in force on any date.")
    return _("No policy document is in force on {day}; the documents cover {spans}.").format(
        day=day.isoformat(), spans=_("; ").join(span_text(*s) for s in spans))
