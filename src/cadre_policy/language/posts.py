"""Which post a cadre holds on a day: the one definition that rules, reports, the what-if
and the store's unit filter share.

A post covers day D when it started on or before D and its ``end`` is absent or not before D:
``end`` is the last day the post is held, counted whole (民法典 第二百零三条). The store's unit
filter says the same in SQL (``store.queries.post_covers``); change both together.
"""
from __future__ import annotations

from datetime import date

from cadre_policy.language.types import rank_index


def covers(post: dict, day: date) -> bool:
    """Whether ``post`` is held on ``day``."""
    end = post.get("end")
    return post["start"] <= day and (end is None or end >= day)


def current_post(posts, day: date, unit: str | None = None) -> dict | None:
    """The current post on ``day`` (in unit ``unit`` if given): of the posts held that day,
    the highest rank, then the latest start; None when none is held."""
    held = [p for p in posts if covers(p, day) and (unit is None or p.get("unit") == unit)]
    if not held:
        return None
    return max(held, key=lambda p: (rank_index(p.get("rank")), p["start"]))
