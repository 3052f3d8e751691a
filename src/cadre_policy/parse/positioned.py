"""Strict YAML reading that keeps the position of every node: the one reader for policy
files, drafts and test cases (``load_yaml``) and for fact imports (``read_document``).

``yaml.safe_load`` forgets where values came from; every later error must point back
into the file, so we compose the node tree ourselves (SafeLoader only, within the bounds
of :mod:`cadre_policy.parse.limits`), reject duplicate keys, and keep the way from a JSON
path back to line and column. Policies are built with dates as dates; import files keep
timestamps as text, so YAML and JSON validate alike against the import schema.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

import yaml

from cadre_policy.i18n import _
from cadre_policy.parse.syntax import syntax_message
from cadre_policy.diagnostics import Diagnostic, Location
from cadre_policy.parse.issues import Issue
from cadre_policy.language.values import DATE_MAX, DATE_MIN
from cadre_policy.parse.limits import (MAX_DEPTH, BoundedLoader, FastBoundedLoader, ImportLoader, LimitError,
                                      check_expansion, too_large)
from cadre_policy.parse.positions import JsonPath, Positions


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: JsonPath, positions: Positions, problems: list):
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            key = _scalar(loader, key_node, positions, problems)
            if isinstance(key, (date, datetime)):
                key = key.isoformat()
            if key in result:
                mark = key_node.start_mark
                problems.append(Diagnostic("E002", _("duplicate key '{key}'").format(key=key),
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
            problems.append(Diagnostic("E104", _("'{value}' is not a calendar date").format(value=node.value), where))
            return node.value
        problems.append(Diagnostic("E001", _("'{value}' cannot be read: {error}").format(
            value=node.value[:40], error=error), where))
        return None
    if isinstance(value, date) and not isinstance(value, datetime) and not DATE_MIN <= value <= DATE_MAX:
        problems.append(Diagnostic("E104", _("{value} is outside {DATE_MIN}..{DATE_MAX}").format(
            value=value, DATE_MIN=DATE_MIN, DATE_MAX=DATE_MAX), where))
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
        line, col, message = _syntax(error)
        where = Location(file, line, col) if line else Location(file)
        return None, positions, [Diagnostic("E001", _("yaml syntax: {message}").format(message=message), where)]
    except yaml.YAMLError as error:  # e.g. a tag safe_load refuses
        return None, positions, [Diagnostic("E001", _("yaml: {error}").format(error=error), Location(file, 1, 1))]
    finally:
        if loader is not None:
            loader.dispose()


def _syntax(error: yaml.MarkedYAMLError) -> tuple[int, int, str]:
    """(line, column, message) of a YAML syntax error; (0, 0, …) without a mark."""
    mark = error.problem_mark or error.context_mark
    message = syntax_message(error.context, error.problem)
    return (mark.line + 1, mark.column + 1, message) if mark else (0, 0, message)


# ---- fact import files ------------------------------------------------------------------------
def json_path(path: Iterable) -> str:
    """Format a path of keys and indexes as JSONPath, e.g. ``$.cadres[3].posts[0].end``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass
class Document:
    """One parsed import file.

    Attributes:
        file: The file name as given.
        data: The parsed value; dates stay ISO strings, as in JSON.
        root: The YAML node tree, or None when positions are not available.
        issues: Problems found while reading (duplicate keys).
    """

    file: str
    data: Any
    root: yaml.Node | None = None
    issues: list[Issue] = field(default_factory=list)

    def issue(self, path: Iterable, message: str, key: str | None = None) -> Issue:
        """Make an :class:`Issue` at ``path`` (at the mapping key ``key`` below it, if given)."""
        path = list(path)
        line, col = self.position(path, key)
        shown = path + [key] if key is not None else path
        return Issue(self.file, line, col, json_path(shown), message)

    def where(self, path: list) -> str:
        """``file:line`` of the value at ``path`` (for "first at …" in messages)."""
        line, _column = self.position(path)
        return f"{self.file}:{line}" if line else f"{self.file} {json_path(path)}"

    def position(self, path: list, key: str | None = None) -> tuple[int, int]:
        """Return the 1-based (line, column) of the value at ``path``, or (0, 0).

        Follows the path through the node tree as far as it goes, so a missing
        key points at the mapping that lacks it.
        """
        node = self.root
        if node is None:
            return 0, 0
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node = child[1]
        if key is not None and isinstance(node, yaml.MappingNode):
            for k, _value in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    node = k
                    break
        return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node: yaml.Node, part) -> tuple[yaml.Node, yaml.Node] | None:
    """Return (key node, value node) of ``part`` inside ``node``, or None."""
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            item = node.value[part]
            return item, item
    elif isinstance(node, yaml.MappingNode):
        found = None
        for k, v in node.value:  # last one wins, like the constructor
            if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                found = (k, v)
        return found
    return None


def _duplicate_keys(doc: Document, node: yaml.Node, path: list) -> None:
    """Record every repeated key of every mapping below ``node`` as an issue."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    first = seen[k.value].start_mark
                    doc.issues.append(Issue(
                        doc.file, k.start_mark.line + 1, k.start_mark.column + 1,
                        json_path(path + [k.value]),
                        f"duplicate key '{k.value}' (first at line {first.line + 1})"))
                seen[k.value] = k
                _duplicate_keys(doc, v, path + [k.value])
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate_keys(doc, item, path + [i])


class _TextDatesLoader(ImportLoader):
    """SafeLoader that keeps timestamps as text.

    YAML and JSON input then validate alike, and an impossible date such as
    ``1970-02-30`` becomes a schema error with its position instead of a crash.
    """


_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _compose(text: str) -> yaml.Node | None:
    """The node tree of ``text``: by libyaml when it is there (80 % of an import's time went to
    the pure-Python composer), checked for aliases and depth after; a file it refuses, or one
    with an alias or too deep, is composed again by the pure-Python loader for its message."""
    if FastBoundedLoader is not None:
        fast = FastBoundedLoader(text)
        try:
            root = fast.get_single_node()
        except yaml.YAMLError:
            root = False
        finally:
            fast.dispose()
        if root is None or (root is not False and _plain(root)):
            return root
    loader = _TextDatesLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _plain(root: yaml.Node) -> bool:
    """No node reached twice (an alias) and no deeper than MAX_DEPTH."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH or id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
    return True


def _syntax_issue(file: str, exc: yaml.MarkedYAMLError) -> Issue:
    line, col, message = _syntax(exc)
    message = message or "syntax error"
    return Issue(file, line, col, "$", message if isinstance(exc, LimitError) else _("YAML syntax error: {message}").format(
        message=message))


def read_document(file: str) -> tuple[Document | None, list[Issue]]:
    """Read and parse one import file, YAML or JSON (JSON is YAML flow syntax, composed for the positions).

    Args:
        file: Path of a ``.yaml``/``.yml`` or ``.json`` file (by extension; others are
            read as YAML).

    Returns:
        ``(document, issues)``: the document is None when the file could not be
        parsed at all; ``issues`` lists what stops it being used (also kept in
        ``document.issues``).
    """
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(file, 0, 0, "$", _("cannot read file: {error}").format(
            error=getattr(exc, "strerror", None) or exc))]

    if file.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [Issue(file, exc.lineno, exc.colno, "$", f"JSON syntax error: {exc.msg}")]
        except RecursionError:
            return None, [Issue(file, 0, 0, "$", f"nested deeper than {MAX_DEPTH} levels")]
        except ValueError as exc:       # an integer of more than 4,300 digits
            return None, [Issue(file, 0, 0, "$", f"JSON error: {exc}")]
        try:
            root = _compose(text)
        except LimitError as exc:
            return None, [_syntax_issue(file, exc)]
        except yaml.YAMLError:
            root = None  # positions unavailable; paths still identify the place
        doc = Document(file, data, root)
    else:
        try:
            root = _compose(text)
        except yaml.MarkedYAMLError as exc:
            return None, [_syntax_issue(file, exc)]
        except yaml.YAMLError as exc:
            return None, [Issue(file, 0, 0, "$", f"YAML error: {exc}")]
        doc = Document(file, None, root)
        if root is not None:
            _duplicate_keys(doc, root, [])
            loader = _TextDatesLoader("")
            try:
                doc.data = loader.construct_document(root)
            except yaml.MarkedYAMLError as exc:
                return None, [_syntax_issue(file, exc)]
            except ValueError as exc:  # a scalar the safe constructor cannot build
                return None, [Issue(file, 0, 0, "$", f"YAML error: {exc}")]
            finally:
                loader.dispose()
        return doc, doc.issues
    if root is not None:
        _duplicate_keys(doc, root, [])
    return doc, doc.issues
