"""Bounds on what reading a YAML or JSON file may cost, and the YAML dialect we read.

A hostile or broken file must give a diagnostic with its place, never a RecursionError or a
reader that expands an alias bomb until the machine runs out of memory. Every reader of
policy, draft and import files composes through :class:`BoundedLoader`:

- nesting deeper than :data:`MAX_DEPTH` levels is refused where it happens;
- import files refuse aliases (``*name``) outright: data has no use for them; policy and
  draft files may use them, but the document they expand to is bounded
  (:data:`MAX_EXPANDED_NODES` nodes, :data:`MAX_DEPTH` levels, see :func:`check_expansion`);
- only ``true``/``false`` are booleans (YAML 1.2): PyYAML reads ``yes``/``no``/``on``/``off``
  as booleans by YAML 1.1, other tools read them as text, so we keep them text and the
  schema refuses them where a boolean is due;
- files larger than :data:`MAX_POLICY_BYTES` (policy and draft files) are refused unread.
"""
from __future__ import annotations

import re

import yaml

#: Deepest nesting of mappings and lists (a policy condition uses about 10, an import 6).
MAX_DEPTH = 64
#: Nodes a policy or draft file may expand to through its aliases (the shipped set: ~15,000).
MAX_EXPANDED_NODES = 200_000
#: Largest policy or draft file read (the shipped files are below 40 KB).
MAX_POLICY_BYTES = 4 * 1024 * 1024


class LimitError(yaml.MarkedYAMLError):
    """A file beyond one of the bounds; carries the mark where it was found."""

    def __init__(self, problem: str, mark):
        super().__init__(problem=problem, problem_mark=mark)


_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with a nesting bound and YAML 1.2 booleans; ``allow_aliases`` per file kind."""

    allow_aliases = True

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent) and not self.allow_aliases:
            mark = self.peek_event().start_mark
            raise LimitError("aliases (*name) are not allowed in import files: write the value out", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise LimitError(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# YAML 1.2 core booleans: replace the 1.1 resolver (yes/no/on/off) on this class only
BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
BoundedLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


#: libyaml's parser (when PyYAML was built with it) with the same booleans; it has no hook for
#: nesting while composing (libyaml stops at 1,000 levels itself), so :func:`check_expansion`
#: bounds the depth of what it composed.
if hasattr(yaml, "CSafeLoader"):
    class FastBoundedLoader(yaml.CSafeLoader):
        """CSafeLoader with YAML 1.2 booleans."""

    FastBoundedLoader.yaml_implicit_resolvers = BoundedLoader.yaml_implicit_resolvers
else:
    FastBoundedLoader = None


class ImportLoader(BoundedLoader):
    """The loader of fact import files: no aliases."""

    allow_aliases = False


def check_expansion(root: yaml.Node) -> None:
    """Refuse a node tree whose aliases expand it beyond MAX_EXPANDED_NODES or MAX_DEPTH.

    Linear in the distinct nodes: the size and height of a node shared by aliases are
    computed once; the walk never goes deeper than MAX_DEPTH, and an alias to a node that
    contains it (``&a [*a]``) is refused.

    Raises:
        LimitError: at the node where the bound was passed.
    """
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        known = memo.get(id(node))
        if known is not None:
            if depth + known[1] - 1 > MAX_DEPTH:
                raise LimitError(f"aliases nest this document deeper than {MAX_DEPTH} levels", node.start_mark)
            return known
        if depth > MAX_DEPTH:
            raise LimitError(f"aliases nest this document deeper than {MAX_DEPTH} levels", node.start_mark)
        if id(node) in active:
            raise LimitError("an alias refers to a value that contains it", node.start_mark)
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = ()
        active.add(id(node))
        size, height = 1, 1
        for child in children:
            child_size, child_height = measure(child, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
            if size > MAX_EXPANDED_NODES:
                raise LimitError(f"aliases expand this document beyond {MAX_EXPANDED_NODES:,} values",
                                 child.start_mark)
        active.discard(id(node))
        memo[id(node)] = size, height
        return size, height

    measure(root, 1)


def too_large(size: int) -> str | None:
    """The problem with a policy or draft file of ``size`` bytes, or None."""
    if size > MAX_POLICY_BYTES:
        return f"file of {size:,} bytes; policy and draft files have at most {MAX_POLICY_BYTES:,}"
    return None
