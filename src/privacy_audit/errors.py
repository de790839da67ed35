"""The one error type for unusable input: it names the file, column and row, never a value."""

from __future__ import annotations

from collections.abc import Iterable

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
    exc: ValidationError, *, file: str | None = None, noun: str = "key", known: Iterable[str] = ()
) -> InputError:
    """A pydantic validation failure as one ``InputError`` naming the key, never the value.

    The policy file passes its ``file`` (the error then reads "FILE, key K: …"); the report
    parameters pass none and read "parameter K: …". ``known`` lists the accepted names for an
    unknown one.
    """
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        names = ", ".join(known)
        expected = f"no such {noun} ({f'one of {names}' if names else f'unknown {noun}'})"
    elif err["type"] == "missing":
        expected = f"this {noun} (every {noun} is required)"
    else:
        expected = f"a valid value ({err['msg'].removeprefix('Value error, ')})"
    if file is not None:
        return InputError(file, key=name or None, expected=expected)
    return InputError(f"{noun} {name}" if name else f"{noun}s", expected=expected)
