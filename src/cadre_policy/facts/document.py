"""Read one YAML or JSON import file, keeping the line and column of every value.

YAML is read with ``SafeLoader`` only, within the bounds of :mod:`cadre_policy.load.limits`
(no aliases, bounded nesting, YAML 1.2 booleans). The node tree from composing the text is
kept so that a JSON path (from a schema or cross-record error) can be turned back
into ``line:column``. JSON files are parsed with :mod:`json` for the values and,
since JSON is valid YAML flow syntax, composed as YAML for the positions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from cadre_policy.facts.errors import Issue
from cadre_policy.load.limits import MAX_DEPTH, FastBoundedLoader, ImportLoader, LimitError


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
        line, _ = self.position(path)
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
            for k, _ in node.value:
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


class _Loader(ImportLoader):
    """SafeLoader that keeps timestamps as text.

    YAML and JSON input then validate alike, and an impossible date such as
    ``1970-02-30`` becomes a schema error with its position instead of a crash.
    """


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


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
    loader = _Loader(text)
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
    mark = exc.problem_mark or exc.context_mark
    message = " ".join(x for x in (exc.context, exc.problem) if x) or "syntax error"
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return Issue(file, line, col, "$", message if isinstance(exc, LimitError) else f"YAML syntax error: {message}")


def read_document(file: str) -> tuple[Document | None, list[Issue]]:
    """Read and parse one import file.

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
        return None, [Issue(file, 0, 0, "$", f"cannot read file: {getattr(exc, 'strerror', None) or exc}")]

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
            loader = _Loader("")
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
