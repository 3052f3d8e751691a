"""Saved drafts: a draft kept under a name, with every save a version (who, when, the YAML, a note).

A draft is an officer's workbench data, as an account is: it lives in the store's database
(the tables ``drafts`` and ``draft_versions`` of store/models.py, schema version 4) and is
read and written here with SQLAlchemy Core. Versions are only ever added; a duplicate
(另存为) is a new draft whose first version is the text of the one copied.

Who sees a draft: its author; users whose units share one with the units the draft was
made under (a county's authors see each other's drafts); an account of every unit sees all.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.store import models

MAX_NAME = 200
MAX_NOTE = 500
MAX_TEXT = 200_000            # characters, as a posted draft (serve/api.py MAX_DRAFT)
_drafts = models.drafts
_versions = models.draft_versions


class DraftStoreError(UserError):
    """A draft that does not exist or is not the user's to see, or a name, note or text that cannot be kept."""

    def __init__(self, message: str, field: str = "draft", status: int = 422):
        super().__init__(message)
        self.field, self.status = field, status


@dataclass(frozen=True)
class Version:
    seq: int
    author: str
    at: dt.datetime           # UTC
    note: str
    text: str = ""


@dataclass(frozen=True)
class Saved:
    """A draft as listed: its newest version's number, author and time."""
    id: int
    name: str
    author: str
    units: tuple
    created: dt.datetime
    versions: int
    updated: dt.datetime
    updated_by: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _clean(name: str, note: str, text: str) -> tuple[str, str]:
    name, note = (name or "").strip(), (note or "").strip()
    if not name:
        raise DraftStoreError(_("give the draft a name"), "name")
    if len(name) > MAX_NAME:
        raise DraftStoreError(_("a draft's name has at most {n} characters").format(n=MAX_NAME), "name")
    if len(note) > MAX_NOTE:
        raise DraftStoreError(_("a version's note has at most {n} characters").format(n=MAX_NOTE), "note")
    if not (text or "").strip():
        raise DraftStoreError(_("the draft is empty"), "text")
    if len(text) > MAX_TEXT:
        raise DraftStoreError(_("a draft has at most {n} characters").format(n=MAX_TEXT), "text")
    return name, note


class Drafts:
    """Saved drafts in the database of an SQLAlchemy engine (the fact store's)."""

    def __init__(self, engine):
        self.engine = engine

    def create(self, name: str, text: str, note: str, account) -> int:
        """A new draft with its first version; returns its id."""
        name, note = _clean(name, note, text)
        now = _now()
        with self.engine.begin() as conn:
            draft_id = conn.execute(insert(_drafts).values(name=name, author=account.name, units=",".join(account.units),
                                                           created=now)).inserted_primary_key[0]
            conn.execute(insert(_versions), [{"draft_id": draft_id, "seq": 1, "author": account.name, "at": now,
                                              "text": text, "note": note}])
        return draft_id

    def save(self, draft_id: int, text: str, note: str, account) -> int:
        """A new version of a draft the account may see; returns its number."""
        draft = self.get(draft_id, account)
        _name, note = _clean(draft.name, note, text)
        with self.engine.begin() as conn:
            last = conn.execute(select(func.max(_versions.c.seq)).where(_versions.c.draft_id == draft_id)).scalar()
            seq = (last or 0) + 1
            conn.execute(insert(_versions), [{"draft_id": draft_id, "seq": seq, "author": account.name, "at": _now(),
                                              "text": text, "note": note}])
        return seq

    def duplicate(self, draft_id: int, name: str, account) -> int:
        """另存为: a new draft of the account's, whose first version is the newest text of ``draft_id``."""
        original = self.get(draft_id, account)
        text = self.version(draft_id, original.versions, account).text
        return self.create(name, text, _("copy of “{name}” version {seq}").format(name=original.name,
                                                                                  seq=original.versions), account)

    def list(self, account, mine: bool = False) -> list[Saved]:
        """The drafts the account may see (``mine``: only its own), newest change first."""
        newest = (select(_versions.c.draft_id, func.max(_versions.c.seq).label("seq"))
                  .group_by(_versions.c.draft_id).subquery())
        query = (select(_drafts, newest.c.seq.label("versions"), _versions.c.at.label("updated"),
                        _versions.c.author.label("updated_by"))
                 .join(newest, newest.c.draft_id == _drafts.c.id)
                 .join(_versions, (_versions.c.draft_id == _drafts.c.id) & (_versions.c.seq == newest.c.seq))
                 .order_by(_versions.c.at.desc(), _drafts.c.id.desc()))
        if mine:
            query = query.where(_drafts.c.author == account.name)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [d for d in map(_saved, rows) if visible(d, account)]

    def get(self, draft_id: int, account) -> Saved:
        """One draft the account may see: 404 unknown, 403 another unit's."""
        newest = select(func.max(_versions.c.seq)).where(_versions.c.draft_id == draft_id).scalar_subquery()
        query = (select(_drafts, _versions.c.seq.label("versions"), _versions.c.at.label("updated"),
                        _versions.c.author.label("updated_by"))
                 .join(_versions, _versions.c.draft_id == _drafts.c.id)
                 .where(_drafts.c.id == draft_id, _versions.c.seq == newest))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise DraftStoreError(_("unknown draft: {id}").format(id=draft_id), status=404)
        draft = _saved(row)
        if not visible(draft, account):
            raise DraftStoreError(_("draft {id} belongs to other units").format(id=draft_id), status=403)
        return draft

    def versions(self, draft_id: int, account) -> list[Version]:
        """Every version of a draft, newest first (without their text)."""
        self.get(draft_id, account)
        with self.engine.connect() as conn:
            rows = conn.execute(select(_versions.c.seq, _versions.c.author, _versions.c.at, _versions.c.note)
                                .where(_versions.c.draft_id == draft_id).order_by(_versions.c.seq.desc())).all()
        return [Version(r.seq, r.author, r.at, r.note) for r in rows]

    def version(self, draft_id: int, seq: int | None, account) -> Version:
        """One version with its text (``seq`` None: the newest)."""
        draft = self.get(draft_id, account)
        seq = draft.versions if seq is None else seq
        with self.engine.connect() as conn:
            row = conn.execute(select(_versions).where(_versions.c.draft_id == draft_id,
                                                       _versions.c.seq == seq)).first()
        if row is None:
            raise DraftStoreError(_("draft {id} has no version {seq}").format(id=draft_id, seq=seq), "version", 404)
        return Version(row.seq, row.author, row.at, row.note, row.text)


def _saved(row) -> Saved:
    return Saved(row.id, row.name, row.author, tuple(u for u in row.units.split(",") if u), row.created,
                 row.versions, row.updated, row.updated_by)


def visible(draft: Saved, account) -> bool:
    """Whether an account sees a draft: its own, an account of every unit, or a shared unit."""
    if account.may("admin") or not account.units or draft.author == account.name or not draft.units:
        return True
    return bool(set(account.units) & set(draft.units))

