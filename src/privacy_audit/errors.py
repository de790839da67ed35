"""The one error type for unusable input: it names the file, column and row, never a value."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping

from pydantic import ValidationError


class InputError(Exception):
    """Input the audit cannot use (exit status 2).

    The message names where the problem is and what was expected; it never repeats the
    offending value, because an export's values may be personal data.
    """

    def __init__(
        self,
        file: str,
        *,
        column: str | None = None,
        row: int | None = None,
        key: str | None = None,
        expected: str,
    ) -> None:
        self.file, self.column, self.row, self.expected = file, column, row, expected
        where = [file]
        if key:
            where.append(f"key {key}")
        if column:
            where.append(f"column {column}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: expected {expected}")


def invalid(
    exc: ValidationError,
    *,
    file: str | None = None,
    noun: str = "key",
    known: Iterable[str] = (),
    key_of: Callable[[tuple[int | str, ...]], str] | None = None,
    expected: Mapping[str, str] | None = None,
    other: str = "a valid value ({msg})",
) -> InputError:
    """A pydantic validation failure as one ``InputError`` naming the key, never the value.

    Every loader of a YAML file or parameter set converts here, so the messages keep one shape.
    The policy file passes its ``file`` (the error then reads "FILE, key K: …"); the report
    parameters pass none and read "parameter K: …". ``known`` lists the accepted names for an
    unknown one: a close one is offered as "did you mean". ``key_of`` names the key from the
    error's location (dotted by default), ``expected`` replaces the text for error types
    (``extra_forbidden``, ``missing``…), and ``other`` frames pydantic's own message otherwise.
    """
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    name = key_of(loc) if key_of else ".".join(str(p) for p in loc)
    if expected and err["type"] in expected:
        what = expected[err["type"]]
    elif err["type"] == "extra_forbidden":
        what = f"no such {noun} ({_suggestion(str(loc[-1]) if loc else '', list(known), noun)})"
    elif err["type"] == "missing":
        what = f"this {noun} (every {noun} is required)"
    else:
        what = other.format(msg=err["msg"].removeprefix("Value error, "))
    if file is not None:
        return InputError(file, key=name or None, expected=what)
    return InputError(f"{noun} {name}" if name else f"{noun}s", expected=what)


def _suggestion(name: str, known: list[str], noun: str) -> str:
    """ "unknown key; did you mean deletion_grace_days?" for a misspelling, else the known names."""
    close = closest(name, known)
    if close:
        return f"unknown {noun}; did you mean {close}?"
    return f"one of {', '.join(known)}" if known else f"unknown {noun}"


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` is most likely a misspelling of (difflib's ratio), or None."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None
