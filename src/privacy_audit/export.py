"""Open an export: find its files, validate them against the contract, register typed views.

Nothing is copied: each table becomes a view over its file, first a raw one (CSV read as text),
then, once every value has been checked, a typed one named after the table. Validation stops at
the first problem with an ``InputError`` that names the file, column and row.
"""

from __future__ import annotations

import csv
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from privacy_audit.contract import (
    BOOLEAN,
    COUNTRY,
    CURRENCY,
    DATE,
    DECIMAL,
    ERASED_COLUMN,
    INTEGER,
    TABLES,
    TEXT,
    TIMESTAMP,
    Column,
    Table,
    erased_expression,
)
from privacy_audit.engine.base import INPUT, Engine, EngineError, SourceFile
from privacy_audit.engine.storage import Storage
from privacy_audit.errors import InputError

FORMATS = ("parquet", "csv")
MAX_HEADER = 64 << 10
DECIMAL_LIMIT = "1e16"
"""The first magnitude DECIMAL(18,2) cannot hold (16 digits before the point)."""

# What a CSV text must look like before it is cast (TRY_CAST alone is too lenient: it accepts
# "2024-01-01 10:00:00+02" as a timestamp and drops the offset).
_CSV_SHAPE = {
    DATE: r"^\d{4}-\d{2}-\d{2}$",
    TIMESTAMP: r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$",
    BOOLEAN: r"^(true|false)$",
    INTEGER: r"^[+-]?\d+$",
    DECIMAL: r"^[+-]?(\d+(\.\d*)?|\.\d+)$",
}
_EXPECTED = {
    TEXT: "text",
    DATE: "a date YYYY-MM-DD",
    TIMESTAMP: "a timestamp YYYY-MM-DDTHH:MM:SS (UTC)",
    BOOLEAN: "true or false",
    INTEGER: "an integer",
    DECIMAL: "a decimal number",
}
_PATTERNS = {
    COUNTRY: "an ISO 3166-1 alpha-2 country code such as GB",
    CURRENCY: "an ISO 4217 currency code such as EUR",
}
# Parquet physical types accepted for each contract type (DuckDB's names for them).
_PARQUET_OK = {
    TEXT: ("VARCHAR",),
    DATE: ("DATE",),
    TIMESTAMP: ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"),
    BOOLEAN: ("BOOLEAN",),
    INTEGER: ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"),
    DECIMAL: ("DECIMAL", "DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
}


@dataclass
class Export:
    """An opened, validated export: which tables it has and what its files were.

    File digests are computed in a background thread while the rules run (hashing gigabytes
    of Parquet is I/O the engine need not wait for); ``digests`` waits for them.
    """

    root: str
    sources: dict[str, SourceFile]
    columns: dict[str, list[str]]
    ignored: list[str] = field(default_factory=list)
    _hashing: dict[str, Future[str]] = field(default_factory=dict, repr=False)

    def has(self, table: str) -> bool:
        return table in self.sources

    @property
    def digests(self) -> dict[str, str]:
        """Each file's SHA-256; a file that became unreadable meanwhile is unusable input."""
        digests = {}
        for source in self.sources.values():
            try:
                digests[source.name] = self._hashing[source.name].result()
            except OSError as exc:
                raise InputError(
                    source.location,
                    expected=f"a file that stays readable until the audit ends ({exc.strerror or exc})",
                ) from None
        return digests


def discover(root: str, storage: Storage) -> tuple[dict[str, SourceFile], list[str], dict[str, int]]:
    """Map each contract table to its file; return also the files that are not tables and the sizes."""
    try:
        entries = storage.entries(root)
    except FileNotFoundError:
        raise InputError(root, expected="an export directory (it does not exist)") from None
    except NotADirectoryError:
        raise InputError(root, expected="an export directory, not a file") from None
    except OSError as exc:
        raise InputError(root, expected=f"a readable export directory ({exc})") from None
    sources: dict[str, SourceFile] = {}
    sizes: dict[str, int] = {}
    ignored: list[str] = []
    for entry in entries:
        table, _, fmt = entry.name.rpartition(".")
        if fmt not in FORMATS or table not in TABLES:
            ignored.append(entry.name)
            continue
        if not entry.is_file:  # never skip a table as absent when its file is there but unusable
            raise InputError(entry.location, expected=f"table {table} as a regular file (found {entry.kind})")
        if table in sources:
            raise InputError(
                entry.location, expected=f"one file for table {table} (found {sources[table].name} too)"
            )
        sources[table] = SourceFile(table, entry.location, fmt)
        sizes[table] = entry.size
    for table in TABLES.values():
        if not table.optional and table.name not in sources:
            raise InputError(
                f"{root.rstrip('/')}/{table.name}.parquet",
                expected=f"required table {table.name} as {table.name}.parquet or {table.name}.csv",
            )
    return sources, listable(ignored), sizes


_OWN_KIND = re.compile(r"^(_SUCCESS|_metadata|_common_metadata|manifest\.json|README(\.\w+)?)$")


def listable(names: list[str]) -> list[str]:
    """Ignored files as ``summary.json`` may list them: a file's name may itself be personal
    data (``jane.doe@example.com.pdf``), so only names of the contract's tables (any extension)
    and an export's usual sidecars are listed; every other file is counted by its extension."""
    shown = [n for n in names if n.split(".")[0] in TABLES or _OWN_KIND.match(n)]
    others: dict[str, int] = {}
    for name in names:
        if name not in shown:
            ext = name.rpartition(".")[2] if "." in name.strip(".") else ""
            ext = ext if re.fullmatch(r"[A-Za-z0-9]{1,8}", ext) else ""
            others[ext] = others.get(ext, 0) + 1
    counted = [
        f"{n} other file{'s' if n > 1 else ''}" + (f" (.{ext})" if ext else " (no extension)")
        for ext, n in sorted(others.items())
    ]
    return shown + counted


def open_export(root: str | Path, engine: Engine) -> Export:
    """Validate every file of the export at ``root`` and register one typed view per table.

    ``root`` is a local path, or a URI (``hdfs://…``) when the engine reads such storage.
    """
    root = str(root)
    try:
        storage = engine.storage(root)
    except EngineError as exc:
        raise InputError(root, expected=f"an export the engine can read ({exc})") from None
    sources, ignored, sizes = discover(root, storage)
    export = Export(root, sources, {}, ignored=ignored)
    for table_name, source in sources.items():
        if sizes[table_name] == 0:
            kind = "a CSV header row" if source.format == "csv" else "a Parquet file"
            raise InputError(source.location, expected=f"{kind} (the file is empty)")
        header = _csv_header(storage, source) if source.format == "csv" else None
        export.columns[table_name] = _load_table(engine, TABLES[table_name], source, header)
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    export._hashing = {s.name: hasher.submit(storage.sha256, s.location) for s in sources.values()}
    hasher.shutdown(wait=False)  # queued digests still complete; nothing waits for them here
    engine.register(
        "export_columns",
        pa.table(
            {
                "table_name": [t for t, cols in export.columns.items() for _ in cols],
                "column_name": [c for cols in export.columns.values() for c in cols],
            },
            schema=pa.schema([("table_name", pa.string()), ("column_name", pa.string())]),
        ),
    )
    return export


def unreadable(engine: Engine, export: Export, tables: tuple[str, ...], exc: EngineError) -> InputError:
    """Unusable input met after validation (a corrupt page, a bad byte in a column no check
    read): the file of ``tables`` that fails a full read is named, or all of them if none does."""
    for table in tables:
        try:
            engine.query(f'SELECT max(hash(COLUMNS(*))) FROM "raw__{table}"')
        except EngineError as found:
            return _read_error(export.sources[table], found)
    return InputError(" or ".join(export.sources[t].location for t in tables), expected=str(exc))


def _load_table(engine: Engine, table: Table, source: SourceFile, header: list[str] | None) -> list[str]:
    raw = f"raw__{table.name}"
    try:
        engine.open_raw(raw, source, header)
        schema = dict(engine.schema(raw))
    except EngineError as exc:
        raise _read_error(source, exc) from None
    for column in table.columns:
        if column.name not in schema:
            raise InputError(
                source.location,
                column=column.name,
                expected=f"column {column.name} (required by the contract)",
            )
        if source.format == "parquet":
            _check_parquet_type(source, column, schema[column.name])
    _check_values(engine, table, source, raw)
    engine.create_view(table.name, _typed_select(table, source, raw))
    return list(schema)


def _csv_header(storage: Storage, source: SourceFile) -> list[str]:
    """The header row, read from the first line alone: a bad byte further down is the
    engine's to locate, not "row 0". A UTF-8 byte-order mark is not part of the first name."""
    try:
        with storage.open(source.location) as handle:
            first = handle.readline(MAX_HEADER + 1)
    except OSError as exc:
        raise InputError(source.location, expected=f"a readable file ({exc.strerror or exc})") from None
    if len(first) > MAX_HEADER:
        raise InputError(source.location, row=0, expected=f"a header row of at most {MAX_HEADER >> 10} KiB")
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise InputError(source.location, row=0, expected="UTF-8 text") from None
    except csv.Error:
        raise InputError(source.location, row=0, expected="a well-formed CSV header row") from None
    if not header or any(not name.strip() for name in header):
        raise InputError(source.location, row=0, expected="a header row naming every column")
    seen = {n for n in header if header.count(n) > 1}
    if seen:
        raise InputError(
            source.location, column=sorted(seen)[0], expected="each column named once in the header"
        )
    return header


def _read_error(source: SourceFile, exc: EngineError) -> InputError:
    """The file named with the engine's (scrubbed) reason, and the CSV row when it is known."""
    row = exc.line - 1 if source.format == "csv" and exc.line else None
    if exc.kind == INPUT:
        return InputError(source.location, row=row, expected=str(exc))
    kind = "well-formed CSV" if source.format == "csv" else "a readable Parquet file"
    return InputError(source.location, row=row, expected=f"{kind} ({exc})")


def _check_parquet_type(source: SourceFile, column: Column, found: str) -> None:
    base = found.split("(")[0]
    if base not in _PARQUET_OK[column.type]:
        raise InputError(
            source.location,
            column=column.name,
            expected=f"{_EXPECTED[column.type]} ({column.type}), found Parquet type {found}",
        )


def _problems(table: Table, source: SourceFile, null_free: set[str]) -> list[tuple[Column, str, str]]:
    """(column, SQL condition that flags a bad row, what was expected) for every check.

    Columns in ``null_free`` (proved by the file's metadata) need no NULL scan.
    """
    checks = []
    for col in table.columns:
        name = f'"{col.name}"'
        if not col.nullable and col.name not in null_free:
            checks.append((col, f"{name} IS NULL", f"a value ({col.name} is required)"))
        if source.format == "csv" and col.type != TEXT:
            shape = _CSV_SHAPE[col.type]
            cast = f"TRY_CAST({name} AS {col.type}) IS NULL" if col.type != BOOLEAN else "false"
            checks.append(
                (
                    col,
                    f"{name} IS NOT NULL AND (NOT regexp_matches({name}, '{shape}') OR {cast})",
                    _EXPECTED[col.type],
                )
            )
        if source.format == "parquet" and col.type == DECIMAL:  # a Parquet double may be NaN or 7e29
            checks.append(
                (
                    col,
                    # not TRY_CAST: DuckDB prunes that by min/max statistics, which skip NaN
                    f"{name} IS NOT NULL AND (isnan({name}::DOUBLE) OR isinf({name}::DOUBLE)"
                    f" OR abs({name}::DOUBLE) >= {DECIMAL_LIMIT})",
                    f"a finite decimal number that fits {col.type}",
                )
            )
        if col.pattern:
            checks.append(
                (
                    col,
                    f"{name} IS NOT NULL AND NOT regexp_matches({name}, '{col.pattern}')",
                    _PATTERNS[col.pattern],
                )
            )
        if col.enum:
            allowed = ", ".join(f"'{v}'" for v in col.enum)
            checks.append(
                (col, f"{name} IS NOT NULL AND {name} NOT IN ({allowed})", f"one of {' | '.join(col.enum)}")
            )
    return checks


def _check_values(engine: Engine, table: Table, source: SourceFile, raw: str) -> None:
    checks = _problems(table, source, engine.null_free_columns(source))
    # Every text column is decoded once here, so that a byte that is not UTF-8 in a column no
    # check reads is unusable input now rather than an error in whichever rule meets it.
    decoded = [f'max(length("{c.name}"))' for c in table.columns if c.type == TEXT]
    counts = [f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks]
    if not counts + decoded:
        return
    try:
        found = engine.query(f"SELECT {', '.join(counts + decoded)} FROM {raw}").to_pylist()[0]
    except EngineError as exc:
        raise _read_error(source, exc) from None
    for (column, cond, expected), bad in zip(checks, list(found.values())[: len(checks)], strict=True):
        if bad:
            row = engine.first_row_where(source, cond)
            more = f"; {bad - 1} more rows like it" if bad > 1 else ""
            raise InputError(source.location, column=column.name, row=row, expected=f"{expected}{more}")


def _typed_select(table: Table, source: SourceFile, raw: str) -> str:
    """The contract's columns with their contract types, plus the derived erased flag.

    Undeclared columns stay out of the typed view: no rule reads them (MIN-UNDECLARED-COLUMN
    reads the column list), and an export column named like a derived one cannot shadow it.
    """
    parts = []
    for col in table.columns:
        name = f'"{col.name}"'
        if source.format == "csv" and col.type == TIMESTAMP:
            parts.append(f"CAST(replace({name}, 'T', ' ') AS TIMESTAMP) AS {name}")
        elif (source.format == "csv" and col.type != TEXT) or (
            source.format == "parquet" and col.type in (TIMESTAMP, DECIMAL, INTEGER)
        ):
            parts.append(f"CAST({name} AS {col.type}) AS {name}")
        else:
            parts.append(name)
    if table.personal:
        parts.append(f"{erased_expression(table)} AS {ERASED_COLUMN}")
    return f"SELECT {', '.join(parts)} FROM {raw}"
