"""Which files hold a table: single files, part-file directories, globs, compressed CSV.

A table is ``<table>.parquet``, ``<table>.csv``, ``<table>.csv.gz``, ``<table>.csv.zst`` or a
directory ``<table>/`` of part files of one format, searched recursively (Spark and dbt write
one file per task, under hive partition directories such as ``year=2024/``). Names starting
with ``_`` or ``.`` are the writers' bookkeeping (``_SUCCESS``, ``.crc``, ``_temporary/``) and
are ignored; partition keys are layout, recorded so that a mapping may name them. Nothing here
reads a value: only names, sizes and CSV header rows.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import BinaryIO

import zstandard
from pydantic import BaseModel, ConfigDict, Field

from privacy_audit.contract import TABLES
from privacy_audit.engine.storage import Entry, Storage
from privacy_audit.errors import InputError

SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv", ".csv.zst": "csv"}
FORMS = "<table>.parquet, <table>.csv, <table>.csv.gz, <table>.csv.zst or a directory <table>/"
_GLOB = set("*?[")
# Delimiters a platform's CSV may use instead of the one expected: a header of one column
# holding one of them is a dialect mismatch, not a file missing all its columns.
_DELIMITERS = ",;\t|"


class CsvDialect(BaseModel):
    """How a CSV source is written; the contract's own form is the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(",", min_length=1, max_length=1)
    header: bool = True
    quote: str = Field('"', min_length=1, max_length=1)


@dataclass(frozen=True)
class SourceFile:
    """One file read for a table: where it is, its path relative to the export, its size."""

    location: str
    path: str
    size: int


@dataclass(frozen=True)
class TableSource:
    """Everything read for one contract table: files of one format, how to parse them.

    ``origin`` is what named the files (``orders.parquet``, ``orders/``, or a mapping's
    ``source``) and ``location`` where that is; ``partitions`` are the hive keys found in the
    files' paths.
    """

    table: str
    origin: str
    location: str
    format: str
    files: tuple[SourceFile, ...]
    csv: CsvDialect = field(default_factory=CsvDialect)
    partitions: tuple[str, ...] = ()


@dataclass
class Discovery:
    """The tables found by their contract names, and what the export holds besides."""

    sources: dict[str, TableSource] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)


def format_of(name: str) -> str | None:
    """parquet or csv from a file name's suffix; None when it is neither."""
    lowered = name.lower()
    return next((fmt for suffix, fmt in SUFFIXES.items() if lowered.endswith(suffix)), None)


def table_of(name: str) -> str | None:
    """The contract table a top-level entry of an export holds (``orders.csv.gz``, ``orders/``)."""
    if name in TABLES:
        return name
    lowered = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix) and name[: -len(suffix)] in TABLES:
            return name[: -len(suffix)]
    return None


def is_bookkeeping(name: str) -> bool:
    """Spark's and Hadoop's own files (``_SUCCESS``, ``.part-0.crc``), never data."""
    return name.startswith(("_", "."))


def list_dir(storage: Storage, location: str) -> list[Entry]:
    """A directory's entries; an unreadable directory is unusable input."""
    try:
        return storage.entries(location)
    except FileNotFoundError:
        raise InputError(location, expected="an existing directory (it does not exist)") from None
    except NotADirectoryError:
        raise InputError(location, expected="a directory, not a file") from None
    except OSError as exc:
        raise InputError(location, expected=f"a readable directory ({exc})") from None


def walk(storage: Storage, entry: Entry, path: str) -> Iterator[tuple[str, Entry]]:
    """(path relative to the export, entry) of every file under ``entry``, bookkeeping skipped."""
    if not entry.is_dir:
        yield path, entry
        return
    for child in list_dir(storage, entry.location):
        if not is_bookkeeping(child.name):
            yield from walk(storage, child, f"{path}/{child.name}")


def discover(root: str, storage: Storage, skip: set[str]) -> Discovery:
    """Find each contract table not in ``skip`` (the mapped ones) by its name in ``root``."""
    found = Discovery()
    by_table: dict[str, list[Entry]] = {}
    for entry in list_dir(storage, root):
        table = table_of(entry.name)
        if table is None or table in skip:
            found.ignored.append(entry.name)
        else:
            by_table.setdefault(table, []).append(entry)
    for table, entries in by_table.items():
        if len(entries) > 1:
            names = " and ".join(e.name for e in entries)
            found.problems.append(
                InputError(
                    f"{root.rstrip('/')}/{table}", expected=f"one form of table {table} (found {names})"
                )
            )
            continue
        try:
            found.sources[table] = _named_source(storage, table, entries[0])
        except InputError as exc:
            found.problems.append(exc)
    found.missing = [
        t.name for t in TABLES.values() if not t.optional and t.name not in by_table and t.name not in skip
    ]
    return found


def _named_source(storage: Storage, table: str, entry: Entry) -> TableSource:
    if entry.name == table:  # the part-file directory form
        if not entry.is_dir:
            raise InputError(
                entry.location,
                expected=f"table {table} as a directory of part files (found a file or a broken link)",
            )
        return parts_source(storage, table, entry, entry.name, f"{entry.name}/", None)
    if not entry.is_file:  # never skip a table as absent when its file is there but unusable
        raise InputError(entry.location, expected=f"table {table} as a regular file (found {entry.kind})")
    fmt = format_of(entry.name) or "csv"
    return TableSource(
        table, entry.name, entry.location, fmt, (SourceFile(entry.location, entry.name, entry.size),)
    )


def parts_source(
    storage: Storage,
    table: str,
    entry: Entry,
    path: str,
    origin: str,
    fmt: str | None,
    csv_dialect: CsvDialect | None = None,
) -> TableSource:
    """A directory's part files as one table; ``fmt`` given by a mapping, else from the names."""
    files = list(walk(storage, entry, path))
    return _source(table, origin, entry.location, files, fmt, csv_dialect)


def glob_source(
    root: str,
    storage: Storage,
    table: str,
    pattern: str,
    fmt: str | None,
    csv_dialect: CsvDialect | None,
) -> TableSource:
    """Every file under ``root`` whose path (or a parent directory's) matches ``pattern``."""
    segments = pattern.strip("/").split("/")
    fixed = 0
    while fixed < len(segments) - 1 and not _GLOB & set(segments[fixed]):
        fixed += 1
    base_path = "/".join(segments[:fixed])
    base = Entry(base_path, f"{root.rstrip('/')}/{base_path}" if base_path else root, False, 0, True)
    files = [
        (path, e)
        for path, e in walk(storage, base, base_path)
        if _matches(segments, path.strip("/").split("/"))
    ]
    return _source(table, pattern, f"{root.rstrip('/')}/{pattern}", files, fmt, csv_dialect)


def _matches(pattern: list[str], path: list[str]) -> bool:
    """Segment-wise glob match; ``**`` spans any number of segments; a matched directory holds its files."""
    if not pattern:
        return True  # the pattern named a directory above this file
    if pattern[0] == "**":
        return any(_matches(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], pattern[0]) and _matches(pattern[1:], path[1:])


def _source(
    table: str,
    origin: str,
    where: str,
    files: list[tuple[str, Entry]],
    fmt: str | None,
    csv_dialect: CsvDialect | None,
) -> TableSource:
    if not files:
        raise InputError(
            where, expected=f"part files of table {table} (found none; _ and . files are ignored)"
        )
    broken = next((e for _, e in files if not e.is_file), None)
    if broken is not None:
        raise InputError(broken.location, expected="a readable file (found a broken link)")
    formats = {path: fmt or format_of(e.name) for path, e in files}
    unknown = next((p for p, f in formats.items() if f is None), None)
    if unknown is not None:
        raise InputError(
            where, expected=f"part files ending .parquet, .csv, .csv.gz or .csv.zst (found {unknown})"
        )
    kinds = sorted(set(formats.values()))
    if len(kinds) > 1:
        first = {k: next(p for p, f in formats.items() if f == k) for k in kinds}
        found = " and ".join(f"{k} ({p})" for k, p in first.items())
        raise InputError(where, expected=f"part files of one format (found {found})")
    keys: dict[str, None] = {}
    for path, _ in files:
        keys.update((seg.split("=", 1)[0], None) for seg in path.split("/")[:-1] if "=" in seg)
    return TableSource(
        table,
        origin,
        where,
        str(kinds[0]),
        tuple(SourceFile(e.location, path, e.size) for path, e in files),
        csv_dialect or CsvDialect(),
        tuple(keys),
    )


MAX_HEADER = 64 << 10
"""Characters a header row may have: a file without a line break is not read whole for one."""


def open_text(storage: Storage, source: SourceFile, errors: str = "strict") -> io.TextIOWrapper:
    """A CSV file's text, decompressed as its name says (``.gz``, ``.zst``)."""
    raw: BinaryIO = storage.open(source.location)
    name = source.path.lower()
    if name.endswith(".gz"):
        raw = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
    elif name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)  # type: ignore[assignment]
    return io.TextIOWrapper(raw, encoding="utf-8", errors=errors, newline="")


def read_header(storage: Storage, source: SourceFile, dialect: CsvDialect) -> list[str]:
    """The column names of one CSV file (``column1``… without a header row), checked.

    A header of one name holding another delimiter is a dialect mismatch, said as such
    rather than as a file lacking every contract column.
    """
    try:  # the first line alone: a bad byte further down is a data row's, not "row 0"
        with open_text(storage, source, errors="surrogateescape") as handle:
            line = handle.readline(MAX_HEADER + 1)
        if len(line) > MAX_HEADER:
            raise InputError(
                source.location, row=0, expected=f"a header row of at most {MAX_HEADER >> 10} KiB"
            )
        line.encode("utf-8")  # a byte that was not UTF-8 is a lone surrogate now
        line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the first name
        first = next(csv.reader([line], delimiter=dialect.delimiter, quotechar=dialect.quote), [])
    except (UnicodeError, EOFError, gzip.BadGzipFile, zstandard.ZstdError):
        raise InputError(
            source.location, row=0, expected="UTF-8 text (compressed as its name says)"
        ) from None
    except OSError as exc:
        raise InputError(source.location, expected=f"a readable file ({exc.strerror or exc})") from None
    except csv.Error:
        raise InputError(source.location, row=0, expected="a well-formed CSV header row") from None
    if not dialect.header:
        return [f"column{i}" for i in range(1, len(first) + 1)]
    if len(first) == 1:
        other = next((d for d in _DELIMITERS if d != dialect.delimiter and d in first[0]), None)
        if other is not None:
            raise InputError(
                source.location,
                row=0,
                expected=f"CSV delimited by {dialect.delimiter!r} (the header looks like one column "
                f"containing {other!r}; a mapping's csv.delimiter says which one the file uses)",
            )
    if not first or any(not name.strip() for name in first):
        raise InputError(source.location, row=0, expected="a header row naming every column")
    seen = {n for n in first if first.count(n) > 1}
    if seen:
        raise InputError(
            source.location, column=sorted(seen)[0], expected="each column named once in the header"
        )
    return first


def read_headers(storage: Storage, source: TableSource) -> list[str]:
    """The header every CSV part file of ``source`` shares (part files must agree)."""
    header = read_header(storage, source.files[0], source.csv)
    for part in source.files[1:]:
        if read_header(storage, part, source.csv) != header:
            raise InputError(part.location, row=0, expected=f"the same header row as {source.files[0].path}")
    return header
