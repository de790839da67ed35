"""Untrusted text on the terminal: never markup, never a raw control character.

Paths, CSV headers, ids and engine messages come from outside. Printed as rich markup, ``[/red]``
in a path is a MarkupError traceback and ``[bold]`` silently vanishes; printed raw, an escape
sequence or a newline rewrites the terminal or forges a second line. Every command prints such
text through ``show`` or ``print_line``.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    r"""``text`` with each control or bidi-override character shown as an escape (``\x1b``, ``\n``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def show(text: str, style: str | None = None) -> Text:
    """``text`` as a rich ``Text`` that renders literally: no markup, control characters escaped."""
    return Text(visible(text), style=style or "")


def print_line(console: Console, *parts: str | tuple[str, str]) -> None:
    """Print one line of parts, each plain text or (text, style), never wrapped or interpreted."""
    line = Text.assemble(*(show(*p) if isinstance(p, tuple) else show(p) for p in parts))
    console.print(line, highlight=False, soft_wrap=True, markup=False)
