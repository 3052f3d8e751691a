"""Encoded cadre facts laid out in columns: one numeric and one text column per path."""
from __future__ import annotations

import numpy as np

INT64_LIMIT = 2 ** 62          # products below this cannot overflow int64 when added


class FactColumn:
    """The values at one encoded path: ints (bools as 0/1) and strings kept apart.

    A fact holding a string where another holds a number is kept as both, each with
    its mask, so that comparing with a number never matches a string (as the engines
    do: a kind mismatch is false).
    """

    __slots__ = ("present", "num", "num_mask", "text", "text_mask", "_sorted")

    def __init__(self, n: int):
        self.present = np.zeros(n, dtype=bool)
        self.num = None
        self.num_mask = None
        self.text = None
        self.text_mask = None
        self._sorted = None

    def preset_codes(self, codes: np.ndarray) -> None:
        """Codes already known (equal where the strings are equal, -1 where none): sorted here per distinct string."""
        rows = np.flatnonzero(self.text_mask & (codes >= 0))
        if not len(rows):
            self._sorted = (np.array([], dtype=object), np.full(len(self.text), -1, dtype=np.int64))
            return
        present = codes[rows]
        holders = np.full(int(present.max()) + 1, -1, dtype=np.int64)
        holders[present] = rows
        used = np.flatnonzero(holders >= 0)
        values = self.text[holders[used]]
        order = np.argsort(values.astype(str), kind="stable") if len(values) else used
        rank = np.full(len(holders), -1, dtype=np.int64)
        rank[used[order]] = np.arange(len(used))
        out = np.full(len(self.text), -1, dtype=np.int64)
        out[rows] = rank[present]
        self._sorted = (values[order], out)

    def text_codes(self):
        """(sorted distinct strings, code of each row): codes keep the strings' order."""
        if self._sorted is None:
            rows = np.flatnonzero(self.text_mask)
            codes = np.full(len(self.text), -1, dtype=np.int64)
            values, inverse = np.unique(self.text[rows], return_inverse=True)
            codes[rows] = inverse.ravel()
            self._sorted = (values, codes)
        return self._sorted


def _flatten(fact: dict, prefix: str, out: dict) -> None:
    for key, value in fact.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out[path] = None            # a record or a fraction: present, no value of its own
            _flatten(value, path + ".", out)
        else:
            out[path] = value


class FactTable:
    """A population of encoded facts (``Encoder.encode``) by column."""

    def __init__(self, n: int, columns: dict):
        self.n = n
        self.columns = columns

    @classmethod
    def from_facts(cls, facts: list[dict]) -> "FactTable":
        """Lay out encoded facts (nested dicts of int, bool and str) in columns."""
        n = len(facts)
        by_path: dict[str, list] = {}
        for row, fact in enumerate(facts):
            flat: dict = {}
            _flatten(fact, "", flat)
            for path, value in flat.items():
                by_path.setdefault(path, []).append((row, value))
        columns = {}
        for path, cells in by_path.items():
            column = FactColumn(n)
            nums = [(r, v) for r, v in cells if v is not None and not isinstance(v, str)]
            texts = [(r, v) for r, v in cells if isinstance(v, str)]
            if nums:
                rows = np.fromiter((r for r, _ in nums), dtype=np.int64, count=len(nums))
                values = [int(v) for _, v in nums]
                # exact Python ints where a value is beyond what int64 arithmetic keeps exact
                wide = any(abs(v) >= INT64_LIMIT for v in values)
                column.num = np.zeros(n, dtype=object if wide else np.int64)
                column.num[rows] = values
                column.num_mask = np.zeros(n, dtype=bool)
                column.num_mask[rows] = True
            if texts:
                rows = np.fromiter((r for r, _ in texts), dtype=np.int64, count=len(texts))
                column.text = np.empty(n, dtype=object)
                column.text[rows] = [v for _, v in texts]
                column.text_mask = np.zeros(n, dtype=bool)
                column.text_mask[rows] = True
            column.present[[r for r, _ in cells]] = True
            columns[path] = column
        return cls(n, columns)

    def column(self, path: str) -> FactColumn | None:
        return self.columns.get(path)


def from_arrays(arrays: dict) -> FactTable:
    """A table from columns already in arrays: path -> (values, present mask).

    Integer arrays become numeric columns; object arrays of strings become text columns.
    """
    n = len(next(iter(arrays.values()))[0]) if arrays else 0
    columns = {}
    for path, (values, mask) in arrays.items():
        column = FactColumn(n)
        column.present = np.asarray(mask, dtype=bool)
        if values.dtype == object:
            column.text, column.text_mask = values, column.present
            column.text_codes()
        else:
            column.num, column.num_mask = values.astype(np.int64), column.present
        columns[path] = column
    return FactTable(n, columns)
