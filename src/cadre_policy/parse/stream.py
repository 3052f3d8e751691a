"""Reading a fact import file record by record, in bounded memory, with every value's place.

A whole import file composed into a node tree cost about 70 KB per cadre (13.9 GB at
200,000). Here the top level (``units:``, ``cadres:``) is walked by hand and each record is
built on its own, so memory holds one record and its positions at a time:

- YAML: the parser's events (libyaml's when PyYAML has it, else the pure-Python parser), each
  with its start mark, built into values by the same resolver and constructors as
  :class:`~cadre_policy.parse.limits.ImportLoader` (timestamps kept as text, YAML 1.2
  booleans, no aliases, :data:`MAX_DEPTH`). The marks of the record in hand are kept beside
  its values. When libyaml refuses the file, it is read again by the pure-Python parser, whose
  words the diagnostics have always used (and which decides, as before).
- JSON: the standard library's C decoder on each record (``scan_once`` at the record's
  offset), about ten times faster than any parser that reports positions as it goes. The
  record's text is kept while it is checked; the line and column of a value are found by
  walking that text only when there is something to report. Of the libraries on the package
  index here, ijson, json-stream and jsonslicer stream values without line and column, and
  json-source-map maps a whole document's positions in pure Python; none would be faster
  than the C decoder with positions looked up only for what is reported, so no dependency.

The reader yields :class:`Fragment` objects (a record, or a top-level entry that is not a
list of records) and :class:`~cadre_policy.store.errors.Issue` objects (problems of reading;
after a fatal one, such as a syntax error, the file ends).
"""
from __future__ import annotations

import codecs
import io
import json
import os
import re
from json.decoder import JSONDecodeError, scanstring
from typing import Any, Callable, Iterator

import yaml

from cadre_policy.parse.issues import Issue
from cadre_policy.parse.limits import MAX_DEPTH, FastBoundedLoader, ImportLoader
from cadre_policy.parse.positioned import json_path

#: The top-level keys whose lists are read one record at a time.
RECORD_KEYS = ("units", "cadres")
#: A file libyaml refuses is read again by the pure-Python parser for its words, up to this size.
_REREAD_MAX_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20

Locate = Callable[[list, Any], tuple[int, int]]


class Fragment:
    """A value read from an import file, with the place of everything in it.

    Attributes:
        file: The file name as given.
        prefix: The JSON path of ``value`` in the document: ``("cadres", 12)`` for a record,
            ``()`` for the document itself or a top-level entry (then ``data`` is ``{key: value}``).
        data: The value (for a record) or ``{key: value}`` (a top-level entry), or the root.
        line: The line where it starts.
    """

    __slots__ = ("file", "prefix", "data", "line", "_locate", "source")

    def __init__(self, file: str, prefix: tuple, data: Any, line: int, locate: Locate, source: str | None = None):
        self.file, self.prefix, self.data, self.line, self._locate = file, prefix, data, line, locate
        #: The JSON text of a record read from a JSON file (None from YAML).
        self.source = source

    @property
    def kind(self) -> str | None:
        """``units`` or ``cadres`` for a record, else None."""
        return self.prefix[0] if self.prefix else None

    def position(self, path, key=None) -> tuple[int, int]:
        """(line, column) of the value at the full JSON ``path`` (or of its key ``key``)."""
        return self._locate(list(path)[len(self.prefix):], key)

    def issue(self, path, message: str, key: str | None = None) -> Issue:
        """An :class:`Issue` at the full JSON ``path`` (at the mapping key ``key`` below it, if given)."""
        path = list(path)
        line, col = self.position(path, key)
        return Issue(self.file, line, col, json_path(path + [key] if key is not None else path), message)

    def where(self, path) -> str:
        """``file:line`` of the value at ``path`` (for "first at …")."""
        line, _ = self.position(path)
        return f"{self.file}:{line}" if line else f"{self.file} {json_path(path)}"


class _Fatal(Exception):
    """Reading cannot go on: the issue ends the file."""

    def __init__(self, issue: Issue):
        super().__init__(issue.message)
        self.issue = issue


def read_records(file: str, fast: dict[str, Callable[[str], Any]] | None = None) \
        -> Iterator[Fragment | LaidOut | Issue]:
    """Yield the records, top-level entries and reading issues of one import file, in file order.

    ``.json`` files (by extension) are read as JSON, all others as YAML. ``fast`` maps a
    record key (``cadres``) to a decoder of one record's JSON text that returns None when it
    cannot vouch for the text; JSON records that stand one on each line are offered to it
    first and come as :class:`LaidOut` runs, the others as usual (see :func:`_json_list`).
    """
    try:
        stream = open(file, encoding="utf-8-sig")
    except OSError as exc:
        yield Issue(file, 0, 0, "$", f"cannot read file: {exc.strerror or exc}")
        return
    with stream:
        try:
            if file.lower().endswith(".json"):
                yield from _json_records(file, stream, fast or {})
            else:
                yield from _yaml_records(file, stream)
        except _Fatal as fatal:
            yield fatal.issue
        except UnicodeDecodeError as exc:
            yield Issue(file, 0, 0, "$", f"cannot read file: {exc}")
        except OSError as exc:
            yield Issue(file, 0, 0, "$", f"cannot read file: {exc.strerror or exc}")


# ---- YAML -----------------------------------------------------------------------------------

class _LibyamlRefused(Exception):
    pass


class _Construct(Exception):
    """A value SafeLoader would fail to construct (an unhashable key, an unknown tag). It composed
    the whole document first, so a syntax error, alias or nesting later in the file is reported
    instead: the rest of the file is read for those before this issue ends it."""

    def __init__(self, issue: Issue, depth: int):
        super().__init__(issue.message)
        self.issue, self.depth = issue, depth


def _yaml_records(file: str, stream) -> Iterator[Fragment | Issue]:
    if FastBoundedLoader is None:
        yield from _YamlReader(file, ImportLoader, stream).items()
        return
    done = 0
    try:
        for item in _YamlReader(file, FastBoundedLoader, stream, fast=True).items():
            yield item
            done += 1
        return
    except _LibyamlRefused as refused:
        error = refused.args[0]
        if os.path.getsize(file) > _REREAD_MAX_BYTES:
            raise _Fatal(_syntax_issue(file, error)) from None
    stream.seek(0)
    # the same events up to where libyaml stopped: skip what was already yielded
    for n, item in enumerate(_YamlReader(file, ImportLoader, stream).items()):
        if n >= done:
            yield item


def _syntax_issue(file: str, error: yaml.MarkedYAMLError) -> Issue:
    mark = error.problem_mark or error.context_mark
    message = " ".join(x for x in (error.context, error.problem) if x) or "syntax error"
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return Issue(file, line, col, "$", f"YAML syntax error: {message}")


_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_PLAIN_CACHE_MAX = 200_000
_SCALAR = yaml.ScalarEvent
_MISSING = object()


def _find_mark(shadow, mark, raw) -> list | None:
    """The path (inside ``shadow``) of the mapping key ``raw`` marked ``mark``, or of the scalar
    marked ``mark`` when ``raw`` is None."""
    stack = [(shadow, [])]
    while stack:
        (node_mark, children), path = stack.pop()
        if raw is None and children is None and node_mark is mark:
            return path
        if isinstance(children, dict):
            for name, (key_mark, child) in children.items():
                if raw is not None and name == raw and key_mark is mark:
                    return path + [name]
                stack.append((child, path + [name]))
        elif isinstance(children, list):
            stack.extend((child, path + [n]) for n, child in enumerate(children))
    return None


def _yaml_locate(shadow) -> Locate:
    """Positions from a record's shadow: ``(mark, None)`` for a scalar, ``(mark, {raw key:
    (key mark, shadow)})`` for a mapping, ``(mark, [shadow, ...])`` for a list."""
    def locate(path: list, key=None) -> tuple[int, int]:
        node = shadow
        if node is None:
            return 0, 0
        for part in path:
            children = node[1]
            if isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
                node = children[part]
            elif isinstance(children, dict) and str(part) in children:
                node = children[str(part)][1]
            else:
                break
        mark = node[0]
        if key is not None and isinstance(node[1], dict) and key in node[1]:
            mark = node[1][key][0]
        return mark.line + 1, mark.column + 1
    return locate


class _YamlReader:
    def __init__(self, file: str, loader_class, stream, fast: bool = False):
        self.file, self.loader_class, self.stream, self.fast = file, loader_class, stream, fast
        self.loader = None
        self.plain: dict[str, Any] = {}
        self.pending: list[Issue] = []      # duplicate keys found while building a value

    def items(self) -> Iterator[Fragment | Issue]:
        try:
            self.loader = self.loader_class(self.stream)    # the reader refuses control characters here
            self.get = self.loader.get_event
            try:
                yield from self._document()
            except _Construct as failed:
                self._drain(failed.depth)
                raise _Fatal(failed.issue) from None
        except yaml.MarkedYAMLError as error:
            if self.fast:
                raise _LibyamlRefused(error) from None
            raise _Fatal(_syntax_issue(self.file, error)) from None
        except yaml.YAMLError as error:
            if self.fast:
                raise _LibyamlRefused(error) from None
            raise _Fatal(Issue(self.file, 0, 0, "$", f"YAML error: {error}")) from None
        finally:
            if self.loader is not None:
                self.loader.dispose()

    def _drain(self, depth: int) -> None:
        """Read the events left (``depth``: the innermost open collection's) for what composing refuses."""
        get, ended = self.get, False
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.AliasEvent:
                raise self._fatal(event.start_mark, "aliases (*name) are not allowed in import files: write the "
                                                    "value out")
            if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._check_depth(event, depth + 1)
                if kind is not yaml.ScalarEvent:
                    depth += 1
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
            elif kind is yaml.DocumentEndEvent:
                ended = True
            elif kind is yaml.DocumentStartEvent and ended:
                raise yaml.composer.ComposerError("expected a single document in the stream", self.document_start,
                                                  "but found another document", event.start_mark)
            elif kind is yaml.StreamEndEvent:
                return

    def _construct_error(self, mark, message: str, depth: int) -> _Construct:
        return _Construct(Issue(self.file, mark.line + 1, mark.column + 1, "$", message), depth)

    def _fatal(self, mark, message: str) -> _Fatal:
        return _Fatal(Issue(self.file, mark.line + 1, mark.column + 1, "$", message))

    def _document(self) -> Iterator[Fragment | Issue]:
        get = self.get
        get()                                           # StreamStart
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            yield Fragment(self.file, (), None, 0, lambda path, key=None: (0, 0))
            return
        self.document_start = document_start = event.start_mark      # DocumentStart
        event = get()
        if isinstance(event, yaml.MappingStartEvent) and event.tag in _MAP_TAGS:
            yield from self._top(event)
        else:
            value, shadow = self._value(event, 1)
            yield from self._flush((), shadow)
            yield Fragment(self.file, (), value, event.start_mark.line + 1, _yaml_locate(shadow))
        get()                                           # DocumentEnd
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            raise yaml.composer.ComposerError("expected a single document in the stream", document_start,
                                              "but found another document", event.start_mark)

    def _flush(self, prefix: tuple, shadow) -> Iterator[Issue]:
        """The issues found while building the value of ``shadow`` at ``prefix``, with their paths."""
        for mark, raw, message in self.pending:
            path = list(prefix) + (_find_mark(shadow, mark, raw) or [])
            yield Issue(self.file, mark.line + 1, mark.column + 1, json_path(path), message)
        self.pending = []

    def _top(self, start) -> Iterator[Fragment | Issue]:
        try:
            yield from self._entries(start)
        except _Construct as failed:
            if failed.depth is None:            # a top-level key
                failed.depth = 1
            raise

    def _entries(self, start) -> Iterator[Fragment | Issue]:
        get = self.get
        seen: dict[str, Any] = {}
        while True:
            event = get()
            if isinstance(event, yaml.MappingEndEvent):
                return
            key, raw, key_mark = self._key(event, 2)
            if raw in seen:
                yield Issue(self.file, key_mark.line + 1, key_mark.column + 1, json_path([raw]),
                            f"duplicate key '{raw}' (first at line {seen[raw].line + 1})")
            seen[raw] = key_mark
            event = get()
            if key in RECORD_KEYS and isinstance(event, yaml.SequenceStartEvent) and event.tag in _SEQ_TAGS:
                self._check_depth(event, 2)
                index = 0
                while True:
                    event = get()
                    if isinstance(event, yaml.SequenceEndEvent):
                        break
                    value, shadow = self._value(event, 3)
                    yield from self._flush((key, index), shadow)
                    yield Fragment(self.file, (key, index), value, event.start_mark.line + 1, _yaml_locate(shadow))
                    index += 1
            else:
                value, shadow = self._value(event, 2)
                yield from self._flush((raw,), shadow)
                entry = (start.start_mark, {raw: (key_mark, shadow)})
                yield Fragment(self.file, (), {key: value}, key_mark.line + 1, _yaml_locate(entry))

    def _check_depth(self, event, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._fatal(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")

    def _key(self, event, depth: int):
        if isinstance(event, yaml.AliasEvent):
            raise self._fatal(event.start_mark, "aliases (*name) are not allowed in import files: write the value out")
        self._check_depth(event, depth)
        if not isinstance(event, yaml.ScalarEvent):
            raise self._construct_error(event.start_mark, "YAML syntax error: while constructing a mapping found "
                                                          "unhashable key", depth)
        return self._scalar(event), event.value, event.start_mark

    def _value(self, event, depth: int):
        """Build the value that starts with ``event`` at ``depth``: (value, shadow)."""
        try:
            return self._build(event, depth)
        except _Construct as failed:
            if failed.depth is None:    # a scalar of this collection, or this scalar (its collection is one up)
                failed.depth = depth if type(event) is not yaml.ScalarEvent else depth - 1
            raise

    def _build(self, event, depth: int):
        kind = type(event)
        if kind is yaml.AliasEvent:
            raise self._fatal(event.start_mark, "aliases (*name) are not allowed in import files: write the value out")
        if depth > MAX_DEPTH:
            raise self._fatal(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        if kind is yaml.ScalarEvent:
            return self._scalar(event), (event.start_mark, None)
        get, plain, scalar = self.get, self.plain, self._scalar
        leaf = depth < MAX_DEPTH          # children are at depth + 1: scalars there are built inline
        if kind is yaml.SequenceStartEvent:
            if event.tag not in _SEQ_TAGS:
                raise self._undefined(event, depth)
            items, shadows = [], []
            while True:
                child = get()
                ct = type(child)
                if ct is _SCALAR and leaf:
                    value = scalar(child)
                    shadow = (child.start_mark, None)
                elif ct is yaml.SequenceEndEvent:
                    return items, (event.start_mark, shadows)
                else:
                    value, shadow = self._value(child, depth + 1)
                items.append(value)
                shadows.append(shadow)
        if kind is yaml.MappingStartEvent:
            if event.tag not in _MAP_TAGS:
                raise self._undefined(event, depth)
            result: dict = {}
            shadows: dict = {}
            while True:
                child = get()
                ct = type(child)
                if ct is _SCALAR and leaf:
                    raw = child.value
                    key = plain.get(raw, _MISSING) if child.tag is None and child.implicit[0] else _MISSING
                    if key is _MISSING:
                        key = scalar(child)
                    key_mark = child.start_mark
                elif ct is yaml.MappingEndEvent:
                    break
                else:
                    key, raw, key_mark = self._key(child, depth + 1)
                value_event = get()
                if type(value_event) is _SCALAR and leaf:
                    if value_event.tag is None:
                        if value_event.implicit[0]:
                            value = plain.get(value_event.value, _MISSING)
                            if value is _MISSING:
                                value = scalar(value_event)
                        else:                   # quoted, no tag: text
                            value = value_event.value
                    else:
                        value = scalar(value_event)
                    shadow = (value_event.start_mark, None)
                else:
                    value, shadow = self._value(value_event, depth + 1)
                if raw == "<<" and key == "<<" and child.tag is None and child.implicit[0] \
                        and isinstance(value, (dict, list)):
                    # as documented: an import file says each value where it applies
                    raise self._fatal(key_mark, "merge keys (<<:) are not allowed in import files: "
                                                "write the keys out")
                if raw in shadows:
                    first = shadows[raw][0]
                    self.pending.append((key_mark, raw, f"duplicate key '{raw}' (first at line {first.line + 1})"))
                result[key] = value
                shadows[raw] = (key_mark, shadow)
            return result, (event.start_mark, shadows)
        raise self._fatal(event.start_mark, f"YAML syntax error: unexpected {kind.__name__}")

    def _undefined(self, event, depth: int) -> _Construct:
        return self._construct_error(event.start_mark, f"YAML syntax error: could not determine a constructor for "
                                                       f"the tag '{event.tag}'", depth)

    def _scalar(self, event):
        tag, value = event.tag, event.value
        if tag is None or tag == "!":
            if event.implicit[0]:
                known = self.plain.get(value, _MISSING)
                if known is not _MISSING:
                    return known
                tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
                pending = len(self.pending)
                result = self._construct(tag, event)
                if len(self.pending) == pending:         # a value that failed is not remembered
                    if len(self.plain) > _PLAIN_CACHE_MAX:
                        self.plain.clear()
                    self.plain[value] = result
                return result
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _STR or tag == _TIMESTAMP:
            return value
        return self._construct(tag, event)

    def _construct(self, tag: str, event):
        if tag == _STR or tag == _TIMESTAMP or tag == _MERGE:   # timestamps stay text, as in JSON
            return event.value
        constructors = self.loader.yaml_constructors
        build = constructors.get(tag) or constructors.get(None)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return build(self.loader, node)
        except yaml.constructor.ConstructorError as error:
            raise _Construct(_syntax_issue(self.file, error), None) from None   # the caller knows the depth
        except ValueError as error:                 # an integer of 5,000 digits
            self.pending.append((event.start_mark, None, f"YAML error: {error}"))
            return None


# ---- JSON -----------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*")


class _Duplicates:
    """object_pairs_hook that notes whether any mapping of the record repeated a key."""

    def __init__(self):
        self.found = False

    def __call__(self, pairs):
        result = dict(pairs)
        if len(result) != len(pairs):
            self.found = True
        return result


class _JsonText:
    """The file's text in a sliding buffer, with line counting by absolute offset."""

    def __init__(self, file: str, stream):
        self.file, self.stream = file, stream
        self.buf, self.base, self.eof = "", 0, False
        self.c_abs, self.c_line, self.c_linestart = 0, 1, 0
        self.decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8-sig")(), translate=True)

    def read(self, n: int) -> str:
        """About ``n`` characters more ('' at the end), decoded as the text ``stream`` would (UTF-8,
        a BOM dropped, universal newlines) but from its bytes in big steps: its own read cost
        4.9 µs of CPU a cadre, this 2.8."""
        while True:
            raw = self.stream.buffer.read(n)
            try:
                text = self.decoder.decode(raw, final=not raw)
            except UnicodeDecodeError:
                self.stream.seek(0)         # the words the text stream gives
                while self.stream.read(_CHUNK):
                    pass
                raise
            if text or not raw:
                return text

    def more(self, i: int) -> int:
        """Read more text, dropping what lies before ``i``; return ``i`` in the new buffer."""
        if self.eof:
            return i
        self.advance(self.base + i)
        chunk = self.read(max(_CHUNK, len(self.buf) - i))
        if not chunk:
            self.eof = True
        self.buf = self.buf[i:] + chunk
        self.base += i
        return 0

    def advance(self, absolute: int) -> None:
        if absolute <= self.c_abs:
            return
        lo, hi = self.c_abs - self.base, absolute - self.base
        n = self.buf.count("\n", lo, hi)
        if n:
            self.c_line += n
            self.c_linestart = self.base + self.buf.rfind("\n", lo, hi) + 1
        self.c_abs = absolute

    def place(self, i: int) -> tuple[int, int]:
        """(line, column) of buffer index ``i`` (not before the last place asked)."""
        self.advance(self.base + i)
        return self.c_line, self.base + i - self.c_linestart + 1

    def ws(self, i: int) -> int:
        while True:
            i = _WS.match(self.buf, i).end()
            if i < len(self.buf) or self.eof:
                return i
            i = self.more(i)

    def char(self, i: int) -> tuple[str, int]:
        """The first non-blank character at or after ``i`` ('' at the end) and its index."""
        i = self.ws(i)
        return (self.buf[i] if i < len(self.buf) else ""), i

    def syntax(self, i: int, message: str) -> _Fatal:
        line, col = self.place(min(i, len(self.buf)))
        return _Fatal(Issue(self.file, line, col, "$", f"JSON syntax error: {message}"))

    def decode(self, i: int, scan) -> tuple[Any, int, int]:
        """Decode the value at ``i``: (value, end, start) with buffer indexes (``start`` as moved)."""
        while True:
            try:
                value, end = scan(self.buf, i)
                # a number may go on in the next chunk: "11" of "11.5", "1" of "1e5"
                if self.eof or (_NUMBER_TAIL.match(self.buf, end).end() < len(self.buf)
                                if type(value) in (int, float) else end < len(self.buf)):
                    return value, end, i
                message, pos = "", end
            except StopIteration as stop:
                message, pos = "Expecting value", stop.value
            except JSONDecodeError as error:
                message, pos = error.msg, error.pos
            except RecursionError:
                line, col = self.place(i)
                raise _Fatal(Issue(self.file, line, col, "$", f"nested deeper than {MAX_DEPTH} levels")) from None
            except ValueError as error:                     # an integer of more than 4,300 digits
                line, col = self.place(i)
                raise _Fatal(Issue(self.file, line, col, "$", f"JSON error: {error}")) from None
            if not self.eof and (pos >= len(self.buf) - 256 or message.startswith("Unterminated string")):
                i = self.more(i)
                continue
            raise self.syntax(pos, message)

    def string(self, i: int) -> tuple[str, int, int]:
        """The JSON string whose quote is at ``i``: (text, end, start)."""
        return self.decode(i, lambda buf, at: scanstring(buf, at + 1))


def _json_records(file: str, stream, fast: dict) -> Iterator[Fragment | Issue]:
    text = _JsonText(file, stream)
    hook = _Duplicates()
    scan = json.JSONDecoder(object_pairs_hook=hook).scan_once
    plain = json.JSONDecoder().scan_once
    c, i = text.char(0)
    if c != "{":
        value, end, start = text.decode(i, plain)
        line, col = text.place(start)
        yield Fragment(file, (), value, line, _json_locate(text.buf[start:end], line, col))
        i = end
    else:
        root_place = text.place(i)
        seen: dict[str, int] = {}
        i += 1
        c, i = text.char(i)
        while c != "}":
            if c != '"':
                raise text.syntax(i, "Expecting property name enclosed in double quotes")
            key, i, start = text.string(i)
            key_line, key_col = text.place(start)
            if key in seen:
                yield Issue(file, key_line, key_col, json_path([key]),
                            f"duplicate key '{key}' (first at line {seen[key]})")
            seen[key] = key_line
            c, i = text.char(i)
            if c != ":":
                raise text.syntax(i, "Expecting ':' delimiter")
            c, i = text.char(i + 1)
            if key in RECORD_KEYS and c == "[":
                i = yield from _json_list(text, key, i, scan, hook, fast.get(key))
            else:
                value, i, start = text.decode(i, plain)
                line, col = text.place(start)
                inner = _json_locate(text.buf[start:i], line, col)
                yield Fragment(file, (), {key: value}, key_line, _entry_locate((key_line, key_col), root_place, inner))
            c, i = text.char(i)
            if c == ",":
                c, i = text.char(i + 1)
                if c == "}":
                    raise text.syntax(i, "Expecting property name enclosed in double quotes")
            elif c != "}":
                raise text.syntax(i, "Expecting ',' delimiter")
        i += 1
    c, i = text.char(i)
    if c:
        raise text.syntax(i, "Extra data")


class LaidOut:
    """Records that stood one on each line, in a row, and that ``fast`` took (see
    :func:`read_records`): what it returned for each, and their texts and places.

    Attributes:
        file: The file name as given.
        key: The record key (``cadres``).
        index: The index of the first record in its list.
        line: The line of the first record; the others follow one a line.
        values: What ``fast`` returned, one per record.
    """

    __slots__ = ("file", "key", "index", "line", "values", "sources", "columns")

    def __init__(self, file: str, key: str, index: int, line: int, values: list, sources: list[str],
                 columns: list[int]):
        self.file, self.key, self.index, self.line = file, key, index, line
        self.values, self.sources, self.columns = values, sources, columns

    def fragment(self, n: int) -> Fragment:
        """The ``n``-th record as the standard library reads it, with its places."""
        line, source = self.line + n, self.sources[n]
        return Fragment(self.file, (self.key, self.index + n), json.loads(source), line,
                        _json_locate(source, line, self.columns[n]), source)


def _laid_out(text: _JsonText, key: str, i: int, index: int, fast) -> tuple[LaidOut | None, int]:
    """The records from ``i`` on that stand one a line and that ``fast`` takes (none: None),
    and the buffer index after the last one's text. A run stops after a line without a comma
    (the list ends there, or the text is wrong: the caller says so)."""
    buf = text.buf
    values, sources, columns = [], [], []
    line, column = text.place(i)
    at = end = i
    while True:
        stop = buf.find("\n", at)
        if stop < 0:
            break
        body = buf[at:stop].rstrip(" \t\r")
        comma = body.endswith(",")
        if comma:
            body = body[:-1].rstrip(" \t\r")
        record = body.lstrip(" \t")
        value = fast(record) if record else None
        if value is None:
            break
        values.append(value)
        sources.append(record)
        columns.append(column + len(body) - len(record))
        end = at + len(body)
        at, column = stop + 1, 1
        if not comma:
            break
    if not values:
        return None, i
    return LaidOut(text.file, key, index, line, values, sources, columns), end


def _json_list(text: _JsonText, key: str, i: int, scan, hook: _Duplicates, fast=None):
    """Yield the records of the list at ``i``; return the index after its ``]``.

    With ``fast``, records that stand one on each line (a comma at most after each, as
    ``facts generate`` and most exporters write) are first offered to ``fast``, and a run of
    those it takes is yielded as one :class:`LaidOut`: a JSON value's extent is fixed by its
    start, so a line text that decodes whole is the record. Else, and for a record spread
    over lines, the standard library's decoder reads it as before.
    """
    c, i = text.char(i + 1)
    index = 0
    if c == "]":
        return i + 1
    while True:
        laid = None
        if fast is not None:
            laid, end = _laid_out(text, key, i, index, fast)
        if laid is not None:
            yield laid
            index += len(laid.values)
        else:
            hook.found = False
            value, end, start = text.decode(i, scan)
            line, col = text.place(start)
            source = text.buf[start:end]
            if hook.found:
                for dup in _json_duplicates(source, line, col):
                    yield Issue(text.file, dup[0], dup[1], json_path([key, index] + dup[2]), dup[3])
            # a record is at depth 3; fewer brackets than levels left cannot nest too deep
            if source.count("{") + source.count("[") + 2 > MAX_DEPTH and _depth(value) + 2 > MAX_DEPTH:
                path = _too_deep(value, [], 3)
                dl, dc = _json_locate(source, line, col)(path)
                raise _Fatal(Issue(text.file, dl, dc, "$", f"nested deeper than {MAX_DEPTH} levels"))
            yield Fragment(text.file, (key, index), value, line, _json_locate(source, line, col), source)
            index += 1
        c, i = text.char(end)
        if c == "]":
            return i + 1
        if c != ",":
            raise text.syntax(i, "Expecting ',' delimiter")
        i = text.ws(i + 1)


def _depth(value) -> int:
    """Levels of nesting of ``value`` (a scalar is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _too_deep(value, path: list, depth: int) -> list | None:
    """The path of the first value deeper than MAX_DEPTH (``depth`` is that of ``value``)."""
    if depth > MAX_DEPTH:
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found = _too_deep(child, path + [key], depth + 1)
        if found is not None:
            return found
    return None


def _entry_locate(key_place: tuple[int, int], root_place: tuple[int, int], inner: Locate) -> Locate:
    """Positions in ``{key: value}`` of a top-level entry: ``[]`` is the document, ``[] + key`` its key."""
    def locate(path: list, sub=None) -> tuple[int, int]:
        if not path:
            return root_place if sub is None else key_place
        return inner(path[1:], sub)
    return locate


def _json_locate(source: str, line: int, col: int) -> Locate:
    """Positions inside one JSON value's ``source`` text that starts at (line, col)."""
    def locate(path: list, key=None) -> tuple[int, int]:
        offset = _json_find(source, path, key)
        n = source.count("\n", 0, offset)
        if not n:
            return line, col + offset
        return line + n, offset - source.rfind("\n", 0, offset)
    return locate


_SKIP = json.JSONDecoder().scan_once


def _members(source: str, i: int):
    """(key, key index, value index, end) of each member of the object at ``i``."""
    i = _WS.match(source, i + 1).end()
    if source[i:i + 1] == "}":
        return
    while True:
        key, j = scanstring(source, i + 1)
        j = _WS.match(source, j).end() + 1
        j = _WS.match(source, j).end()
        _, end = _SKIP(source, j)
        yield key, i, j, end
        i = _WS.match(source, end).end()
        if source[i:i + 1] != ",":
            return
        i = _WS.match(source, i + 1).end()


def _elements(source: str, i: int):
    """(index, end) of each element of the array at ``i``."""
    i = _WS.match(source, i + 1).end()
    if source[i:i + 1] == "]":
        return
    while True:
        _, end = _SKIP(source, i)
        yield i, end
        i = _WS.match(source, end).end()
        if source[i:i + 1] != ",":
            return
        i = _WS.match(source, i + 1).end()


def _json_find(source: str, path: list, key=None) -> int:
    """Offset in ``source`` of the value at ``path`` (or the nearest ancestor), or of its key ``key``."""
    at = 0
    for part in path:
        found = None
        if source[at:at + 1] == "{":
            for name, _k, value_at, _end in _members(source, at):
                if name == str(part):
                    found = value_at                    # last one wins, like the decoder
        elif source[at:at + 1] == "[" and isinstance(part, int):
            for n, (value_at, _end) in enumerate(_elements(source, at)):
                if n == part:
                    found = value_at
                    break
        if found is None:
            break
        at = found
    if key is not None and source[at:at + 1] == "{":
        for name, key_at, _v, _end in _members(source, at):
            if name == key:
                return key_at
    return at


def _json_duplicates(source: str, line: int, col: int) -> list[tuple[int, int, list, str]]:
    """(line, column, path, message) of each repeated key in the JSON value ``source``."""
    out = []

    def place(offset: int) -> tuple[int, int]:
        n = source.count("\n", 0, offset)
        return (line, col + offset) if not n else (line + n, offset - source.rfind("\n", 0, offset))

    def walk(at: int, path: list) -> None:
        if source[at:at + 1] == "{":
            first: dict[str, int] = {}
            for name, key_at, value_at, _end in _members(source, at):
                if name in first:
                    kl, kc = place(key_at)
                    out.append((kl, kc, path + [name],
                                f"duplicate key '{name}' (first at line {place(first[name])[0]})"))
                else:
                    first[name] = key_at
                walk(value_at, path + [name])
        elif source[at:at + 1] == "[":
            for n, (value_at, _end) in enumerate(_elements(source, at)):
                walk(value_at, path + [n])

    walk(0, [])
    return out
