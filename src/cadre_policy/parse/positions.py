"""Where each value of a YAML document was written: kept with the policy set it was read into.

Apart from the reader (:mod:`cadre_policy.parse.positioned`), so that a policy set read back from
the start-up cache does not import the reader, its YAML loaders and its bounds.
"""
from __future__ import annotations

from cadre_policy.diagnostics import Location

JsonPath = tuple  # a JSON path: keys and list indexes


class Positions:
    """Line and column of each value of a document, by JSON path."""

    def __init__(self, file: str):
        self.file = file
        self._marks: dict[JsonPath, tuple[int, int]] = {}
        self._key_marks: dict[JsonPath, tuple[int, int]] = {}

    def record(self, path: JsonPath, node, key_node=None) -> None:
        mark = node.start_mark
        self._marks[path] = (mark.line + 1, mark.column + 1)
        if key_node is not None:
            kmark = key_node.start_mark
            self._key_marks[path] = (kmark.line + 1, kmark.column + 1)

    def keys(self, path) -> set:
        """The keys of the mapping at ``path`` (empty when it is not one)."""
        path = tuple(path)
        return {p[-1] for p in self._key_marks if len(p) == len(path) + 1 and p[:-1] == path}

    def at(self, path, key: bool = False) -> Location:
        """The location of the value at ``path``, or of its nearest ancestor."""
        path = tuple(path)
        marks = self._key_marks if key else self._marks
        while path not in marks and path:
            path = path[:-1]
        line, col = marks.get(path) or self._marks.get(path, (1, 1))
        return Location(self.file, line, col)
