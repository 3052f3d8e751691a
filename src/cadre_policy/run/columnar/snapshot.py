"""Derived facts of a partition kept on disk, keyed by the store's content version.

A population run over a store nobody has written to since the last run derives exactly what
it derived then. A snapshot holds one partition's ``FactTable`` for one compiled set (and the
unit of each cadre's current post), keyed by a SHA-256 of: the store's URL and generation
token (``FactStore.generation``: a new one with every committed write, so an import
invalidates every snapshot of that store), the partition's id range, the evaluation date,
the code version (``load.cache.code_version``) and what derivation depends on (the derived
quantities, the parameters they read, the fields the rules read).

Files are plain ``.npz`` archives read with ``allow_pickle=False``: no object is unpickled,
so a file planted in the cache can at worst give numbers, never run code. Snapshots live
under ``<cache dir>/snapshots`` (``load.cache.cache_dir``; ``POLICY_CACHE=off`` disables
them); directories of earlier generations are removed when a new one is written, at most
``POLICY_SNAPSHOT_MB`` (2,048) megabytes are kept per store (the least recently used go
first), and a file that cannot be read is ignored and derived again.

Beside the tables, the *baseline's firings* of each partition are kept (``save_firings``):
which tests fired and which facts were asserted for every cadre, keyed by the derivation
digest and the compiled rules (``firings_digest``). A second draft on the same store then
neither loads the baseline's table nor evaluates its rules: it evaluates only its own side.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from cadre_policy.load.cache import cache_dir, code_version
from cadre_policy.run.columnar.engine import FiredMatrix
from cadre_policy.run.columnar.table import FactColumn, FactTable

_FORMAT = "2"          # 2: pieces grouped by type in a few members (``_arrays_of``)
#: Megabytes of snapshots kept per store; the least recently used go first (``POLICY_SNAPSHOT_MB``).
LIMIT_MB = 2048


def derivation_digest(runner, derivation: tuple) -> str:
    """What a compiled set's derived facts depend on, besides the store and the partition.

    Args:
        runner: The ``PolicyRunner`` (its evaluation date and the fields its rules read).
        derivation: Its derived quantities and the parameters they read (``whatif.run.derivation_key``).
    """
    text = repr((_FORMAT, runner.as_of, derivation, sorted(runner.compiled.fields.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def firings_digest(runner, derivation: tuple) -> str:
    """What a compiled set's firings over a partition depend on: its derived facts and its rules."""
    text = repr((derivation_digest(runner, derivation), runner.compiled.strata))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Snapshots:
    """The snapshot files of one store at one generation.

    Args:
        url: The store's URL (only its digest is written anywhere).
        generation: The store's generation token when the partition was read.
    """

    def __init__(self, url: str, generation: str):
        root = cache_dir()
        store = hashlib.sha256(f"{code_version()}\0{url}".encode()).hexdigest()[:24]
        self.store_dir = None if root is None or not generation else root / "snapshots" / store
        self.dir = None if self.store_dir is None else self.store_dir / hashlib.sha256(
            generation.encode()).hexdigest()[:24]

    def _file(self, digest: str, first: str, last: str, kind: str = "") -> Path | None:
        if self.dir is None:
            return None
        part = hashlib.sha256(f"{first}\0{last}".encode()).hexdigest()[:24]
        return self.dir / f"{digest}-{part}{kind}.npz"

    def load(self, digest: str, first: str, last: str):
        """(cadre ids, FactTable, (unit codes, unit names)) saved for this partition, or None."""
        return self._read(self._file(digest, first, last), _table_from)

    def load_firings(self, digest: str, first: str, last: str, tests: list, facts: list):
        """(cadre ids, FiredMatrix, (unit codes, unit names)) saved for this partition, or None."""
        return self._read(self._file(digest, first, last, ".fired"), lambda archive: _firings_from(archive, tests,
                                                                                                 facts))

    def save(self, digest: str, first: str, last: str, ids, table: FactTable, units: tuple) -> None:
        """Write a partition's table; earlier generations of the same store are removed."""
        self._write(self._file(digest, first, last), ids, _arrays_of(table, units))

    def save_firings(self, digest: str, first: str, last: str, ids, matrix, units: tuple) -> None:
        """Write a partition's firings (``FiredMatrix``): two packed bit matrices, a few bytes a cadre."""
        self._write(self._file(digest, first, last, ".fired"), ids, {
            "n": np.array([matrix.n]), "fired": np.packbits(matrix.fired, axis=1),
            "asserted": np.packbits(matrix.asserted, axis=1), **_units_of(units)})

    @staticmethod
    def _read(path: Path | None, parse):
        if path is None or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                found = parse(archive)
            os.utime(path)               # recently used: the last to be removed for space
            return found
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None          # unreadable: derived again (and written again)

    def _write(self, path: Path | None, ids, arrays: dict) -> None:
        """Write one archive; earlier generations of the same store are removed."""
        if path is None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            for old in self.store_dir.iterdir():
                if old != self.dir and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            fd, temporary = tempfile.mkstemp(dir=self.dir, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                np.savez(out, ids=np.array(list(ids), dtype=str), **arrays)
            os.replace(temporary, path)
            _trim(self.dir, _limit_bytes())
        except OSError:
            return               # a full or read-only disk costs the next run its shortcut, nothing else


def _limit_bytes() -> int:
    raw = os.environ.get("POLICY_SNAPSHOT_MB", "").strip()
    try:
        megabytes = float(raw) if raw.isascii() and raw else LIMIT_MB
    except ValueError:
        megabytes = LIMIT_MB
    return int(max(megabytes, 0) * 2 ** 20)


def _trim(directory: Path, limit: int) -> None:
    """Remove the least recently used snapshots until those left fit in ``limit`` bytes."""
    files = sorted(directory.glob("*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
    kept = 0
    for file in files:
        kept += file.stat().st_size
        if kept > limit:
            file.unlink(missing_ok=True)


#: What each slice of a snapshot holds (the ``index`` rows' second field)
_FIELDS = ("present", "num", "wide", "num_mask", "text_values", "text_codes", "text_mask")


def _arrays_of(table: FactTable, units: tuple) -> dict:
    """A table as a few arrays: every column's pieces concatenated by type, with an index of slices.

    A partition has some 200 pieces; an archive member each made reading one cost a zip entry,
    a header parse and a CRC per piece (most of a cached run's load), so pieces of one type share
    a member and ``index`` rows (column, field, member, start, length) say where each lies.
    """
    groups: dict = {}                   # member name -> [arrays]
    sizes: dict = {}
    index = []

    def put(column: int, field: str, values: np.ndarray) -> None:
        member = "texts" if values.dtype.kind == "U" else f"g{values.dtype.str}"
        groups.setdefault(member, []).append(values)
        start = sizes.get(member, 0)
        sizes[member] = start + len(values)
        index.append((column, _FIELDS.index(field), _MEMBERS.index(member), start, len(values)))

    for i, column in enumerate(table.columns.values()):
        put(i, "present", np.packbits(column.present))
        if column.num is not None:
            if column.num.dtype == object:      # beyond int64: kept as decimal text
                put(i, "wide", np.array([str(v) for v in column.num], dtype=str))
            else:
                put(i, "num", _narrow(column.num))
            put(i, "num_mask", np.packbits(column.num_mask))
        if column.text is not None:
            values, codes_ = column.text_codes()
            put(i, "text_values", np.array(list(values), dtype=str))
            put(i, "text_codes", _narrow(codes_))
            put(i, "text_mask", np.packbits(column.text_mask))
    arrays = {"n": np.array([table.n]), **_units_of(units),
              "paths": np.array(list(table.columns), dtype=str),
              "index": np.array(index, dtype=np.int64).reshape(-1, 5)}
    for member, parts in groups.items():
        arrays[member] = np.concatenate(parts) if member != "texts" else np.array(
            [v for part in parts for v in part.tolist()], dtype=str)
    return arrays


def _units_of(units: tuple) -> dict:
    codes, names = units
    return {"unit_codes": codes, "unit_names": np.array(["" if u is None else u for u in names], dtype=str),
            "unit_none": np.array([u is None for u in names], dtype=bool)}


def _units_from(archive) -> tuple:
    names = [None if none else name for name, none in zip(archive["unit_names"].tolist(),
                                                          archive["unit_none"].tolist())]
    return archive["unit_codes"], names


def _firings_from(archive, tests: list, facts: list) -> tuple:
    n = int(archive["n"][0])
    fired = np.unpackbits(archive["fired"], axis=1, count=len(tests)).astype(bool)
    asserted = np.unpackbits(archive["asserted"], axis=1, count=len(facts)).astype(bool)
    if fired.shape != (n, len(tests)) or asserted.shape != (n, len(facts)):
        raise ValueError("firings of another shape")
    ids = np.array(archive["ids"].tolist(), dtype=object)
    return ids, FiredMatrix(tests, fired, facts, asserted), _units_from(archive)


#: The members pieces are grouped in: text, then integers by width and packed bits
_MEMBERS = ("texts", "g|i1", "g<i2", "g<i4", "g<i8", "g|u1")


def _narrow(values: np.ndarray) -> np.ndarray:
    """The smallest integer type holding every value (widened again on reading)."""
    if not len(values):
        return values
    low, high = int(values.min()), int(values.max())
    for kind in (np.int8, np.int16, np.int32):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return values.astype(kind)
    return values


def _bits(packed: np.ndarray, n: int) -> np.ndarray:
    return np.unpackbits(packed, count=n).astype(bool)


def _table_from(archive) -> tuple:
    n = int(archive["n"][0])
    members = {name: archive[name] for name in _MEMBERS if name in archive}
    pieces: dict = {}
    for column, field, member, start, length in archive["index"].tolist():
        pieces[(column, _FIELDS[field])] = members[_MEMBERS[member]][start:start + length]
    columns = {}
    for i, path in enumerate(archive["paths"].tolist()):
        column = FactColumn(n)
        column.present = _bits(pieces[(i, "present")], n)
        if (i, "num") in pieces:
            column.num = pieces[(i, "num")].astype(np.int64)
            column.num_mask = _bits(pieces[(i, "num_mask")], n)
        elif (i, "wide") in pieces:
            column.num = np.array([int(v) for v in pieces[(i, "wide")].tolist()], dtype=object)
            column.num_mask = _bits(pieces[(i, "num_mask")], n)
        if (i, "text_values") in pieces:
            values = np.array(pieces[(i, "text_values")].tolist() + [None], dtype=object)
            codes = pieces[(i, "text_codes")].astype(np.int64)
            column.text = values[codes]
            column.text_mask = _bits(pieces[(i, "text_mask")], n)
            column._sorted = (values[:-1], codes)
        columns[path] = column
    ids = np.array(archive["ids"].tolist(), dtype=object)
    return ids, FactTable(n, columns), _units_from(archive)
