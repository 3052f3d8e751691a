"""The tables of the fact store (SQLAlchemy Core): units, cadres and their records.

One row per record; record tables are keyed by ``(cadre_id, seq)`` where ``seq``
is the record's position in the canonical (sorted) list, so reading them back in
``seq`` order gives the canonical document without sorting again.

Strings are sized VARCHARs so that MariaDB can index them; identifiers compare
bytewise on every backend (collation ``C`` on PostgreSQL, ``utf8mb4_bin`` on
MariaDB) so that "id order" and uniqueness mean the same thing everywhere.

Core tables, not ORM classes: every query of the store is Core, and the ORM costs every
command that opens a store ≈ 0.12 s of imports.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable

#: Bump when the tables change; a database with another value is refused.
# 2: cadres.work_start and nominations.exceptional
# 3: cadres.party_joined, party_full, status; posts.probation_end; the tables educations and sanctions
# 4: the tables drafts and draft_versions (the workbench's saved drafts)
# 5: the table store_settings (the store's default evaluation date)
# (an older store is upgraded in place: `policy facts upgrade`, store/migrate.py)
SCHEMA_VERSION = 5

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


def _table(name: str, *columns, doc: str) -> Table:
    """A table of the store: utf8mb4 on MariaDB (:func:`_utf8mb4`), WITHOUT ROWID on SQLite (rows
    clustered by their text primary key, which halves the B-trees a bulk load has to fill)."""
    return Table(name, metadata, *columns, info={"utf8mb4_bin": True, "doc": doc},
                 sqlite_with_rowid=False)


def _id(name: str, *args, **kwargs) -> Column:
    return Column(name, _id_type(), *args, **kwargs)


def _place(name: str = "seq") -> Column:
    """A record's place in its list: part of the primary key, never generated."""
    return Column(name, Integer, primary_key=True, autoincrement=False)


def _cadre() -> Column:
    return _id("cadre_id", ForeignKey("cadres.id", ondelete="CASCADE"), primary_key=True)


def _cadre_key() -> tuple[Column, Column]:
    """The key of a record table: its cadre and its place in the cadre's canonical list."""
    return _cadre(), _place()


def _required(name: str, type_) -> Column:
    return Column(name, type_, nullable=False)


def _optional(name: str, type_) -> Column:
    return Column(name, type_, nullable=True)


metadata = MetaData()

schema_meta = _table(
    "schema_meta",
    Column("key", String(32), primary_key=True),
    _required("value", String(64)),
    doc="Key/value facts about the database itself (the schema version).")

store_settings = _table(
    "store_settings",
    Column("key", String(32), primary_key=True),
    _required("value", String(200)),
    doc="Settings an administrator makes for every user of the store (default_as_of: store/settings.py).")

units = _table(
    "units",
    _id("id", primary_key=True),
    _required("name", _text(200)),
    _required("kind", String(32)),
    _required("level", String(16)),
    _optional("region", _text(100)),
    _id("parent", nullable=True),
    doc="An organisational unit (党委, 政府, 部门, 乡镇 …).")

unit_flags = _table(
    "unit_flags",
    _id("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    _place(),
    _required("flag", String(64)),
    doc="An assessment flag of a unit, e.g. ``provincial_bottom_ranked``.")

cadres = _table(
    "cadres",
    _id("id", primary_key=True),
    _required("name", _text(100)),
    _required("gender", String(16)),
    _required("birth_date", Date),
    _optional("work_start", Date),
    _required("party", String(16)),
    _optional("party_joined", Date),
    _optional("party_full", Date),
    _optional("status", String(32)),
    _optional("ethnicity", _text(50)),
    _optional("education", String(16)),
    _optional("native_region", _text(100)),
    _optional("management", String(16)),
    _optional("reserve", String(16)),
    # recruitment is present exactly when recruitment_date is not null
    _optional("recruitment_date", Date),
    _optional("recruitment_fresh_graduate", Boolean),
    _id("recruitment_unit", nullable=True),
    doc="A cadre (干部) with the scalar fields of the import format.")

posts = _table(
    "posts",
    *_cadre_key(),
    _id("unit_id", nullable=False),
    _required("title", _text(200)),
    _required("rank", String(32)),
    _required("principal", Boolean),
    _required("leadership", Boolean),
    _optional("middle_level", Boolean),
    _optional("grassroots", Boolean),
    _required("start_date", Date),
    _optional("end_date", Date),
    _optional("probation_end", Date),
    # serves `list --unit` and `iter_cadre_chunks(unit=...)`
    Index("ix_posts_unit_current", "unit_id", "end_date", "cadre_id"),
    doc="A post held by a cadre; ``end_date`` null means the post is current.")

appraisals = _table(
    "appraisals", *_cadre_key(),
    _required("year", Integer), _required("grade", String(32)), _required("date", Date),
    doc="An annual appraisal (年度考核) grade.")

reviews = _table(
    "reviews", *_cadre_key(),
    _required("date", Date), _required("total", Integer), _required("dissatisfied", Integer),
    doc="A supervision review (监督评议) with its vote counts.")

rectifications = _table(
    "rectifications",
    _cadre(), _place("review_seq"), _place(),
    _required("stage", String(16)), _required("date", Date), _required("result", String(16)),
    doc="A rectification check (整改) after a review; ``review_seq`` names the review.")

nominations = _table(
    "nominations", *_cadre_key(),
    _required("date", Date), _required("target_rank", String(32)), _id("target_unit", nullable=False),
    _optional("exceptional", Boolean),
    doc="A proposed promotion (拟提拔).")

polls = _table(
    "polls", *_cadre_key(),
    _required("date", Date), _required("approve", Integer), _required("total", Integer),
    doc="An opinion poll (民意征询).")

opinions = _table(
    "opinions", *_cadre_key(),
    _required("department", String(32)), _required("date", Date), _required("adverse", Boolean),
    doc="A department's opinion (部门意见) on a cadre.")

assessments = _table(
    "assessments", *_cadre_key(),
    _required("date", Date), _required("kind", String(16)), _required("prominent_problems", Boolean),
    doc="A special or annual assessment marked as having prominent problems (or not).")

educations = _table(
    "educations", *_cadre_key(),
    _required("level", String(16)), _optional("degree", String(16)), _required("mode", String(16)),
    _optional("school", _text(200)), _optional("major", _text(200)), _required("date", Date),
    doc="An education record (学历学位): level, degree, full-time or in service.")

sanctions = _table(
    "sanctions", *_cadre_key(),
    _required("date", Date), _required("kind", String(32)), _optional("years", Integer),
    _optional("note", _text(500)),
    doc="A sanction, organisational measure or admonishment (处分、组织处理、诫勉).")


def _counted(name: str, *columns, doc: str) -> Table:
    """A table with a row id of its own on SQLite (an integer key counted by the database)."""
    return Table(name, metadata, *columns, info={"utf8mb4_bin": True, "doc": doc})


drafts = _counted(
    "drafts",
    Column("id", Integer, primary_key=True, autoincrement=True),
    _required("name", String(200)),
    _required("author", String(64)),
    Column("units", String(2000), nullable=False, default=""),
    _required("created", DateTime),          # UTC
    doc="A draft saved on the workbench under a name (accounts/drafts.py); its text is in its versions. "
        "``units`` are the author's units when it was made (comma-separated; empty: every unit), which "
        "decide who else sees it.")

draft_versions = _counted(
    "draft_versions",
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    _required("author", String(64)),
    _required("at", DateTime),
    _required("text", Text().with_variant(Text(2 ** 24 - 1), "mysql", "mariadb")),
    Column("note", String(500), nullable=False, default=""),
    doc="One save of a draft: who, when (UTC), the YAML, a short note. Versions are never changed.")
