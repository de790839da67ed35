"""The one YAML loader for the YAML files the tool reads (policy, mapping; waivers share its reading).

A configuration file is untrusted input: PyYAML's ``safe_load`` alone follows a FIFO or a
device forever, expands an alias bomb into gigabytes, recurses into deep nesting until the
stack overflows, and lets a duplicated key silently win (``minimum_age: 0`` written twice
disables CHILD-MINOR). Here the file must be a regular file of bounded size, aliases and depth
are bounded, and a duplicate key is an ``InputError`` naming it. The waivers file, which may
hold 10,000 entries, is read by ``read_bounded`` and parsed by yaml-rs, which itself rejects
duplicate keys, deep nesting and more than a million alias replays.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from privacy_audit.errors import InputError

MAX_BYTES = 1 << 20
"""A policy is a few kilobytes; a megabyte leaves room for long waiver lists."""
MAX_ALIASES = 100
MAX_DEPTH = 32
MAX_NODES = 100_000
"""Values after expanding aliases: nine aliases of nine aliases… are a billion otherwise."""


def read_bounded(path: Path, what: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``.

    The type is checked before opening (opening a FIFO blocks), and the file is opened
    non-blocking and checked again, so that a swap between the two checks cannot hang us.
    """
    name = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError(name, expected=f"{what} as a regular file (not a device, pipe or directory)")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(name, expected=f"a readable {what} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(name, expected=f"{what} as a regular file (not a device, pipe or directory)")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(name, expected=f"{what} of at most {max_bytes >> 10:,} KiB")
    return data


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader with alias, depth and duplicate-key checks (raised as ``_Rejected``)."""

    def __init__(self, stream: bytes) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Rejected(None, f"at most {MAX_ALIASES} aliases (*name)")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Rejected(None, f"nesting at most {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise _Rejected(None, f"at most {MAX_NODES:,} values once aliases are expanded")
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise _Rejected(None, "scalar mapping keys")
            if key in seen:
                raise _Rejected(str(key), "each key once in its mapping (found it twice)")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """How many nodes ``node`` stands for with every alias expanded (memoized per node)."""
    if id(node) not in sizes:
        sizes[id(node)] = 1  # a recursive alias counts once rather than forever
        children: list[Node] = []
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node.value, list):
            children = node.value
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


class _Rejected(Exception):
    def __init__(self, key: str | None, expected: str) -> None:
        self.key, self.expected = key, expected


def parse_yaml(data: bytes, name: str) -> object:
    """Parse ``data`` (named ``name`` in messages) under the loader's bounds."""
    loader = None
    try:  # the reader already rejects bytes (a NUL, bad UTF-8) on construction
        loader = _BoundedLoader(data)
        return loader.get_single_data()
    except _Rejected as exc:
        raise InputError(name, key=exc.key, expected=exc.expected) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(name, expected=f"valid YAML{where}") from None
    except RecursionError:
        raise InputError(name, expected=f"nesting at most {MAX_DEPTH} levels deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path, what: str) -> tuple[object, bytes]:
    """The parsed document at ``path`` and its bytes (callers digest them)."""
    data = read_bounded(path, what)
    return parse_yaml(data, str(path)), data
