"""Cadres laid out as the store's rows by an importer, for :meth:`FactStore.upsert_batches`.

Per table a list of tuples in the table's column order, dates as ISO text (SQLite's storage
format, so the SQLite driver takes them as they are); beside them each cadre's import text,
from which its canonical form is made only when the cadre is in the store already (to tell
an update from an unchanged record; an import into an empty store goes without them).
"""
from __future__ import annotations

import json

from cadre_policy.record.canonical import canonical_cadre
from cadre_policy.store import models
from cadre_policy.store.errors import ImportCollisionError

#: The cadre table, then its record tables, parents first.
TABLES = (models.cadres, models.posts, models.appraisals, models.reviews, models.rectifications,
          models.nominations, models.polls, models.opinions, models.assessments, models.educations,
          models.sanctions)
#: The columns of each table, in order: an importer's tuples follow these (intake/fastcadre.py).
COLUMNS = (
    ("id", "name", "gender", "birth_date", "work_start", "party", "party_joined", "party_full", "status", "ethnicity",
     "education", "native_region", "management", "reserve", "recruitment_date", "recruitment_fresh_graduate",
     "recruitment_unit"),
    ("cadre_id", "seq", "unit_id", "title", "rank", "principal", "leadership", "middle_level", "grassroots",
     "start_date", "end_date", "probation_end"),
    ("cadre_id", "seq", "year", "grade", "date"),
    ("cadre_id", "seq", "date", "total", "dissatisfied"),
    ("cadre_id", "review_seq", "seq", "stage", "date", "result"),
    ("cadre_id", "seq", "date", "target_rank", "target_unit", "exceptional"),
    ("cadre_id", "seq", "date", "approve", "total"),
    ("cadre_id", "seq", "department", "date", "adverse"),
    ("cadre_id", "seq", "date", "kind", "prominent_problems"),
    ("cadre_id", "seq", "level", "degree", "mode", "school", "major", "date"),
    ("cadre_id", "seq", "date", "kind", "years", "note"),
)
# a change of the tables must show here, and in the importer that lays rows out
assert COLUMNS == tuple(tuple(c.key for c in table.columns) for table in TABLES), "the store's columns moved"


class Rows:
    """Rows of whole cadres (see the module docstring)."""

    __slots__ = ("lists", "tables", "sources")

    def __init__(self, sources: bool = True, lists: tuple | None = None, texts: list[str] | None = None):
        self.lists: tuple[list, ...] = lists or tuple([] for _ in TABLES)
        self.tables: dict = dict(zip(TABLES, self.lists))
        #: Each cadre's import text, or None when not kept.
        self.sources: list[str] | None = texts if texts is not None else [] if sources else None

    def __reduce__(self):                # the lists and texts only (the tables are the receiver's own)
        return Rows, (self.sources is not None, self.lists, self.sources)

    def __len__(self) -> int:
        return len(self.lists[0])

    def ids(self) -> list[str]:
        return [row[0] for row in self.tables[models.cadres]]

    def document(self, n: int) -> dict:
        """The canonical form of the ``n``-th cadre."""
        if self.sources is None:        # the store was empty when the import began, and is not now
            raise ImportCollisionError.of()
        return canonical_cadre(json.loads(self.sources[n]))

    def drop(self, cadre_id: str) -> None:
        """Drop the rows of ``cadre_id`` at the end of each table (a cadre laid out in part)."""
        for rows in self.lists:
            while rows and rows[-1][0] == cadre_id:
                rows.pop()
