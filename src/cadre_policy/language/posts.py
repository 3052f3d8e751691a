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


# a title that starts with the level's name and then an organ (镇党委书记, 乡政府科员) says the level once
_ORGANS = ("党委", "党工委", "政府", "人大", "纪委", "人民政府")


def post_name(unit_name: str | None, title: str | None) -> str:
    """A post as it is named: the unit, then the title, the words they share said once.

    Titles may repeat the end of their unit's name: 中共清江县委 + 县委书记 is 中共清江县委书记, and
    清江县龙泉镇 + 镇党委书记 is 清江县龙泉镇党委书记; a title that is the level's own post keeps
    its words (清江县龙泉镇镇长, 清江县人民法院院长).

    >>> post_name("清江县龙泉镇", "镇党委书记"), post_name("中共清江县委", "县委书记")
    ('清江县龙泉镇党委书记', '中共清江县委书记')
    >>> post_name("清江县龙泉镇", "镇长"), post_name("清江县人民法院", "院长"), post_name(None, "科员")
    ('清江县龙泉镇镇长', '清江县人民法院院长', '科员')
    """
    unit_name, title = unit_name or "", title or ""
    for size in range(min(len(unit_name), len(title)), 0, -1):
        if unit_name.endswith(title[:size]) and (size > 1 or title[1:].startswith(_ORGANS)):
            return unit_name + title[size:]
    return unit_name + title
