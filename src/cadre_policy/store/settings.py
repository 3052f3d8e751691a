"""The settings an administrator makes for every user of a store (the table ``store_settings``).

One for now: ``default_as_of``, the evaluation date every page and command uses when none is
asked for (issue 23 §8: the sample's data and documents are dated; "today" finds nothing in force).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, update

from cadre_policy.store.models import store_settings as _settings
DEFAULT_AS_OF = "default_as_of"


def default_as_of(store) -> dt.date | None:
    """The store's default evaluation date; None when unset (then "today")."""
    with store.engine.connect() as conn:
        value = conn.execute(select(_settings.c.value).where(_settings.c.key == DEFAULT_AS_OF)).scalar()
    return dt.date.fromisoformat(value) if value else None


def set_default_as_of(store, day: dt.date | None) -> None:
    """Set the store's default evaluation date, or clear it (``None``)."""
    with store.engine.begin() as conn:
        if day is None:
            conn.execute(delete(_settings).where(_settings.c.key == DEFAULT_AS_OF))
        elif not conn.execute(update(_settings).where(_settings.c.key == DEFAULT_AS_OF)
                              .values(value=day.isoformat())).rowcount:
            conn.execute(insert(_settings), [{"key": DEFAULT_AS_OF, "value": day.isoformat()}])
