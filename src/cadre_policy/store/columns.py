"""The population read in bulk, a column per field: what the columnar derivation reads.

One query per table over the whole population (or an id range), rows in canonical order,
values straight into numpy arrays: no document is built. Dates are read as their stored
text on SQLite and parsed by numpy in one call; text values are shared per distinct value,
so a million posts cost a pointer each for their rank, not a string. Everything is read in
one transaction, with the store's generation token, so a population run sees one state.
"""
from __future__ import annotations

import sys

import numpy as np
from sqlalchemy import Date, String, and_, select, type_coerce

from cadre_policy.store.errors import StoreChangedError, StoreCorruptError, StoreUnavailableError
from cadre_policy.store.fact_store import _timeouts
from cadre_policy.store import models
from cadre_policy.i18n import _
from cadre_policy.language import periods, record_table
from cadre_policy.record.columns import CADRE_FIELDS, RECORD_FIELDS, Population, Records, Vec

#: record list -> (table, {population field: column name}), from the record schema table
_TABLES = {kind.list: (models.metadata.tables[kind.table], {f.name: f.column for f in kind.fields.values() if f.name in RECORD_FIELDS[kind.list]})
           for kind in record_table.kinds().values() if kind.list in RECORD_FIELDS}
_EPOCH = np.datetime64(periods.EPOCH.isoformat(), "D")
_meta = models.schema_meta


def read_population(store, first: str | None = None, last: str | None = None,
                    names: bool = False) -> tuple[Population, str]:
    """Every cadre (with an id in [first, last] when given) and its records, in columns.

    Args:
        store: The ``FactStore``.
        first: The first cadre id of a range (with ``last``).
        last: The last cadre id of a range.
        names: Read the cadres' names too (no rule reads one; reports print them).

    Returns:
        (the population, the store's generation token when it was read).

    Raises:
        StoreCorruptError: a stored value does not read back as its column's type.
        StoreUnavailableError: the database cannot be read (a timeout, a lost connection).
        StoreChangedError: a write committed while the tables were read.
    """
    source = _arrow_source(store)
    if source is not None:
        return _read_arrow(store, source, first, last, names)
    cadres = models.cadres
    with store.engine.connect() as conn:
        with conn.begin():            # one transaction: one state of the store
            generation = conn.execute(select(_meta.c.value).where(_meta.c.key == "generation")).scalar() or ""
            text_dates = conn.dialect.name == "sqlite"

            def where(column):
                return None if first is None else and_(column >= first, column <= last)

            columns = {name: name for name in CADRE_FIELDS if name != "name" or names}
            rows, got = _fetch(conn, cadres, columns, where(cadres.c.id), [cadres.c.id], text_dates)
            ids = np.empty(len(rows[0]) if rows else 0, dtype=object)
            ids[:] = rows[0] if rows else []
            index = {cadre_id: i for i, cadre_id in enumerate(ids)}
            cadre = {name: _vec(values, CADRE_FIELDS[name], store, cadres, name)
                     for name, values in zip(got, rows)}
            cadre.setdefault("name", Vec.empty(len(ids), "str"))        # not read unless asked: no rule reads a name
            lists = {}
            for name, (table, mapping) in _TABLES.items():
                keys = [table.c.cadre_id] + ([table.c.review_seq] if name == "rectification" else []) + [table.c.seq]
                extra = {"_cadre": "cadre_id", "_seq": "review_seq" if name == "rectification" else "seq"}
                fetched, got = _fetch(conn, table, {**extra, **mapping}, where(table.c.cadre_id), keys, text_dates)
                values = dict(zip(got, fetched)) if fetched else {k: [] for k in got}
                owners = _owners(values.pop("_cadre"), index)
                seqs = np.array(values.pop("_seq"), dtype=np.int64)
                records = Records(name, owners, {f: _vec(values[f], RECORD_FIELDS[name][f], store, table, mapping[f])
                                                 for f in RECORD_FIELDS[name]})
                records.fields["_seq"] = Vec(seqs, np.ones(len(seqs), dtype=bool), "int")
                lists[name] = records
            # READ COMMITTED (PostgreSQL without its ADBC driver) reads each table at its own moment
            now = conn.execute(select(_meta.c.value).where(_meta.c.key == "generation")).scalar() or ""
            if now != generation:
                raise StoreChangedError.during_run(store.url)
    return _population(ids, cadre, lists), generation


def read_names(store, ids) -> dict:
    """cadre id -> name of the cadres ``ids`` (the column read leaves names out: no rule reads one)."""
    cadres = models.cadres
    ids = list(ids)
    out: dict = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            query = select(cadres.c.id, cadres.c.name).where(cadres.c.id.in_(ids[start:start + 500]))
            out.update((cadre_id, name) for cadre_id, name in conn.execute(query))
    return out


def _population(ids, cadre: dict, lists: dict) -> Population:
    """The population of what was read: checks linked to their reviews, nominations' 破格 as documents say it."""
    _link_checks(lists)
    exceptional = lists["nominations"].fields["exceptional"]
    exceptional.mask &= exceptional.values == 1       # only when true, as in the documents
    return Population(ids, cadre, lists)


def _fetch(conn, table, columns: dict, where, order, text_dates: bool):
    """(one list per selected column, their population names), rows in ``order``."""
    selected = []
    for name, column_name in columns.items():
        column = table.c[column_name]
        # SQLite keeps dates as text: numpy parses them in one call, faster than a date per value
        selected.append((type_coerce(column, String) if text_dates and isinstance(column.type, Date) else column)
                        .label(name))
    query = select(*selected).order_by(*order)
    if where is not None:
        query = query.where(where)
    result = conn.execute(query)
    # the driver's own rows: the columns are typed here, SQLAlchemy's per-row objects cost 40 % more
    rows = result.cursor.fetchall() if result.cursor is not None else result.fetchall()
    names = list(columns)
    return (list(zip(*rows)) if rows else []), names


def _owners(cadre_ids, index: dict) -> np.ndarray:
    """The cadre index of each row; rows arrive grouped by cadre, so each id is looked up once."""
    out = np.empty(len(cadre_ids), dtype=np.int64)
    previous, value = None, -1
    for i, cadre_id in enumerate(cadre_ids):
        if cadre_id != previous:
            previous, value = cadre_id, index.get(cadre_id, -1)
        out[i] = value
    return out


def _vec(values, kind: str, store, table, column: str) -> Vec:
    """A column of one kind from fetched values; a value of another type is a damaged store."""
    n = len(values)
    try:
        if kind == "date":
            days = np.array(values, dtype="datetime64[D]")
            mask = ~np.isnat(days)
            return Vec(np.where(mask, (days - _EPOCH).astype(np.int64), 0), mask, "date")
        if kind in ("int", "bool"):
            mask = np.fromiter((v is not None for v in values), dtype=bool, count=n)
            numbers = np.array([v if v is not None else 0 for v in values], dtype=np.int64) if n else \
                np.zeros(0, dtype=np.int64)
            if kind == "int" and not all(type(v) is int for v in values if v is not None):
                raise ValueError
            return Vec(numbers, mask, kind)
    except (ValueError, TypeError, OverflowError):
        raise _damaged(store, table, column) from None
    return _text(values, kind, store, table, column)


def _text(values, kind: str, store, table, column: str) -> Vec:
    seen: dict = {None: -1}
    codes = np.fromiter((seen.setdefault(v, len(seen) - 1) for v in values), dtype=np.int64, count=len(values))
    shared = np.empty(len(seen), dtype=object)
    for value, code in seen.items():
        if value is not None and not isinstance(value, str):
            raise _damaged(store, table, column)
        shared[code] = value           # code -1 lands on the last slot: None
    shared[-1] = None
    return Vec(shared[codes], codes >= 0, kind, codes)


def _link_checks(lists: dict) -> None:
    """Each rectification check's review: the row of (its cadre, its review's seq) in ``reviews``."""
    reviews, checks = lists["reviews"], lists["rectification"]
    width = int(max(reviews.fields["_seq"].values.max(initial=0), checks.fields["_seq"].values.max(initial=0))) + 1
    keys = reviews.cadre * width + reviews.fields["_seq"].values
    wanted = checks.cadre * width + checks.fields["_seq"].values
    at = np.searchsorted(keys, wanted)
    found = (at < len(keys)) & (keys[np.minimum(at, max(len(keys) - 1, 0))] == wanted) if len(keys) else \
        np.zeros(len(wanted), dtype=bool)
    keep = found & (checks.cadre >= 0)
    lists["rectification"] = checks.subset(keep)
    lists["rectification"].parent = at[keep]
    for name, records in lists.items():
        records.fields.pop("_seq", None)
        if name != "rectification" and (records.cadre < 0).any():
            lists[name] = records.subset(records.cadre >= 0)


def _unreadable(store, exc: Exception) -> StoreUnavailableError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreUnavailableError(_("cannot open database {url}: {reason}").format(url=store.url, reason=first))


def _damaged(store, table, column: str) -> StoreCorruptError:
    """The damage, naming the row: the table is scanned once more, row by row (an error path only)."""
    from cadre_policy.store.fact_store import _corrupt
    with store.engine.connect() as conn:
        found = _corrupt(store.url, conn, table, None)
    if getattr(found, "row", None):
        return found
    return StoreCorruptError(_("database {url} is damaged: table {table}, column {column}: a stored value does "
                               "not read back as its type (run policy facts export to find the row)").format(
        url=store.url, table=table.name, column=column))


# ---- SQLite through ADBC into Arrow ----------------------------------------------------------
def _arrow_source(store) -> tuple | None:
    """(dialect, ADBC connect function, its argument) for SQLite and PostgreSQL stores whose ADBC
    driver is installed; None otherwise (SQLAlchemy reads)."""
    url = store.engine.url
    backend = url.get_backend_name()
    try:
        _adbc_without_polars()
        if backend == "sqlite" and url.database and url.database != ":memory:":
            import adbc_driver_sqlite.dbapi as adbc
            from urllib.parse import quote
            # a URI, so the path is quoted: '?' or '#' in a file name would end it
            return "sqlite", adbc.connect, f"file:{quote(url.database)}?mode=ro"
        if backend == "postgresql":
            import adbc_driver_postgresql.dbapi as adbc
            return "postgresql", adbc.connect, _libpq_uri(url)
    except ImportError:
        return None
    return None


def _adbc_without_polars() -> None:
    """Import ADBC's DB-API layer without polars: where polars is installed, that layer imports it
    (≈ 0.13 CPU-s in every worker) to offer a backend this package never uses."""
    if "adbc_driver_manager.dbapi" in sys.modules or "polars" in sys.modules:
        return
    sys.modules["polars"] = None        # `import polars` raises ImportError, which ADBC expects
    try:
        import adbc_driver_manager.dbapi  # noqa: F401
    finally:
        del sys.modules["polars"]


def _libpq_uri(url) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (its query, e.g. ``options``, kept)."""
    from urllib.parse import quote, urlencode
    auth = quote(url.username or "", safe="")
    if url.password:
        auth += ":" + quote(str(url.password), safe="")
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    query = {k: (v if isinstance(v, str) else v[-1]) for k, v in url.query.items()}
    query.setdefault("connect_timeout", str(_timeouts()[0]))       # the store's own connect timeout
    return f"postgresql://{auth}{'@' if auth else ''}{host}{port}/{quote(url.database or '')}?{urlencode(query)}"


_NULL_INT = -(2 ** 63)


def _arrow_select(table, mapping: dict, where: bool, keys: list[str], dialect: str) -> str:
    """The SELECT of a table's columns in canonical order (static text; the id range is bound).

    On SQLite every column is made non-null: ADBC's SQLite driver types a column by the first
    rows it sees, so a column starting with NULLs would be typed as an integer and fail on the
    first date. NULL becomes NUL in text, '' in dates and the smallest integer in numbers;
    ``_arrow_vec`` turns those back. PostgreSQL columns arrive typed, with their NULLs.
    """
    if dialect == "postgresql":
        sql = f'SELECT {", ".join(f"{c} AS _{n}" for n, c in mapping.items())} FROM {table.name}'
        if where:
            sql += f" WHERE {keys[0]} >= $1 AND {keys[0]} <= $2"
        return sql + " ORDER BY " + ", ".join(keys)
    parts = []
    for name, column_name in mapping.items():
        column = table.c[column_name]
        # NUL cannot be in stored text (the import refuses control characters on every backend)
        sentinel = "''" if isinstance(column.type, Date) else "char(0)" if isinstance(column.type, String) \
            else str(_NULL_INT)
        parts.append(f'COALESCE("{column_name}", {sentinel}) AS "{name}"')
    sql = f'SELECT {", ".join(parts)} FROM "{table.name}"'
    if where:
        sql += f' WHERE "{keys[0]}" >= ? AND "{keys[0]}" <= ?'
    return sql + " ORDER BY " + ", ".join(f'"{k}"' for k in keys)


def _read_arrow(store, source: tuple, first, last, names: bool = False) -> tuple[Population, str]:
    dialect, connect, target = source
    params = () if first is None else (first, last)
    try:
        conn = connect(target, autocommit=False)
    except Exception as exc:           # the drivers' errors share no base class but Exception
        raise _unreadable(store, exc) from None
    try:
        cursor = conn.cursor()
        if dialect == "postgresql":            # the store's statement timeout holds here too
            cursor.execute(f"SET statement_timeout = {int(_timeouts()[1]) * 1000}")

        def fetch(table, mapping, keys):
            sql = _arrow_select(table, mapping, first is not None, keys, dialect)
            try:
                cursor.execute(sql, parameters=params or None)
                got = cursor.fetch_arrow_table()
            except Exception as exc:        # the drivers' errors share no base class but Exception
                if "type mismatch" in str(exc).lower() or type(exc).__name__ == "DataError":
                    raise _damaged(store, table, "?") from None      # a value of another type is stored
                raise _unreadable(store, exc) from None             # a timeout, a lost connection
            return got.rename_columns(list(mapping)) if dialect == "postgresql" else got

        def generation_now():
            mark = "$1" if dialect == "postgresql" else "?"
            try:
                cursor.execute(f"SELECT value FROM {_meta.name} WHERE key = {mark}", parameters=("generation",))
                found = cursor.fetchone()
            except Exception as exc:
                raise _unreadable(store, exc) from None
            return found[0] if found else ""
        generation = generation_now()
        cadres = models.cadres
        columns = {name: name for name in CADRE_FIELDS if name != "name" or names}
        got = fetch(cadres, columns, ["id"])
        id_column = got.column("id").combine_chunks()
        ids = np.array(id_column.to_pylist(), dtype=object)
        cadre = {name: _arrow_vec(got.column(name), CADRE_FIELDS[name], store, cadres, name) for name in columns}
        cadre.setdefault("name", Vec.empty(len(ids), "str"))
        lists, groups = {}, {}
        for name, (table, mapping) in _TABLES.items():        # each table turned into columns as it comes
            seq = "review_seq" if name == "rectification" else "seq"
            keys = ["cadre_id"] + (["review_seq"] if name == "rectification" else []) + ["seq"]
            got = fetch(table, {"_cadre": "cadre_id", "_seq": seq, **mapping}, keys)
            groups[name] = _groups(store, table, got.column("_cadre"), id_column.type)
            records = Records(name, None, {f: _arrow_vec(got.column(f), RECORD_FIELDS[name][f], store, table,
                                                         mapping[f]) for f in RECORD_FIELDS[name]})
            records.fields["_seq"] = _arrow_vec(got.column("_seq"), "int", store, table, seq)
            lists[name] = records
        for name, owners in _arrow_owners(id_column, groups).items():
            lists[name].cadre = owners
        if generation_now() != generation:        # PostgreSQL reads each table at its own moment
            raise StoreChangedError.during_run(store.url)
        conn.rollback()
    finally:
        conn.close()
    return _population(ids, cadre, lists), generation


def _groups(store, table, column, id_type) -> tuple:
    """(the first row of each cadre's group, the group's cadre id, the number of rows): rows arrive
    grouped by cadre, so each group's cadre is looked up once."""
    import pyarrow.compute as pc
    n = len(column)
    if n == 0:
        return np.zeros(0, dtype=np.int64), None, 0
    column = column.combine_chunks()
    if column.type != id_type:          # e.g. a number stored as a cadre id
        raise _damaged(store, table, "cadre_id")
    starts = np.flatnonzero(pc.not_equal(column.slice(1), column.slice(0, n - 1)).to_numpy(zero_copy_only=False))
    starts = np.insert(starts + 1, 0, 0)
    return starts, column.take(starts), n


def _arrow_owners(ids, groups: dict) -> dict:
    """Record list -> the cadre index of each of its rows (-1: a row whose cadre is not in ``ids``).

    The ids are hashed once for every list: one dictionary encoding of the ids followed by the
    groups' cadre ids (``_groups``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    found = [heads for _starts, heads, _n in groups.values() if heads is not None]
    codes = pc.dictionary_encode(pa.concat_arrays([ids] + found)).indices.fill_null(-1).to_numpy(
        zero_copy_only=False).astype(np.int64) if len(ids) else np.zeros(0, dtype=np.int64)
    codes[codes >= len(ids)] = -1            # ids are unique: codes below len(ids) are their own rows
    out, at = {}, len(ids)
    for name, (starts, heads, n) in groups.items():
        if heads is None or not len(ids):
            out[name] = np.full(n, -1, dtype=np.int64)
            continue
        out[name] = np.repeat(codes[at:at + len(starts)], np.diff(np.append(starts, n)))
        at += len(starts)
    return out


def _arrow_vec(column, kind: str, store, table, name: str) -> Vec:
    """A Vec from a non-null Arrow column written by ``_arrow_select`` (sentinels are the missing values)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if len(column) == 0:          # no rows: the driver could not tell the column's type
        return Vec.empty(0, kind)
    try:
        if kind in ("int", "bool"):
            if pa.types.is_boolean(column.type):
                column = pc.cast(column, pa.int64())
            if not pa.types.is_integer(column.type):
                raise ValueError
            values = pc.fill_null(pc.cast(column, pa.int64()), _NULL_INT).to_numpy().astype(np.int64, copy=False)
            mask = values != _NULL_INT
            if kind == "bool" and not np.isin(values[mask], (0, 1)).all():
                raise ValueError
            return Vec(np.where(mask, values, 0), mask, kind)
        if kind == "date" and pa.types.is_date32(column.type):           # PostgreSQL: typed, with NULLs
            mask = pc.is_valid(column).to_numpy(zero_copy_only=False)
            days = pc.fill_null(pc.cast(column, pa.int32()), 0).to_numpy(zero_copy_only=False)
            return Vec(days.astype(np.int64), mask, "date")
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            raise ValueError
        if kind == "date":
            mask = pc.not_equal(column, "").to_numpy(zero_copy_only=False)
            texts = pc.if_else(mask, column, "1970-01-01")
            # Arrow's cast takes exactly YYYY-MM-DD (a real day) and raises on anything else
            days = pc.cast(pc.cast(texts, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
            return Vec(np.where(mask, days.astype(np.int64), 0), mask, "date")
    except (ValueError, TypeError, pa.ArrowInvalid):
        raise _damaged(store, table, name) from None
    encoded = pc.dictionary_encode(column).combine_chunks()
    texts = encoded.dictionary.to_pylist()
    shared = np.empty(len(texts) + 1, dtype=object)
    shared[:-1] = texts
    shared[-1] = None
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    if "\x00" in texts:     # NUL stands for NULL (numpy's own strings would drop it: compare in Python)
        codes[codes == texts.index("\x00")] = -1
    return Vec(shared[codes], codes >= 0, kind, codes)
