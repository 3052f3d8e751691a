"""Strict YAML reading that keeps the position of every node.

``yaml.safe_load`` forgets where values came from; every later error must point back
into the file, so we compose the node tree ourselves (SafeLoader only, within the bounds
of :mod:`cadre_policy.load.limits`), reject duplicate keys, and keep a map from JSON path
to line and column.
"""
from __future__ import annotations

from datetime import date, datetime

import yaml

from cadre_policy.diagnostics import Diagnostic, Location
from cadre_policy.language.values import DATE_MAX, DATE_MIN
from cadre_policy.load.limits import BoundedLoader, FastBoundedLoader, check_expansion, too_large

Path = tuple  # a JSON path: keys and list indexes


class Positions:
    """Line and column of each value of a document, by JSON path."""

    def __init__(self, file: str):
        self.file = file
        self._marks: dict[Path, tuple[int, int]] = {}
        self._key_marks: dict[Path, tuple[int, int]] = {}

    def record(self, path: Path, node: yaml.Node, key_node: yaml.Node | None = None) -> None:
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


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: Path, positions: Positions, problems: list):
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            key = _scalar(loader, key_node, positions, problems)
            if isinstance(key, (date, datetime)):
                key = key.isoformat()
            if key in result:
                mark = key_node.start_mark
                problems.append(Diagnostic("E002", f"duplicate key '{key}'",
                                           Location(positions.file, mark.line + 1, mark.column + 1)))
                continue
            child = path + (key,)
            positions.record(child, value_node, key_node)
            result[key] = _construct(loader, value_node, child, positions, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        result = []
        for index, item in enumerate(node.value):
            child = path + (index,)
            positions.record(child, item)
            result.append(_construct(loader, item, child, positions, problems))
        return result
    return _scalar(loader, node, positions, problems)


def _scalar(loader: yaml.SafeLoader, node: yaml.Node, positions: Positions, problems: list):
    """A scalar's value; a date the calendar does not have (2019-02-30), or one outside
    DATE_MIN..DATE_MAX, is E104 and stays text; another value that cannot be built (an integer
    of 5,000 digits) is E001."""
    mark = node.start_mark
    where = Location(positions.file, mark.line + 1, mark.column + 1)
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError as error:
        if node.tag == "tag:yaml.org,2002:timestamp":
            problems.append(Diagnostic("E104", f"'{node.value}' is not a calendar date", where))
            return node.value
        problems.append(Diagnostic("E001", f"'{node.value[:40]}' cannot be read: {error}", where))
        return None
    if isinstance(value, date) and not isinstance(value, datetime) and not DATE_MIN <= value <= DATE_MAX:
        problems.append(Diagnostic("E104", f"{value} is outside {DATE_MIN}..{DATE_MAX}", where))
        return node.value
    return value


# libyaml's parser keeps every node's line and column and is several times faster; the pure-Python
# one words syntax errors as the diagnostics always have, so a document libyaml refuses is read again
_FAST_LOADER = FastBoundedLoader


def load_yaml(text: str, file: str) -> tuple[object, Positions, list[Diagnostic]]:
    """Parse one YAML document strictly.

    Returns:
        The data (None when it could not be read), its positions, and the problems
        found (E001 syntax, E002 duplicate key).
    """
    large = too_large(len(text.encode("utf-8")))
    if large:
        return None, Positions(file), [Diagnostic("E001", large, Location(file, 1, 1))]
    if _FAST_LOADER is not None:
        read = _load(_FAST_LOADER, text, file)
        if not any(problem.code == "E001" for problem in read[2]):
            return read
    return _load(BoundedLoader, text, file)


def _load(loader_class, text: str, file: str) -> tuple[object, Positions, list[Diagnostic]]:
    positions = Positions(file)
    loader = None
    try:
        loader = loader_class(text)     # the reader refuses control characters here
        node = loader.get_single_node()
        if node is None:
            return None, positions, []
        check_expansion(node)
        positions.record((), node)
        problems: list[Diagnostic] = []
        data = _construct(loader, node, (), positions, problems)
        return data, positions, problems
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        message = " ".join(x for x in (error.context, error.problem) if x)
        return None, positions, [Diagnostic("E001", f"yaml syntax: {message}", where)]
    except yaml.YAMLError as error:  # e.g. a tag safe_load refuses
        return None, positions, [Diagnostic("E001", f"yaml: {error}", Location(file, 1, 1))]
    finally:
        if loader is not None:
            loader.dispose()
