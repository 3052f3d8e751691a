"""Rows read from the sheets, kept in a temporary file until they are joined to their cadre.

A workbook names a record's cadre by 干部编号 on another sheet, in any order, so no cadre is
complete before every sheet is read. Holding the rows as Python values cost ≈ 4.5 KB a cadre;
here each row is written once (``marshal``) to an anonymous temporary file and memory keeps
12 bytes a row: its owner (the cadre's index) and where it starts. :meth:`Spool.grouped`
reads them back owner by owner, each owner's rows in the order they were added.
"""
from __future__ import annotations

import marshal
import mmap
import tempfile
from array import array
from typing import Iterator

import numpy as np

from cadre_policy.errors import UserError
from cadre_policy.i18n import _


#: Owners read between two releases of the file's pages read so far.
_RELEASE_EVERY = 2000


class SpoolError(UserError):
    """The temporary file cannot be written or read (a full disk, a missing temporary folder)."""

    def __init__(self, error: OSError):
        super().__init__(_("cannot keep the workbook's rows in a temporary file in {folder}: {error} "
                           "(free some space there, or set TMPDIR to another folder)").format(
            folder=tempfile.gettempdir(), error=error.strerror or error))


class Spool:
    """Values appended with their owner, read back grouped by owner; an OS error is a
    :class:`SpoolError`."""

    def __init__(self):
        try:
            self._file = tempfile.TemporaryFile()
        except OSError as error:
            raise SpoolError(error) from None
        self._owners = array("i")
        self._starts = array("q")
        self._size = 0

    def add(self, owner: int, value) -> None:
        """Keep ``value`` (str, int, bool, lists, dicts, tuples of them) for ``owner``."""
        data = marshal.dumps(value)
        self._owners.append(owner)
        self._starts.append(self._size)
        try:
            self._file.write(data)
        except OSError as error:
            self._fail(error)
        self._size += len(data)

    def __len__(self) -> int:
        return len(self._owners)

    def grouped(self) -> Iterator[tuple[int, list]]:
        """``(owner, values)`` by ascending owner, values in the order added; the file is closed after."""
        if not self._owners:
            self.close()
            return
        try:
            self._file.flush()
        except OSError as error:
            self._fail(error)
        owners = np.frombuffer(self._owners, dtype=np.int32)
        order = np.argsort(owners, kind="stable")
        bounds = np.flatnonzero(np.diff(owners[order])) + 1
        starts, loads = self._starts, marshal.loads
        starts.append(self._size)               # where each value ends: where the next starts
        with mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) as view:
            first = 0
            for n, last in enumerate(bounds.tolist() + [len(order)]):
                group = order[first:last].tolist()
                yield int(owners[group[0]]), [loads(view[starts[k]:starts[k + 1]]) for k in group]
                first = last
                if n % _RELEASE_EVERY == _RELEASE_EVERY - 1:
                    view.madvise(mmap.MADV_DONTNEED)    # the pages read count as ours until let go
        self.close()

    def close(self) -> None:
        self._file.close()

    def _fail(self, error: OSError):
        try:
            self._file.close()      # flushes what is buffered: fails again on a full disk
        except OSError:
            pass
        raise SpoolError(error) from None
