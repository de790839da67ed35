"""DuckDB, the default engine: in-process, columnar; views read Parquet and CSV in place."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from privacy_audit.engine import scrub
from privacy_audit.engine.base import INPUT, MEMORY, QUERY, Engine, EngineError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_FILE = re.compile(r"^\s*file = (.+?)\s*$", re.MULTILINE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNIT |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
MAX_LINE = 8 << 20
"""The longest CSV line read; a longer one is named as such, not as an unterminated quote."""
MIN_MEMORY = 64 * 2**20
"""Below this DuckDB cannot hold one Parquet row group: every rule would end out of memory."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBEngine(Engine):
    """One in-memory DuckDB connection; views point at the export's files."""

    name = "duckdb"
    version = duckdb.__version__

    def __init__(
        self,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        self.con = duckdb.connect()
        # Rules never depend on row order (findings are sorted), and dropping it lets joins and
        # aggregates stream with less memory; only locating a bad CSV row needs file order.
        self.con.execute("SET preserve_insertion_order = false")
        # Zoned Parquet timestamps become the contract's UTC wall time, whatever the machine's zone.
        self.con.execute("SET TimeZone = 'UTC'")
        # Spill files go to a private temporary directory, never the current one (which may
        # be the export itself); it is removed on close.
        self._spill = None if temp_directory else tempfile.TemporaryDirectory(prefix="privacy-audit-spill-")
        spill = str(temp_directory) if temp_directory else self._spill.name
        self.con.execute(f"SET temp_directory = {_quote(spill)}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {_quote(_checked_size(memory_limit))}")

    def schema(self, view: str) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE {_ident(view)}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def create_view(self, view: str, select_sql: str) -> None:
        self._run(f"CREATE OR REPLACE VIEW {_ident(view)} AS {select_sql}")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        try:
            return self.con.sql(sql, params=_used(sql, params)).to_arrow_table()
        except duckdb.Error as exc:
            raise _engine_error(exc) from None

    def write_parquet(self, sql: str, params: Mapping[str, object] | None, path: Path) -> int:
        """DuckDB's own COPY: the rows stream (and sort, spilling) inside DuckDB, never in Python."""
        try:
            row = self.con.execute(
                f"COPY ({sql}) TO {_quote(str(path))} (FORMAT parquet)", _used(sql, params)
            ).fetchone()
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
        return int(row[0]) if row else 0

    def batches(self, sql: str, rows: int) -> pa.RecordBatchReader:
        """The rows of ``sql`` as a stream of record batches of ``rows`` rows, not one table.

        A sort finishes (spilling) before the first batch, so its errors are raised here.
        """
        try:
            return self.con.sql(sql).to_arrow_reader(rows)
        except duckdb.Error as exc:
            raise _engine_error(exc) from None

    @contextmanager
    def file_order(self) -> Iterator[None]:
        """Within this block, scans return rows in file order (locating a bad CSV row needs it)."""
        self.con.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self.con.execute("SET preserve_insertion_order = false")

    def _run(self, sql: str) -> None:
        try:
            self.con.execute(sql)
        except duckdb.Error as exc:
            raise _engine_error(exc) from None

    def close(self) -> None:
        self.con.close()
        if self._spill:
            self._spill.cleanup()


def _used(sql: str, params: Mapping[str, object] | None) -> dict[str, object] | None:
    """The parameters ``sql`` names: DuckDB refuses a bound value the statement does not use."""
    used = set(_PARAM.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in used} or None


def _checked_size(text: str) -> str:
    """``text`` when it is a size DuckDB reads and at least ``MIN_MEMORY``; else ``ValueError``."""
    size = _SIZE.match(text)
    if not size or float(size.group(1)) * _UNIT[(size.group(2) or "").lower()] < MIN_MEMORY:
        raise ValueError("--memory-limit: expected a size of at least 64MB, such as 4GB")
    return text.strip()


_REASONS = [
    (r"string encoding|unicode|UTF-?8", scrub.UTF8),
    (r"Maximum line size", f"lines of at most {MAX_LINE >> 20} MiB"),
    (r"unterminated quote", scrub.QUOTES),
    (r"Expected Number of Columns|too many columns|columns than", scrub.FIELDS),
    (r"[Cc]orrupt|[Mm]agic|Parquet|[Dd]ecompress|page|metadata", scrub.CORRUPT_PARQUET),
]
"""DuckDB's reasons, recognized by a phrase and retold in the contract's words.

DuckDB quotes the offending value in many messages ("value ... is not valid UTF8", "Could not
cast value nan", "Original Line: ..."); only these retellings ever leave the engine."""


_SQL_ERRORS = (
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ParserException,
    duckdb.SyntaxException,
    duckdb.NotImplementedException,
)


def _engine_error(exc: duckdb.Error) -> EngineError:
    text = str(exc)
    line = _CSV_LINE.search(text)
    message, kind = _scrubbed(exc, text)
    file = _CSV_FILE.search(text)
    return EngineError(message, int(line.group(1)) if line else None, file.group(1) if file else None, kind)


def _scrubbed(exc: duckdb.Error, text: str) -> tuple[str, str]:
    """(message, kind) of a DuckDB error, with nothing the engine quoted from the data.

    SQL errors (binder, catalog, parser) describe the query, not the data, and keep their first
    line. Data errors (DuckDB raises some as a bare ``Error``, such as "Parquet file is likely
    corrupted") keep only a recognized reason or a fixed sentence.
    """
    if isinstance(exc, duckdb.OutOfMemoryException):
        return scrub.out_of_memory("raise --memory-limit or lower --threads"), MEMORY
    if isinstance(exc, _SQL_ERRORS):
        return scrub.first_line(text, type(exc).__name__), QUERY
    for pattern, reason in _REASONS:
        if re.search(pattern, text):
            return reason, INPUT
    if isinstance(exc, duckdb.IOException):
        return scrub.READABLE, INPUT
    if isinstance(exc, duckdb.InvalidInputException | duckdb.InternalException):
        return scrub.BYTES, INPUT
    if isinstance(exc, duckdb.ConversionException | duckdb.OutOfRangeException):
        return scrub.CONVERSION, QUERY
    return scrub.query_failed(type(exc).__name__), QUERY
