"""Tables of the workbench: accounts, API tokens, decision records and fact snapshots.

They live in the fact store's database but have their own metadata and their own
version (the ``records_schema_version`` row of ``schema_meta``), apart from the fact
tables' ``schema_version``: a fact-store schema change (export, import into a new database)
does not touch the records, and the records can grow without refusing fact
databases. A database whose records version differs is refused with one line,
never migrated silently: decision records are evidence and are not rewritten.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Bump when these tables change; a database with another value is refused.
RECORDS_SCHEMA_VERSION = 1

DIGEST_LEN = 71          # "sha256:" + 64 hex digits


class RecordsBase(DeclarativeBase):
    """Declarative base of the workbench tables (utf8mb4 on MariaDB)."""

    __table_args__ = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


class User(RecordsBase):
    """An officer's or a system's account; ``units`` is a comma-separated list of unit ids (empty: all)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    units: Mapped[str] = mapped_column(String(2000), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime)


class ApiToken(RecordsBase):
    """A bearer token for a system; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(DIGEST_LEN), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime)


class FactSnapshot(RecordsBase):
    """The canonical facts a decision read (units and cadres), zlib-compressed canonical JSON.

    Keyed by the digest of the uncompressed text, so a decision on unchanged facts
    stores nothing new.
    """

    __tablename__ = "fact_snapshots"
    digest: Mapped[str] = mapped_column(String(DIGEST_LEN), primary_key=True)
    cadres: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary().with_variant(LargeBinary(2 ** 32 - 1), "mysql", "mariadb"))


class DecisionRecord(RecordsBase):
    """One check or what-if: who asked what, on which policy set, draft and facts, and what came out.

    Append-only: the program never updates or deletes a row. ``chain`` is the digest
    of the previous record's chain and this record's content, so a removed or altered
    record breaks every chain value after it.
    """

    __tablename__ = "decision_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)          # UTC
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))           # cli | api | web
    kind: Mapped[str] = mapped_column(String(16))              # check | whatif
    request: Mapped[str] = mapped_column(Text)                 # canonical JSON of what was asked
    policy_path: Mapped[str] = mapped_column(String(1000))
    policy_digest: Mapped[str] = mapped_column(String(DIGEST_LEN))
    draft_text: Mapped[str | None] = mapped_column(Text)
    draft_digest: Mapped[str | None] = mapped_column(String(DIGEST_LEN))
    facts_digest: Mapped[str] = mapped_column(ForeignKey("fact_snapshots.digest"))
    result: Mapped[str] = mapped_column(Text().with_variant(Text(2 ** 32 - 1), "mysql", "mariadb"))
    result_digest: Mapped[str] = mapped_column(String(DIGEST_LEN))
    chain: Mapped[str] = mapped_column(String(DIGEST_LEN))

    __table_args__ = (Index("ix_records_actor_at", "actor", "at"), RecordsBase.__table_args__)


TABLES = RecordsBase.metadata
