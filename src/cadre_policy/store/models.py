"""SQLAlchemy ORM models of the fact store: units, cadres and their records.

One row per record; record tables are keyed by ``(cadre_id, seq)`` where ``seq``
is the record's position in the canonical (sorted) list, so reading them back in
``seq`` order gives the canonical document without sorting again.

Strings are sized VARCHARs so that MariaDB can index them; identifiers compare
bytewise on every backend (collation ``C`` on PostgreSQL, ``utf8mb4_bin`` on
MariaDB) so that "id order" and uniqueness mean the same thing everywhere.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import CreateTable

#: Bump when the tables change; a database with another value is refused.
# 2: cadres.work_start and nominations.exceptional
# 3: cadres.party_joined, party_full, status; posts.probation_end; the tables educations and sanctions
# 4: the tables drafts and draft_versions (the workbench's saved drafts)
# (an older store is upgraded in place: `policy facts upgrade`, store/migrate.py)
SCHEMA_VERSION = 4

ID_LEN = 64


def _id_type() -> String:
    """An identifier column type that sorts and compares bytewise on every backend.

    Generic types named by dialect: importing ``sqlalchemy.dialects.mysql`` here would load the
    MySQL dialect (≈ 50 ms) into every command on SQLite; the tables are utf8mb4 already.
    """
    return (String(ID_LEN)
            .with_variant(String(ID_LEN, collation="C"), "postgresql")
            .with_variant(String(ID_LEN, collation="utf8mb4_bin"), "mysql", "mariadb"))


def _text(length: int) -> String:
    return String(length)


class Base(DeclarativeBase):
    """Declarative base; every table is utf8mb4 on MariaDB so Chinese survives.

    On SQLite the tables are WITHOUT ROWID: rows are clustered by their (text)
    primary key, which halves the B-trees a bulk load has to fill.
    """

    __table_args__ = {"info": {"utf8mb4_bin": True}, "sqlite_with_rowid": False}


@compiles(CreateTable, "mysql")
@compiles(CreateTable, "mariadb")
def _utf8mb4(create, compiler, **kw) -> str:
    """The store's tables in utf8mb4, compared bytewise, on MariaDB / MySQL: the table options
    ``mysql_charset`` / ``mysql_collate`` would give the same DDL, but naming them makes SQLAlchemy
    load the MySQL dialect (≈ 25 ms) when the models are imported, on every backend."""
    sql = compiler.visit_create_table(create, **kw)
    if not create.element.info.get("utf8mb4_bin"):
        return sql
    return sql.rstrip() + "CHARSET=utf8mb4 COLLATE utf8mb4_bin\n\n"


class SchemaMeta(Base):
    """Key/value facts about the database itself (the schema version)."""

    __tablename__ = "schema_meta"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))


class Unit(Base):
    """An organisational unit (党委, 政府, 部门, 乡镇 …)."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(_id_type(), primary_key=True)
    name: Mapped[str] = mapped_column(_text(200))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(_text(100))
    parent: Mapped[str | None] = mapped_column(_id_type())


class UnitFlag(Base):
    """An assessment flag of a unit, e.g. ``provincial_bottom_ranked``."""

    __tablename__ = "unit_flags"
    unit_id: Mapped[str] = mapped_column(_id_type(), ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    flag: Mapped[str] = mapped_column(String(64))


class Cadre(Base):
    """A cadre (干部) with the scalar fields of the import format."""

    __tablename__ = "cadres"
    id: Mapped[str] = mapped_column(_id_type(), primary_key=True)
    name: Mapped[str] = mapped_column(_text(100))
    gender: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    work_start: Mapped[dt.date | None] = mapped_column(Date)
    party: Mapped[str] = mapped_column(String(16))
    party_joined: Mapped[dt.date | None] = mapped_column(Date)
    party_full: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(_text(50))
    education: Mapped[str | None] = mapped_column(String(16))
    native_region: Mapped[str | None] = mapped_column(_text(100))
    management: Mapped[str | None] = mapped_column(String(16))
    reserve: Mapped[str | None] = mapped_column(String(16))
    # recruitment is present exactly when recruitment_date is not null
    recruitment_date: Mapped[dt.date | None] = mapped_column(Date)
    recruitment_fresh_graduate: Mapped[bool | None] = mapped_column(Boolean)
    recruitment_unit: Mapped[str | None] = mapped_column(_id_type())


def _cadre_fk():
    return mapped_column(_id_type(), ForeignKey("cadres.id", ondelete="CASCADE"), primary_key=True)


def _seq():
    return mapped_column(Integer, primary_key=True, autoincrement=False)


class Post(Base):
    """A post held by a cadre; ``end_date`` null means the post is current."""

    __tablename__ = "posts"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    unit_id: Mapped[str] = mapped_column(_id_type())
    title: Mapped[str] = mapped_column(_text(200))
    rank: Mapped[str] = mapped_column(String(32))
    principal: Mapped[bool] = mapped_column(Boolean)
    leadership: Mapped[bool] = mapped_column(Boolean)
    middle_level: Mapped[bool | None] = mapped_column(Boolean)
    grassroots: Mapped[bool | None] = mapped_column(Boolean)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    probation_end: Mapped[dt.date | None] = mapped_column(Date)

    # serves `list --unit` and `iter_cadre_chunks(unit=...)`
    __table_args__ = (Index("ix_posts_unit_current", "unit_id", "end_date", "cadre_id"),
                      Base.__table_args__)


class Appraisal(Base):
    """An annual appraisal (年度考核) grade."""

    __tablename__ = "appraisals"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    year: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(32))
    date: Mapped[dt.date] = mapped_column(Date)


class Review(Base):
    """A supervision review (监督评议) with its vote counts."""

    __tablename__ = "reviews"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    date: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(Integer)
    dissatisfied: Mapped[int] = mapped_column(Integer)


class Rectification(Base):
    """A rectification check (整改) after a review; ``review_seq`` names the review."""

    __tablename__ = "rectifications"
    cadre_id: Mapped[str] = _cadre_fk()
    review_seq: Mapped[int] = _seq()
    seq: Mapped[int] = _seq()
    stage: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))


class Nomination(Base):
    """A proposed promotion (拟提拔)."""

    __tablename__ = "nominations"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    date: Mapped[dt.date] = mapped_column(Date)
    target_rank: Mapped[str] = mapped_column(String(32))
    target_unit: Mapped[str] = mapped_column(_id_type())
    exceptional: Mapped[bool | None] = mapped_column(Boolean)


class Poll(Base):
    """An opinion poll (民意征询)."""

    __tablename__ = "polls"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    date: Mapped[dt.date] = mapped_column(Date)
    approve: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class Opinion(Base):
    """A department's opinion (部门意见) on a cadre."""

    __tablename__ = "opinions"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    department: Mapped[str] = mapped_column(String(32))
    date: Mapped[dt.date] = mapped_column(Date)
    adverse: Mapped[bool] = mapped_column(Boolean)


class Assessment(Base):
    """A special or annual assessment marked as having prominent problems (or not)."""

    __tablename__ = "assessments"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    prominent_problems: Mapped[bool] = mapped_column(Boolean)



class Education(Base):
    """An education record (学历学位): level, degree, full-time or in service."""

    __tablename__ = "educations"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    level: Mapped[str] = mapped_column(String(16))
    degree: Mapped[str | None] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    school: Mapped[str | None] = mapped_column(_text(200))
    major: Mapped[str | None] = mapped_column(_text(200))
    date: Mapped[dt.date] = mapped_column(Date)


class Sanction(Base):
    """A sanction, organisational measure or admonishment (处分、组织处理、诫勉)."""

    __tablename__ = "sanctions"
    cadre_id: Mapped[str] = _cadre_fk()
    seq: Mapped[int] = _seq()
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    years: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(_text(500))


#: A saved draft's table options: a row id of its own on SQLite (an integer key counted by the database).
_COUNTED = {"info": {"utf8mb4_bin": True}}


class SavedDraft(Base):
    """A draft saved on the workbench under a name (accounts/drafts.py); its text is in its versions.

    ``units`` are the author's units when it was made (comma-separated; empty: every unit), which decide
    who else sees it.
    """

    __tablename__ = "drafts"
    __table_args__ = _COUNTED
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(64))
    units: Mapped[str] = mapped_column(String(2000), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime)          # UTC


class DraftVersion(Base):
    """One save of a draft: who, when (UTC), the YAML, a short note. Versions are never changed."""

    __tablename__ = "draft_versions"
    __table_args__ = _COUNTED
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text().with_variant(Text(2 ** 24 - 1), "mysql", "mariadb"))
    note: Mapped[str] = mapped_column(String(500), default="")
