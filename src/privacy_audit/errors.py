"""The one error type for unusable input: it names the file, column and row, never a value."""

from __future__ import annotations


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
