"""The cadre fact store: canonical documents in a SQL database via SQLAlchemy 2.x.

Reads are bulk Core queries (one query per table per chunk of cadres), writes are
Core executemany inside one transaction. Nothing here assumes SQLite: the same code
runs on PostgreSQL (psycopg) and MariaDB (PyMySQL, utf8mb4).

Faults are errors, never silent damage: server databases get a connect and a statement
timeout (``$POLICY_DB_CONNECT_TIMEOUT``, ``$POLICY_DB_STATEMENT_TIMEOUT``, in seconds);
MariaDB runs in a strict ``sql_mode`` (an out-of-range value is refused, not clipped); a
database that lacks some of the tables is refused (only a new, empty one gets the schema);
an SQLite file is integrity-checked before an import writes to it; and a stored row that
does not read back as its column's type (a date written by another program) is an error
naming the table, the row and the column.

Every write transaction also stamps a new *generation* (a random token in ``schema_meta``),
so a population run that reads in many transactions can prove it saw one state of the
store: the generation is the same before and after (see :meth:`FactStore.generation`).
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Callable, Iterable, Iterator

from sqlalchemy import (Boolean, Connection, Date, Integer, String, and_, create_engine, delete, event, exists,
                        func, insert, inspect, or_, select, type_coerce, update)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from cadre_policy.record.canonical import CADRE_OPTIONAL, RECORD_LISTS
from cadre_policy.language.posts import current_post
from cadre_policy.store.errors import (ImportCollisionError, SchemaVersionError, StoreChangedError, StoreCorruptError,
                                      StoreUnavailableError)
from cadre_policy.store import migrate
from cadre_policy.store.schema_lock import made_once
from cadre_policy.store.queries import post_covers
from cadre_policy.store.rows import Rows
from cadre_policy.language import record_table
from cadre_policy.store import models
from cadre_policy.store.models import SCHEMA_VERSION
from cadre_policy.i18n import _

_units = models.units
_flags = models.unit_flags
_cadres = models.cadres
_rect = models.rectifications
_meta = models.schema_meta


# --- canonical document <-> rows -------------------------------------------------------------

def _unit_row(u: dict) -> dict:
    return {"id": u["id"], "name": u["name"], "kind": u["kind"], "level": u["level"],
            "region": u.get("region"), "parent": u.get("parent")}


def _unit_doc(r) -> dict:
    doc = {"id": r.id, "name": r.name, "kind": r.kind, "level": r.level}
    if r.region is not None:
        doc["region"] = r.region
    if r.parent is not None:
        doc["parent"] = r.parent
    return doc


def _cadre_row(c: dict) -> dict:
    rec = c.get("recruitment") or {}
    row = {"id": c["id"], "name": c["name"], "gender": c["gender"], "birth_date": c["birth_date"],
           "party": c["party"]}
    for key in CADRE_OPTIONAL:
        row[key] = c.get(key)
    row.update({"recruitment_date": rec.get("date"), "recruitment_fresh_graduate": rec.get("fresh_graduate"),
                "recruitment_unit": rec.get("unit")})
    return row


def _cadre_doc(r) -> dict:
    doc = {"id": r.id, "name": r.name, "gender": r.gender, "birth_date": r.birth_date,
           "party": r.party}
    for key in CADRE_OPTIONAL:
        value = getattr(r, key)
        if value is not None:
            doc[key] = value
    if r.recruitment_date is not None:
        rec = {"date": r.recruitment_date}
        if r.recruitment_fresh_graduate is not None:
            rec["fresh_graduate"] = bool(r.recruitment_fresh_graduate)
        if r.recruitment_unit is not None:
            rec["unit"] = r.recruitment_unit
        doc["recruitment"] = rec
    for key, _kind in RECORD_LISTS:
        doc[key] = []
    return doc


def _post_row(cid, seq, p):
    return {"cadre_id": cid, "seq": seq, "unit_id": p["unit"], "title": p["title"], "rank": p["rank"],
            "principal": p["principal"], "leadership": p["leadership"],
            "middle_level": p.get("middle_level"), "grassroots": p.get("grassroots"),
            "start_date": p["start"], "end_date": p.get("end"), "probation_end": p.get("probation_end")}


def _post_doc(r):
    doc = {"unit": r.unit_id, "title": r.title, "rank": r.rank, "principal": bool(r.principal),
           "leadership": bool(r.leadership)}
    if r.middle_level is not None:
        doc["middle_level"] = bool(r.middle_level)
    if r.grassroots is not None:
        doc["grassroots"] = bool(r.grassroots)
    doc["start"] = r.start_date
    if r.end_date is not None:
        doc["end"] = r.end_date
    if r.probation_end is not None:
        doc["probation_end"] = r.probation_end
    return doc


def _appraisal_row(cid, seq, a):
    date = a.get("date") or dt.date(a["year"], 12, 31)
    return {"cadre_id": cid, "seq": seq, "year": a["year"], "grade": a["grade"], "date": date}


def _review_row(cid, seq, v):
    return {"cadre_id": cid, "seq": seq, "date": v["date"], "total": v["total"],
            "dissatisfied": v["dissatisfied"]}


def _plain(*keys: str):
    """Row/doc converters for a record whose document keys equal its column names."""
    def row(cid, seq, rec):
        out = {"cadre_id": cid, "seq": seq}
        for key in keys:
            out[key] = rec[key]
        return out

    def doc(r):
        return {key: getattr(r, key) for key in keys}
    return row, doc


def _bools(doc_fn: Callable, *keys: str):
    # MariaDB hands booleans back as 0/1 on some paths; keep documents exact
    def doc(r):
        out = doc_fn(r)
        for key in keys:
            out[key] = bool(out[key])
        return out
    return doc


def _nom_row(cid, seq, n):
    return {"cadre_id": cid, "seq": seq, "date": n["date"], "target_rank": n["target_rank"],
            "target_unit": n["target_unit"], "exceptional": bool(n.get("exceptional"))}


def _nom_doc(r) -> dict:
    doc = {"date": r.date, "target_rank": r.target_rank, "target_unit": r.target_unit}
    if r.exceptional:
        doc["exceptional"] = True
    return doc


def _from_table(kind: str):
    """Row/doc converters of a record kind whose columns are its fields (record_table): optional
    fields absent from the document when not on record, booleans as booleans."""
    fields = list(record_table.kind(kind).fields.values())
    keys = [f.name for f in fields]
    bools = {f.name for f in fields if f.type == "bool"}

    def row(cid, seq, rec):
        out = {"cadre_id": cid, "seq": seq}
        for key in keys:
            out[key] = rec.get(key)
        return out

    def doc(r):
        out = {}
        for key in keys:
            value = getattr(r, key)
            if value is not None:
                out[key] = bool(value) if key in bools else value
        return out
    return row, doc


_poll_row, _poll_doc = _plain("date", "approve", "total")
_op_row, _op_doc = _plain("department", "date", "adverse")
_as_row, _as_doc = _plain("date", "kind", "prominent_problems")

#: (document key, table, sort key, row builder, document builder) for each record list.
_RECORDS = (
    ("posts", models.posts, "start", _post_row, _post_doc),
    ("appraisals", models.appraisals, "year", _appraisal_row, _plain("year", "grade", "date")[1]),
    ("reviews", models.reviews, "date", _review_row, _plain("date", "total", "dissatisfied")[1]),
    ("nominations", models.nominations, "date", _nom_row, _nom_doc),
    ("polls", models.polls, "date", _poll_row, _poll_doc),
    ("opinions", models.opinions, "date", _op_row, _bools(_op_doc, "adverse")),
    ("assessments", models.assessments, "date", _as_row, _bools(_as_doc, "prominent_problems")),
    ("educations", models.educations, "date", *_from_table("education")),
    ("sanctions", models.sanctions, "date", *_from_table("sanction")),
)
_RECORD_TABLES = tuple(rec[1] for rec in _RECORDS) + (_rect,)


def _cadre_rows(doc: dict, out: dict) -> None:
    """Append the rows of one canonical cadre document to ``out`` (table -> rows)."""
    cid = doc["id"]
    out[_cadres].append(_cadre_row(doc))
    for key, table, sort_key, row_fn, _doc_fn in _RECORDS:
        records = doc.get(key)
        if not records:
            continue
        if len(records) > 1:
            records = sorted(records, key=itemgetter(sort_key))
        rows = out[table]
        for seq, rec in enumerate(records):
            rows.append(row_fn(cid, seq, rec))
            if key == "reviews":
                for rseq, check in enumerate(rec.get("rectification") or ()):
                    out[_rect].append({"cadre_id": cid, "review_seq": seq, "seq": rseq,
                                       "stage": check["stage"], "date": check["date"],
                                       "result": check["result"]})


def _empty_buffers() -> dict:
    return {t: [] for t in (_cadres,) + _RECORD_TABLES}


def _write(conn: Connection, buffers: dict) -> None:
    """Insert buffered rows, parents first (foreign keys are checked on PostgreSQL/MariaDB)."""
    sqlite = conn.dialect.name == "sqlite"
    for table in (_cadres,) + _RECORD_TABLES:
        rows = buffers[table]
        if not rows:
            continue
        if sqlite:
            _write_sqlite(conn, table, rows)
        else:
            conn.execute(insert(table), rows)
        rows.clear()


#: SQLAlchemy's SQLite DATE storage format is exactly ISO YYYY-MM-DD: dates are written as isoformat().
_SQLITE_INSERTS: dict = {}


def _sqlite_insert(conn: Connection, table) -> tuple[str, Callable, tuple[int, ...]]:
    """The INSERT of ``table`` as SQLAlchemy compiles it for SQLite, a getter of a row's values in
    its order, and the places of the date columns among them (made once per table)."""
    made = _SQLITE_INSERTS.get(table)
    if made is None:
        compiled = insert(table).compile(dialect=conn.dialect)
        keys = compiled.positiontup
        dates = tuple(i for i, key in enumerate(keys) if isinstance(table.c[key].type, Date))
        made = _SQLITE_INSERTS[table] = (compiled.string, itemgetter(*keys), dates)
    return made


def _write_sqlite(conn: Connection, table, rows: list[dict]) -> None:
    """Executemany straight to the sqlite3 driver with the statement SQLAlchemy compiles.

    Measured about 1.5x faster than Core executemany on SQLite, where SQLAlchemy's
    per-value bind processing dominates; other drivers keep the Core path. Only the date
    columns' values are converted (an absent date is None).
    """
    text, values, dates = _sqlite_insert(conn, table)
    if dates:
        tuples = []
        for row in rows:
            value = list(values(row))
            for i in dates:
                if value[i] is not None:
                    value[i] = value[i].isoformat()
            tuples.append(tuple(value))
    else:
        tuples = [values(row) for row in rows]
    conn.exec_driver_sql(text, tuples)


def _bulk_pragmas(conn: Connection, cache_mb: int) -> None:
    """On SQLite, a bigger page cache for a bulk write: index inserts stay in memory. Neither
    pragma touches durability (the journal and synchronous modes are left alone), so the write
    stays one all-or-nothing transaction; they last as long as the pooled connection."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")


# --- results ----------------------------------------------------------------------------------

@dataclass
class Counts:
    """How many documents of one kind an import added, updated and left unchanged."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class UpsertResult:
    """Counts of an upsert, for units and for cadres."""

    units: Counts
    cadres: Counts

    @property
    def changed(self) -> bool:
        """True when anything was written."""
        return bool(self.units.added or self.units.updated or self.cadres.added
                    or self.cadres.updated)


# --- the store --------------------------------------------------------------------------------

def _safe_url(url) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


#: Refuse instead of clipping or zeroing: 3,000,000,000 in an INTEGER column is an error.
MARIADB_SQL_MODE = ("STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
                    "NO_ENGINE_SUBSTITUTION")
CONNECT_TIMEOUT = 10        # seconds, unless $POLICY_DB_CONNECT_TIMEOUT says otherwise
STATEMENT_TIMEOUT = 900     # seconds per statement (the slowest query at 1M cadres is well below)


def _seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise StoreUnavailableError(f"${name} must be a whole number of seconds (at least 1), not '{raw}'")
    return int(raw)


def _timeouts() -> tuple[int, int]:
    return (_seconds("POLICY_DB_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
            _seconds("POLICY_DB_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT))


def _connect_args(backend: str, query) -> dict:
    """Driver options that bound every wait on a server: connecting, then each statement."""
    connect, statement = _timeouts()
    if backend == "postgresql":
        # keepalives find a dead peer on an idle connection; store/watchdog.py ends a stalled statement
        args = {"connect_timeout": connect, "options": f"-c statement_timeout={statement * 1000}",
                "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
    elif backend in ("mysql", "mariadb"):
        # PyMySQL waits for the server's greeting with read_timeout: the connect timeout until
        # connected (a server that accepts and never answers), the statement timeout after
        args = {"connect_timeout": connect, "read_timeout": connect, "write_timeout": statement}
    else:
        return {}
    return {k: v for k, v in args.items() if k not in query}     # the URL's own settings win


def _mariadb_session(dbapi_connection, _record) -> None:
    """Strict sql_mode and the statement timeout on every new MariaDB connection."""
    _connect, statement = _timeouts()
    if getattr(dbapi_connection, "_read_timeout", None) is not None:
        dbapi_connection._read_timeout = statement      # PyMySQL: no public setter after connect
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET SESSION sql_mode = '{MARIADB_SQL_MODE}'")
        cursor.execute("SELECT VERSION()")
        if "mariadb" in str(cursor.fetchone()[0]).lower():
            cursor.execute(f"SET SESSION max_statement_time = {statement}")
    finally:
        cursor.close()


# --- reading back ----------------------------------------------------------------------------

def _bad_value(column, value) -> str | None:
    """Why a raw stored value is not of its column's type, or None."""
    if value is None:
        return None if column.nullable else "NULL in a required column"
    kind = column.type
    if isinstance(kind, Date):
        text = value.isoformat() if isinstance(value, dt.date) else value
        try:
            if not isinstance(text, str) or len(text) != 10:
                raise ValueError
            dt.date.fromisoformat(text)
        except ValueError:
            return f"{value!r} is not a date YYYY-MM-DD"
    elif isinstance(kind, Boolean):
        if value not in (0, 1) or isinstance(value, (str, float)):
            return f"{value!r} is not a boolean"
    elif isinstance(kind, Integer):
        if type(value) is not int:
            return f"{value!r} is not an integer"
    elif isinstance(kind, String) and not isinstance(value, str):
        return f"{value!r} is not text"
    return None


def _corrupt(url: str, conn: Connection, table, where) -> StoreCorruptError:
    """Find the first stored row of ``table`` (matched by ``where``) that does not read back."""
    raw = select(*[type_coerce(c, String()).label(c.name) if isinstance(c.type, Date) else c
                   for c in table.columns])
    if where is not None:
        raw = raw.where(where)
    keys = [c for c in table.primary_key.columns]
    for row in conn.execute(raw.order_by(*keys)):
        for column in table.columns:
            problem = _bad_value(column, row._mapping[column.name])
            if problem:
                ident = ", ".join(f"{k.name}={row._mapping[k.name]}" for k in keys)
                error = StoreCorruptError(_("database {url} is damaged: table {table}, row {row}, column {column}: "
                                            "{problem}").format(url=url, table=table.name, row=ident,
                                                                column=column.name, problem=problem))
                error.row = ident       # the row found (callers tell it from "cannot be read back")
                return error
    return StoreCorruptError(_("database {url} is damaged: table {table} cannot be read back").format(
        url=url, table=table.name))


def _checked_rows(table) -> Callable:
    """A check of the integer columns SQLite hands back as stored (it does not enforce types)."""
    names = [(c.name, c.nullable) for c in table.columns if isinstance(c.type, Integer)
             and not isinstance(c.type, Boolean)]

    def check(row) -> bool:
        for name, nullable in names:
            value = row._mapping[name]
            if type(value) is not int and not (nullable and value is None):
                return False
        return True
    return check


def _held_on(posts, day: dt.date):
    """A post is held on ``day`` when it started on or before it and its end is absent or not before it
    (``language.posts.covers``: the end day is the last day held)."""
    return and_(posts.c.start_date <= day, or_(posts.c.end_date.is_(None), posts.c.end_date >= day))


@dataclass(frozen=True)
class Scope:
    """The cadres an officer may see: those holding a post in ``units`` on ``as_of``.

    Applied inside the store's queries (an ``EXISTS`` over posts), so nothing outside
    it is ever read. Build one with :func:`scope_of` to include the units below.
    """

    units: frozenset
    as_of: dt.date
    also: dt.date | None = None     # and on this day too (the server: today, so a past date cannot widen it)

    def holds(self, cadre_id_column):
        """The SQL condition: the cadre of ``cadre_id_column`` holds a post in the units on the date(s)."""
        posts = models.posts
        days = [self.as_of] + ([self.also] if self.also not in (None, self.as_of) else [])
        return and_(*(exists().where(posts.c.cadre_id == cadre_id_column, posts.c.unit_id.in_(sorted(self.units)),
                                     _held_on(posts, day)) for day in days))


def scope_of(units: dict[str, dict], roots: Iterable[str], as_of: dt.date) -> Scope:
    """The scope of some units and every unit below them (through ``parent``), on a date."""
    children: dict[str, list[str]] = {}
    for uid, unit in units.items():
        if unit.get("parent"):
            children.setdefault(unit["parent"], []).append(uid)
    seen, todo = set(), [r for r in roots if r in units]
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo += children.get(uid, [])
    return Scope(frozenset(seen), as_of)


class FactStore:
    """Units and cadres stored in a SQL database.

    Args:
        url: A SQLAlchemy database URL, e.g. ``sqlite:///policy.db``,
            ``postgresql+psycopg://user@host/db`` or ``mysql+pymysql://root@host/db``.

    Raises:
        StoreUnavailableError: The URL is malformed, the driver is missing or the
            server does not answer.
        SchemaVersionError: The database was made by another schema version.
    """

    def __init__(self, url: str, upgrade: bool = False):
        self.url = _safe_url(url)
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
                # without it PyMySQL talks latin1/utf8mb3 and Chinese outside the BMP breaks
                parsed = parsed.update_query_dict({"charset": "utf8mb4"})
            backend = parsed.get_backend_name()
            self.engine = create_engine(parsed, connect_args=_connect_args(backend, parsed.query))
            self.dialect = self.engine.dialect.name
            if self.dialect in ("mysql", "mariadb"):
                event.listen(self.engine, "connect", _mariadb_session)
            elif self.dialect == "postgresql":
                from cadre_policy.store.watchdog import watch
                watch(self.engine, sum(_timeouts()))
            self._ensure_schema(upgrade)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreUnavailableError(_("cannot use database URL {url}: {reason}").format(
                url=self.url, reason=_first_line(exc))) from None
        except DBAPIError as exc:
            raise StoreUnavailableError(_("cannot open database {url}: {reason}").format(
                url=self.url, reason=_first_line(exc))) from None

    # schema ---------------------------------------------------------------------------------

    def _ensure_schema(self, upgrade: bool) -> None:
        """Make a new store whole; open one at this program's schema version; upgrade an older
        released version when asked (``policy facts upgrade``), else refuse it with that advice.
        Processes opening a new database together make it one after the other (``schema_lock``)."""
        with self.engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            if _meta.name in present and conn.execute(select(_meta.c.value)
                                                      .where(_meta.c.key == "schema_version")).first():
                self._open_schema(conn, upgrade, present)        # the usual case: made, no lock
                conn.commit()
                return
        made_once(self.engine, "fact_schema", 0, lambda conn: self._open_schema(conn, upgrade))

    def _open_schema(self, conn, upgrade: bool, present: set | None = None) -> None:
        if present is None:
            present = set(inspect(conn).get_table_names())
        ours = set(models.metadata.tables)
        if _meta.name in present:
            version = conn.execute(select(_meta.c.value)
                                   .where(_meta.c.key == "schema_version")).scalar()
            if version != str(SCHEMA_VERSION) and version in migrate.RELEASES and upgrade:
                if migrate.current(conn) is None:        # made before migrations were revisions
                    migrate.stamp(conn, migrate.RELEASES[version])
                migrate.upgrade(conn)
                version = conn.execute(select(_meta.c.value)
                                       .where(_meta.c.key == "schema_version")).scalar()
                present = set(inspect(conn).get_table_names())       # the tables a revision made
            if version != str(SCHEMA_VERSION) and version in migrate.RELEASES:
                raise SchemaVersionError(_(
                    "database {url} has fact-store schema version {version}, this program needs version "
                    "{needed}: upgrade it in place with `policy --db URL facts upgrade` (back it up first)"
                ).format(url=self.url, version=version, needed=SCHEMA_VERSION))
            if version != str(SCHEMA_VERSION):
                raise SchemaVersionError(_(
                    "database {url} has fact-store schema version {version}, this program needs version {needed}: "
                    "export it with the matching version and import it into a new database"
                ).format(url=self.url, version=version, needed=SCHEMA_VERSION))
            if ours - present:
                raise StoreCorruptError(_(
                    "database {url} lacks the fact tables {tables}: it was damaged; restore it from a backup "
                    "(a new database gets every table)").format(url=self.url, tables=", ".join(sorted(ours - present))))
        elif present & ours:
            raise SchemaVersionError(_(
                "database {url} holds fact tables ({tables}) without a schema version (made by an older "
                "version): use a new database").format(url=self.url, tables=", ".join(sorted(present & ours))))
        else:
            models.metadata.create_all(conn)
            conn.execute(insert(_meta), [{"key": "schema_version", "value": str(SCHEMA_VERSION)}])
            migrate.stamp(conn, migrate.head())

    def drop_all(self) -> None:
        """Drop every fact-store table (tests and tooling only)."""
        models.metadata.drop_all(self.engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def generation(self) -> str:
        """A token that changes with every committed write (import, bulk load)."""
        with self.engine.connect() as conn:
            return conn.execute(select(_meta.c.value).where(_meta.c.key == "generation")).scalar() or ""

    @contextmanager
    def one_state(self) -> Iterator[None]:
        """Around a run that reads in many transactions (chunks, worker processes): refuse its
        result when a write committed meanwhile, rather than report a mix of two states.

        Raises:
            StoreChangedError: the generation changed during the block.
        """
        before = self.generation()
        yield
        if self.generation() != before:
            raise StoreChangedError.during_run(self.url)

    @staticmethod
    def _stamp(conn: Connection) -> None:
        """Give the store a new generation, inside the writing transaction."""
        token = uuid.uuid4().hex
        if conn.execute(update(_meta).where(_meta.c.key == "generation").values(value=token)).rowcount == 0:
            conn.execute(insert(_meta), [{"key": "generation", "value": token}])

    def __enter__(self) -> "FactStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # reads ----------------------------------------------------------------------------------

    def units(self) -> dict[str, dict]:
        """Return every unit document by id, in id order.

        A damaged SQLite page under the units is said as such (SQLite reports only that a text does not
        decode), not as a database fault: it is read before any import's integrity check."""
        with self.engine.connect() as conn:
            try:
                return self._units(conn)
            except DBAPIError as exc:
                if self.dialect != "sqlite" or "decode" not in str(exc.orig):
                    raise
                raise StoreCorruptError(_("database {url} is damaged: table {table} cannot be read back").format(
                    url=self.url, table=_units.name) + _("; nothing written: restore it from a backup")) from None

    @staticmethod
    def _units(conn: Connection) -> dict[str, dict]:
        units = {r.id: _unit_doc(r) for r in conn.execute(select(_units).order_by(_units.c.id))}
        for r in conn.execute(select(_flags).order_by(_flags.c.unit_id, _flags.c.seq)):
            units[r.unit_id].setdefault("flags", []).append(r.flag)
        return units

    def cadre(self, cadre_id: str, scope: "Scope | None" = None) -> dict | None:
        """Return one canonical cadre document, or None if the id is unknown.

        With ``scope``, a cadre outside it is None as well (callers that must tell
        "unknown" from "not yours" ask :meth:`in_scope` after a None).
        """
        with self.engine.connect() as conn:
            if scope is None:
                docs = self._documents(conn, lambda col: col == cadre_id)
            else:
                docs = self._documents(conn, lambda col: and_(col == cadre_id, scope.holds(col)))
        return docs[0] if docs else None

    def in_scope_of(self, cadre_ids, scope: "Scope") -> set[str]:
        """Those of ``cadre_ids`` in the scope (one query)."""
        ids = sorted(set(cadre_ids))
        if not ids:
            return set()
        with self.engine.connect() as conn:
            return set(conn.execute(select(_cadres.c.id).where(_cadres.c.id.in_(ids),
                                                               scope.holds(_cadres.c.id))).scalars())

    def in_scope(self, cadre_id: str, scope: "Scope") -> bool:
        """Whether the cadre holds a post in one of the scope's units on the scope's date."""
        with self.engine.connect() as conn:
            return conn.execute(select(_cadres.c.id).where(_cadres.c.id == cadre_id,
                                                           scope.holds(_cadres.c.id))).first() is not None

    def search(self, text: str = "", unit: str | None = None, scope: "Scope | None" = None,
               as_of: dt.date | None = None, limit: int = 50) -> list[dict]:
        """Cadres whose id or name contains ``text``, in id order, at most ``limit``.

        Each hit is ``{id, name, post}`` with the post held on ``as_of`` (or the
        scope's date; None when none is held). ``unit`` keeps cadres holding a post in
        that unit on that date; ``scope`` keeps cadres holding one in its units.
        """
        day = scope.as_of if scope is not None else (as_of or dt.date.today())
        query = select(_cadres.c.id, _cadres.c.name).order_by(_cadres.c.id).limit(limit)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(_cadres.c.id.like(pattern, escape="\\"),
                                    _cadres.c.name.like(pattern, escape="\\")))
        if unit is not None:
            query = query.where(Scope(frozenset([unit]), day).holds(_cadres.c.id))
        if scope is not None:
            query = query.where(scope.holds(_cadres.c.id))
        with self.engine.connect() as conn:
            hits = [{"id": r.id, "name": r.name, "post": None} for r in conn.execute(query)]
            if hits:
                posts = models.posts
                held = (select(posts).where(posts.c.cadre_id.in_([h["id"] for h in hits]), _held_on(posts, day))
                        .order_by(posts.c.cadre_id, posts.c.start_date))
                held_by: dict[str, list] = {}
                for r in conn.execute(held):
                    held_by.setdefault(r.cadre_id, []).append(_post_doc(r))
                for hit in hits:
                    hit["post"] = current_post(held_by.get(hit["id"], []), day)
        return hits

    def has_cadres(self) -> bool:
        """True when the store holds any cadre."""
        with self.engine.connect() as conn:
            return conn.execute(select(_cadres.c.id).limit(1)).first() is not None

    def cadre_ids(self, unit: str | None = None, as_of: dt.date | None = None) -> list[str]:
        """Return cadre ids in id order; with ``unit``, only cadres in it on ``as_of`` (see ``chunks``)."""
        with self.engine.connect() as conn:
            return list(conn.execute(self._ids_query(unit, as_of)).scalars())

    def count_cadres(self, unit: str | None = None, as_of: dt.date | None = None) -> int:
        """Return the number of cadres in the store (with ``unit``: in it on ``as_of``)."""
        with self.engine.connect() as conn:
            if unit is not None:
                return conn.execute(select(func.count()).select_from(
                    self._ids_query(unit, as_of).order_by(None).subquery())).scalar_one()
            return conn.execute(select(func.count()).select_from(_cadres)).scalar_one()

    def chunks(self, unit: str | None = None, as_of: dt.date | None = None,
               chunk_size: int = 2000) -> Iterator[tuple]:
        """Describe the population in id order, ``chunk_size`` cadres a piece, for ``read``.

        Keyset queries on the id, nothing held but the current boundary. A piece is
        ``("range", first, last)`` (every cadre with an id in [first, last]) or, with
        ``unit``, ``("ids", (id, ...))``: the cadres in that unit on ``as_of``, that is with
        a post there that covers the day (``language.posts``). Pieces are small tuples, so
        worker processes can be handed them and read them with their own store.

        Args:
            unit: Only the cadres in this unit on ``as_of`` (required with it); a tuple of unit ids:
                in one of them (an officer's scope).
            as_of: The day the unit filter is read on.
            chunk_size: Cadres per piece.
        """
        if unit is None:
            yield from self._ranges(chunk_size)
            return
        last = None
        while True:
            if unit is None:
                query = select(_cadres.c.id).order_by(_cadres.c.id).limit(chunk_size)
                if last is not None:
                    query = query.where(_cadres.c.id > last)
            else:
                query = self._ids_query(unit, as_of).limit(chunk_size)
                if last is not None:
                    query = query.where(models.posts.c.cadre_id > last)
            with self.engine.connect() as conn:
                ids = list(conn.execute(query).scalars())
            if not ids:
                return
            yield ("range", ids[0], ids[-1]) if unit is None else ("ids", tuple(ids))
            if len(ids) < chunk_size:
                return
            last = ids[-1]

    def _ranges(self, chunk_size: int) -> Iterator[tuple]:
        """``("range", first, last)`` of every ``chunk_size`` cadres in id order, in one query: only the
        ids at the pieces' edges leave the database (row numbers computed there)."""
        numbered = select(_cadres.c.id, func.row_number().over(order_by=_cadres.c.id).label("n")).subquery()
        edges = (select(numbered.c.id, numbered.c.n)
                 .where(or_((numbered.c.n - 1) % chunk_size == 0, numbered.c.n % chunk_size == 0))
                 .order_by(numbered.c.n))
        with self.engine.connect() as conn:
            rows = conn.execute(edges).all()
            final = conn.execute(select(func.max(_cadres.c.id))).scalar()
        firsts = [cadre_id for cadre_id, n in rows if (n - 1) % chunk_size == 0]
        lasts = [cadre_id for cadre_id, n in rows if n % chunk_size == 0]
        if len(lasts) < len(firsts):            # the last piece is short
            lasts.append(final)
        yield from (("range", first, last) for first, last in zip(firsts, lasts))

    def read(self, chunk: tuple) -> list[dict]:
        """The canonical documents of one piece from ``chunks``, one query per table."""
        with self.engine.connect() as conn:
            if chunk[0] == "range":
                first, last = chunk[1], chunk[2]
                return self._documents(conn, lambda col: and_(col >= first, col <= last))
            return self._documents(conn, lambda col: col.in_(chunk[1]))

    def iter_cadre_chunks(self, unit: str | None = None, chunk_size: int = 2000,
                          as_of: dt.date | None = None) -> Iterator[list[dict]]:
        """Yield canonical cadre documents in id order, ``chunk_size`` at a time.

        Each chunk costs one query per table, so memory stays bounded by the chunk
        size however large the store is.

        Args:
            unit: Only cadres in this unit on ``as_of`` (a post there covers the day).
            chunk_size: Documents per chunk.
            as_of: The day the unit filter is read on (required with ``unit``).
        """
        for chunk in self.chunks(unit, as_of, chunk_size):
            yield self.read(chunk)

    @staticmethod
    def _ids_query(unit: str | None, as_of: dt.date | None):
        if unit is None:
            return select(_cadres.c.id).order_by(_cadres.c.id)
        if as_of is None:
            raise ValueError("a unit filter is read on a day: pass as_of")
        posts = models.posts
        in_unit = posts.c.unit_id == unit if isinstance(unit, str) else posts.c.unit_id.in_(sorted(unit))
        return (select(posts.c.cadre_id).distinct()
                .where(in_unit, post_covers(posts, as_of))
                .order_by(posts.c.cadre_id))

    @staticmethod
    def _documents(conn: Connection, where: Callable) -> list[dict]:
        """Build canonical documents for the cadres matched by ``where(id_column)``.

        One query per table; rows arrive ordered by (cadre, seq) so lists come out
        in canonical order. A row that does not read back as its columns' types is a
        :class:`StoreCorruptError` naming it.
        """
        def rows(table, query):
            check = _checked_rows(table) if conn.dialect.name == "sqlite" else None
            column = table.c.id if table is _cadres else table.c.cadre_id
            try:
                for r in conn.execute(query):
                    if check is not None and not check(r):
                        raise ValueError
                    yield r
            except (ValueError, TypeError):
                raise _corrupt(_safe_url(conn.engine.url), conn, table, where(column)) from None

        docs = {r.id: _cadre_doc(r)
                for r in rows(_cadres, select(_cadres).where(where(_cadres.c.id)).order_by(_cadres.c.id))}
        if not docs:
            return []
        reviews = {}
        for key, table, _sort, _row, doc_fn in _RECORDS:
            query = (select(table).where(where(table.c.cadre_id))
                     .order_by(table.c.cadre_id, table.c.seq))
            for r in rows(table, query):
                doc = docs.get(r.cadre_id)
                if doc is None:
                    continue
                rec = doc_fn(r)
                doc[key].append(rec)
                if key == "reviews":
                    reviews[(r.cadre_id, r.seq)] = rec
        if reviews:
            query = (select(_rect).where(where(_rect.c.cadre_id))
                     .order_by(_rect.c.cadre_id, _rect.c.review_seq, _rect.c.seq))
            for r in rows(_rect, query):
                review = reviews.get((r.cadre_id, r.review_seq))
                if review is not None:
                    review.setdefault("rectification", []).append(
                        {"stage": r.stage, "date": r.date, "result": r.result})
        return list(docs.values())

    # writes ---------------------------------------------------------------------------------

    def bulk_load(self, units: list[dict], cadres: Iterable[dict], chunk_size: int = 5000) -> int:
        """Load trusted canonical documents fast, in one transaction, without validation.

        For the population generator. Ids must be new to the store. Dates must be
        ``datetime.date``; record lists are sorted here, appraisal dates defaulted.

        Args:
            units: Unit documents.
            cadres: Cadre documents (any iterable; consumed once, ``chunk_size`` at a time).
            chunk_size: Cadres buffered per executemany round.

        Returns:
            The number of cadres loaded.
        """
        n = 0
        with self.engine.begin() as conn:
            _bulk_pragmas(conn, 256)
            self._stamp(conn)
            self._insert_units(conn, units)
            buffers = _empty_buffers()
            for doc in cadres:
                _cadre_rows(doc, buffers)
                n += 1
                if n % chunk_size == 0:
                    _write(conn, buffers)
            _write(conn, buffers)
        self._analyze()
        return n

    def _analyze(self) -> None:
        """Refresh the planner's statistics after a write.

        Right after a bulk load PostgreSQL has none (autovacuum comes later) and guesses one
        row per filter: the structure query then probed posts by unit for every member
        (83,119 index probes at 20,000 cadres: 22 s, 7.9 s after ANALYZE, as on SQLite).
        """
        tables = [t.name for t in (_units, _flags, _cadres) + _RECORD_TABLES]
        if self.dialect == "postgresql":
            statements = [f"ANALYZE {', '.join(tables)}"]
        elif self.dialect in ("mysql", "mariadb"):
            statements = [f"ANALYZE TABLE {', '.join(tables)}"]
        else:
            return
        with self.engine.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement).close()
            conn.commit()

    def _check_integrity(self, conn: Connection) -> None:
        """Refuse to write into a damaged SQLite file (pages the write would not read may be bad)."""
        if self.dialect != "sqlite":
            return      # server databases check their own pages
        problems = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            first = " ".join(problems[0].replace("*** in database main ***", "").split())
            raise StoreCorruptError(_("database {url} is damaged ({problem}); nothing written: restore it "
                                      "from a backup").format(url=self.url, problem=first))

    @staticmethod
    def _insert_units(conn: Connection, units: list[dict]) -> None:
        if not units:
            return
        conn.execute(insert(_units), [_unit_row(u) for u in units])
        flags = [{"unit_id": u["id"], "seq": i, "flag": f}
                 for u in units for i, f in enumerate(u.get("flags") or ())]
        if flags:
            conn.execute(insert(_flags), flags)

    def upsert(self, units: list[dict], cadres: list[dict], chunk_size: int = 2000) -> UpsertResult:
        """Insert or replace canonical documents by id, all in one transaction.

        A changed cadre is replaced as a whole (its record lists too); an unchanged
        one is not written at all.

        Args:
            units: Canonical unit documents.
            cadres: Canonical cadre documents.
            chunk_size: Cadres compared and written per round.

        Returns:
            Added / updated / unchanged counts for units and cadres.
        """
        batches = [(units, [])] + [([], cadres[i:i + chunk_size]) for i in range(0, len(cadres), chunk_size)]
        return self.upsert_batches(batches)

    def upsert_batches(self, batches: Iterable[tuple[list[dict], list[dict] | Rows]]) -> UpsertResult:
        """:meth:`upsert` of ``(units, cadres)`` batches taken one at a time, all in one transaction.

        The streaming importer validates while it writes: if ``batches`` raises, the
        transaction is rolled back and the store is unchanged. A batch's units are written
        before its cadres; no cadre column refers to a unit, so their order is free. A batch's
        cadres are canonical documents or :class:`Rows` laid out already (ids new to the
        import, as the importer checks).
        """
        result = UpsertResult(Counts(), Counts())
        try:
            with self.engine.begin() as conn:
                self._check_integrity(conn)
                _bulk_pragmas(conn, 64)        # an import's peak memory stays near its documents'
                existing = self._units(conn)
                # an empty store holds none of the ids: nothing to compare the rows with
                empty = conn.execute(select(_cadres.c.id).limit(1)).first() is None
                for units, cadres in batches:
                    self._upsert_units(conn, existing, units, result)
                    if type(cadres) is Rows:
                        self._upsert_rows(conn, cadres, result, empty)
                    elif cadres:
                        self._upsert_cadres(conn, cadres, result)
                if result.changed:
                    self._stamp(conn)
        except IntegrityError:           # validated rows collide only with a concurrent import's
            raise ImportCollisionError.of() from None
        if result.changed:
            self._analyze()
        return result

    def _upsert_units(self, conn: Connection, existing: dict, units: list[dict], result: UpsertResult) -> None:
        new_units, replaced = [], []
        for u in units:
            old = existing.get(u["id"])
            if old is None:
                result.units.added += 1
                new_units.append(u)
            elif old != u:
                result.units.updated += 1
                new_units.append(u)
                replaced.append(u["id"])
            else:
                result.units.unchanged += 1
        if replaced:
            conn.execute(delete(_flags).where(_flags.c.unit_id.in_(replaced)))
            conn.execute(delete(_units).where(_units.c.id.in_(replaced)))
        self._insert_units(conn, new_units)

    def _upsert_cadres(self, conn: Connection, part: list[dict], result: UpsertResult) -> None:
        ids = [c["id"] for c in part]
        old = {d["id"]: d for d in self._documents(conn, lambda col: col.in_(ids))}
        buffers, replaced = _empty_buffers(), []
        for doc in part:
            before = old.get(doc["id"])
            if before is None:
                result.cadres.added += 1
            elif before != doc:
                result.cadres.updated += 1
                replaced.append(doc["id"])
            else:
                result.cadres.unchanged += 1
                continue
            _cadre_rows(doc, buffers)
        self._delete_cadres(conn, replaced)
        _write(conn, buffers)


    def _upsert_rows(self, conn: Connection, rows: Rows, result: UpsertResult, empty: bool) -> None:
        """:meth:`_upsert_cadres` of cadres laid out as rows."""
        ids = rows.ids()
        old = {} if empty else {d["id"]: d for d in self._documents(conn, lambda col: col.in_(ids))}
        result.cadres.added += len(ids) - len(old)
        tables = rows.tables
        if old:
            replaced, unchanged = [], set()
            for n, cadre_id in enumerate(ids):
                before = old.get(cadre_id)
                if before is None:
                    continue
                if before != rows.document(n):
                    replaced.append(cadre_id)
                else:
                    unchanged.add(cadre_id)
            result.cadres.updated += len(replaced)
            result.cadres.unchanged += len(unchanged)
            self._delete_cadres(conn, replaced)
            if unchanged:
                tables = {table: [row for row in out if row[0] not in unchanged] for table, out in tables.items()}
        sqlite = conn.dialect.name == "sqlite"
        for table, out in tables.items():
            if out and sqlite:
                conn.exec_driver_sql(_sqlite_insert(conn, table)[0], out)
            elif out:
                conn.execute(insert(table), [_with_dates(table, row) for row in out])

    @staticmethod
    def _delete_cadres(conn: Connection, ids: list[str]) -> None:
        if ids:
            for table in _RECORD_TABLES + (_cadres,):
                col = table.c.id if table is _cadres else table.c.cadre_id
                conn.execute(delete(table).where(col.in_(ids)))


def _with_dates(table, row: tuple) -> dict:
    """A row tuple of :class:`Rows` as Core's parameters: by column, ISO text as dates."""
    return {c.key: (dt.date.fromisoformat(v) if v is not None and isinstance(c.type, Date) else v)
            for c, v in zip(table.columns, row)}


def open_store(url: str) -> FactStore:
    """Open the fact store at ``url`` (see :class:`FactStore` for the errors raised)."""
    try:
        return FactStore(url)
    except SQLAlchemyError as exc:  # anything else the driver throws while connecting
        raise StoreUnavailableError(_("cannot open database {url}: {reason}").format(
            url=_safe_url(url), reason=_first_line(exc))) from None
