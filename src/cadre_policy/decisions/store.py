"""The decision-record store: append a record with its fact snapshot, read records back.

Writes only ever insert. Nothing in the program updates or deletes a record; the
keyed chain (:attr:`DecisionRecord.chain`, HMAC-SHA-256 with the key of
:mod:`cadre_policy.decisions.keys`, kept outside the database) makes a removal or an
edit made behind the program's back visible to
:func:`cadre_policy.decisions.verify.verify_chain`, even when whoever edits the rows
re-chains them; an anchor (`policy records anchor`) held outside the database shows
the newest records removed.

Appends from several processes (the server, a what-if job, `policy check --record`)
are serialised by a database lock held for the append's transaction: SQLite
``BEGIN IMMEDIATE``, a PostgreSQL transaction-level advisory lock, a MariaDB row lock
on the records' version row. So each record is chained to the one before it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import weakref
import zlib
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.decisions.digest import canonical_json, digest_text, result_digest
from cadre_policy.store import models
from cadre_policy.store.schema_lock import made_once
from cadre_policy.decisions.tables import RECORDS_SCHEMA_VERSION, DecisionRecord, FactSnapshot, RecordsBase

_records = DecisionRecord.__table__
_snapshots = FactSnapshot.__table__
_meta = models.schema_meta
_VERSION_KEY = "records_schema_version"
GENESIS = "sha256:" + "0" * 64
KEYED = "hmac:"             # a keyed chain value; "sha256:" ones were written before the chain had a key
_ADVISORY = 0x6361647265          # PostgreSQL advisory lock id of the records chain ("cadre")
_append_lock = threading.Lock()       # threads of one process take turns before the database lock
_ensured: "weakref.WeakSet" = weakref.WeakSet()       # engines whose tables were checked in this process


class RecordsError(UserError):
    """A record asked for does not exist, or the records tables are of another version."""


@dataclass
class Record:
    """One decision record as read back (``result`` and ``request`` parsed)."""
    id: int
    at: dt.datetime
    actor: str
    channel: str
    kind: str
    request: dict
    policy_path: str
    policy_digest: str
    draft_text: str | None
    draft_digest: str | None
    facts_digest: str
    result: dict
    result_digest: str
    chain: str

    @classmethod
    def from_row(cls, row) -> "Record":
        """A record from its table row (``request`` and ``result`` parsed)."""
        return cls.from_row_values(dict(row._mapping))

    @classmethod
    def from_row_values(cls, values: dict) -> "Record":
        values = dict(values)
        values["request"] = json.loads(values["request"])
        values["result"] = json.loads(values["result"])
        return cls(**values)

    def summary(self) -> dict:
        """The record without its result and draft text (for lists)."""
        return {"id": self.id, "at": self.at.isoformat(timespec="seconds") + "Z", "actor": self.actor,
                "channel": self.channel, "kind": self.kind, "request": self.request,
                "policy_digest": self.policy_digest, "draft_digest": self.draft_digest,
                "facts_digest": self.facts_digest, "result_digest": self.result_digest}

    def as_dict(self) -> dict:
        """Everything in the record, for `records show` and export."""
        return dict(self.summary(), policy_path=self.policy_path, draft_text=self.draft_text,
                    result=self.result, chain=self.chain)


def ensure_schema(engine) -> None:
    """Create the workbench tables on first use; refuse another version of them.

    Their version is a row of the fact store's ``schema_meta`` (the fact store is
    opened on the same database first, so the table is there). Processes meeting here
    on a new database make them one after the other (:mod:`cadre_policy.store.schema_lock`).
    """
    if engine in _ensured:
        return
    made_once(engine, "records_schema", 1, _create_records_tables)
    _ensured.add(engine)


def _create_records_tables(conn) -> None:
    version = conn.execute(select(_meta.c.value).where(_meta.c.key == _VERSION_KEY)).scalar()
    if version is not None and version != str(RECORDS_SCHEMA_VERSION):
        raise RecordsError(_("the decision-record tables have schema version {version}, this program needs "
                             "{needed}: use the program that made them").format(version=version,
                                                                                 needed=RECORDS_SCHEMA_VERSION))
    RecordsBase.metadata.create_all(conn)
    if version is None:
        conn.execute(insert(_meta), [{"key": _VERSION_KEY, "value": str(RECORDS_SCHEMA_VERSION)}])


def chain_next(previous: str, row: dict, key: bytes | None) -> str:
    """The chain value of a record: the HMAC of the previous one and this record's content.

    Without a key, the unkeyed digest records written before the chain had a key carry.
    """
    content = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()
               if k not in ("id", "chain")}
    text = previous + canonical_json(content)
    if key is None:
        return digest_text(text)
    return KEYED + hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def lock_chain(conn) -> None:
    """Hold the records chain for this transaction (the first statement of it)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY)))
    else:
        conn.execute(select(_meta.c.value).where(_meta.c.key == _VERSION_KEY).with_for_update())


def snapshot_body(units: dict, cadres: list[dict]) -> str:
    """The canonical JSON text of the facts a decision read."""
    return canonical_json({"units": units, "cadres": cadres})


class RecordStore:
    """Decision records in the database of an SQLAlchemy engine (the fact store's)."""

    def __init__(self, engine):
        self.engine = engine
        ensure_schema(engine)

    def key(self, create: bool = True) -> bytes | None:
        """The chain's key (see :mod:`cadre_policy.decisions.keys`)."""
        from cadre_policy.decisions.keys import records_key
        return records_key(self.engine.url, create)

    def put_snapshot(self, units: dict, cadres: list[dict], conn=None) -> str:
        """Store the facts (once per distinct content); return their digest."""
        if conn is None:
            with self.engine.begin() as conn:
                return self.put_snapshot(units, cadres, conn)
        body = snapshot_body(units, cadres)
        digest = digest_text(body)
        # under the chain lock (append): no other appender can insert the same digest in between
        if conn.execute(select(_snapshots.c.digest).where(_snapshots.c.digest == digest)).first() is None:
            conn.execute(insert(_snapshots), [{"digest": digest, "cadres": len(cadres),
                                               "body": zlib.compress(body.encode("utf-8"), 6)}])
        return digest

    def snapshot(self, digest: str) -> tuple[str, dict]:
        """(the stored text's own digest, the facts ``{"units", "cadres"}``) of a snapshot."""
        with self.engine.connect() as conn:
            body = conn.execute(select(_snapshots.c.body).where(_snapshots.c.digest == digest)).scalar()
        if body is None:
            raise RecordsError(f"the fact snapshot {digest} is missing")
        text = zlib.decompress(body).decode("utf-8")
        return digest_text(text), json.loads(text)

    def append(self, *, kind: str, actor: str, channel: str, request: dict, policy_set, facts: tuple,
               result: dict, draft_text: str | None = None) -> int:
        """Add one record and the snapshot of its ``facts`` (units, cadres) in one transaction; return its id."""
        row = {"at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0), "actor": actor,
               "channel": channel, "kind": kind, "request": canonical_json(request),
               "policy_path": os.path.abspath(policy_set.path), "policy_digest": policy_set.digest,
               "draft_text": draft_text, "draft_digest": digest_text(draft_text) if draft_text is not None else None,
               "result": canonical_json(result), "result_digest": result_digest(result)}
        key = self.key()
        with _append_lock, self.engine.connect() as conn:
            lock_chain(conn)
            try:
                row["facts_digest"] = self.put_snapshot(*facts, conn=conn)
                previous = conn.execute(select(_records.c.chain).order_by(_records.c.id.desc()).limit(1)).scalar()
                row["chain"] = chain_next(previous or GENESIS, row, key)
                new_id = conn.execute(insert(_records).values(**row)).inserted_primary_key[0]
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return new_id

    def get(self, record_id: int) -> Record:
        """One record; an unknown id is a :class:`RecordsError`."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_records).where(_records.c.id == record_id)).first()
        if row is None:
            raise RecordsError(f"unknown record id: {record_id}")
        return Record.from_row(row)

    def list(self, actor: str | None = None, kind: str | None = None, limit: int = 100,
             before: int | None = None) -> list[Record]:
        """The newest records first, optionally of one actor or kind, ids below ``before``."""
        query = select(_records).order_by(_records.c.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(_records.c.actor == actor)
        if kind is not None:
            query = query.where(_records.c.kind == kind)
        if before is not None:
            query = query.where(_records.c.id < before)
        with self.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(query)]

    def neighbours(self, record_ids) -> dict[int, tuple[str, dict | None]]:
        """For each record id: (the chain value of the record before it, or GENESIS; its own row or None)."""
        ids = sorted(set(record_ids))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            before = conn.execute(select(func.max(_records.c.id)).where(_records.c.id < ids[0])).scalar()
            chains = dict(conn.execute(select(_records.c.id, _records.c.chain)
                                       .where(_records.c.id >= (before or ids[0]), _records.c.id <= ids[-1])).all())
            rows = {r.id: dict(r._mapping) for r in conn.execute(select(_records).where(_records.c.id.in_(ids)))}
        out, previous = {}, GENESIS
        for rid in sorted(chains):
            if rid in rows or rid in ids:
                out[rid] = (previous, rows.get(rid))
            previous = chains[rid]
        for rid in ids:
            out.setdefault(rid, (previous, None))
        return out

    def all_rows(self):
        """Every record row in id order (for export and the chain check), read in one pass."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(_records).order_by(_records.c.id)):
                yield row

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(_records)).scalar_one()
