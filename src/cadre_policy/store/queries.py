"""SQL expressions over the fact tables that more than one query needs."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_


def post_covers(posts, day: date):
    """The post is held on ``day``: the SQL form of ``language.posts.covers`` (change both together)."""
    return and_(posts.c.start_date <= day, or_(posts.c.end_date.is_(None), posts.c.end_date >= day))
