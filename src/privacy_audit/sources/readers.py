"""How an engine reads a table's files: the loader's hooks, kept out of the Engine interface.

A reader registers one raw view per table over all its files (CSV read as text under the
header's names, so that the contract, not a type sniffer, decides what a value means), finds
a bad row again in one file after validation found it somewhere, and reads what file metadata
proves (Parquet NULL statistics). ``reader_for`` picks the reader of an engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from privacy_audit.engine.base import INPUT, Engine, EngineError
from privacy_audit.engine.duckdb import MAX_LINE, DuckDBEngine
from privacy_audit.engine.storage import Storage
from privacy_audit.errors import InputError
from privacy_audit.sources.files import SourceFile, TableSource


class FileReader(ABC):
    """The loader's file operations on one engine."""

    def __init__(self, engine: Engine, storage: Storage) -> None:
        self.engine = engine
        self.storage = storage

    @abstractmethod
    def open_raw(self, view: str, source: TableSource, columns: list[str] | None, partitions: bool) -> None:
        """Register all of ``source``'s files as ``view`` without copying them.

        ``columns`` is the CSV header (every column read as text); ``partitions`` adds the
        hive partition keys of the files' paths as text columns.
        """

    @abstractmethod
    def rows_sql(
        self, source: TableSource, file: SourceFile, columns: list[str] | None, partitions: bool
    ) -> str:
        """A SELECT over one file of ``source``, raw columns plus its 1-based data row ``_row``."""

    def first_row(self, sql: str) -> int | None:
        """``min(_row)`` of a query built on ``rows_sql``."""
        return self.engine.query(f"SELECT min(_row) AS r FROM ({sql})").column("r")[0].as_py()

    def null_free(self, source: TableSource) -> set[str]:
        """Columns the files' metadata proves hold no NULL; validation need not scan them."""
        return set()

    def read_error(self, source: TableSource, exc: EngineError) -> InputError:
        """Unusable input for a read that failed: the file (and row) when the engine's message says."""
        file = next((f for f in source.files if exc.file and f.location == exc.file), None)
        if file is None and len(source.files) == 1:
            file = source.files[0]
        if source.format == "csv":
            return self.csv_error(source, file, exc.line, str(exc), exc.kind == INPUT)
        location = file.location if file else source.location
        if exc.kind == INPUT:  # the scrubbed reason already says what the file should have been
            return InputError(location, expected=str(exc))
        return InputError(location, expected=f"a readable Parquet file ({exc})")

    @staticmethod
    def csv_error(
        source: TableSource, file: SourceFile | None, line: int | None, reason: str, plain: bool = False
    ) -> InputError:
        """A CSV parse error at file ``line``, said as the data row (the header is not one).

        A ``plain`` reason (a scrubbed engine reason) is what was expected already."""
        row = (line - 1 if source.csv.header else line) if line else None
        return InputError(
            file.location if file else source.location,
            row=row,
            expected=f"well-formed CSV: {reason}" if plain else f"well-formed CSV ({reason})",
        )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBReader(FileReader):
    """``read_parquet`` / ``read_csv`` table functions over the files, compression by suffix."""

    engine: DuckDBEngine

    def _scan(
        self,
        source: TableSource,
        files: list[SourceFile],
        columns: list[str] | None,
        partitions: bool,
        extra: str = "",
    ) -> str:
        paths = "[" + ", ".join(_quote(f.location) for f in files) + "]"
        hive = f"hive_partitioning = {str(partitions).lower()}, hive_types_autocast = false{extra}"
        if source.format == "parquet":
            return f"read_parquet({paths}, {hive})"
        names = ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in columns or [])
        quote = _quote(source.csv.quote)
        return (
            f"read_csv({paths}, header = {str(source.csv.header).lower()}, auto_detect = false, "
            f"delim = {_quote(source.csv.delimiter)}, quote = {quote}, escape = {quote}, "
            f"strict_mode = true, max_line_size = {MAX_LINE}, columns = {{{names}}}, {hive})"
        )

    def open_raw(self, view: str, source: TableSource, columns: list[str] | None, partitions: bool) -> None:
        self.engine.create_view(
            view, f"SELECT * FROM {self._scan(source, list(source.files), columns, partitions)}"
        )

    def rows_sql(
        self, source: TableSource, file: SourceFile, columns: list[str] | None, partitions: bool
    ) -> str:
        if source.format == "parquet":
            scan = self._scan(source, [file], columns, partitions, ", file_row_number = true")
            return f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row FROM {scan}"
        return (
            f"SELECT *, row_number() OVER () AS _row FROM {self._scan(source, [file], columns, partitions)}"
        )

    def first_row(self, sql: str) -> int | None:
        with self.engine.file_order():
            return super().first_row(sql)

    def null_free(self, source: TableSource) -> set[str]:
        if source.format != "parquet":
            return set()
        paths = "[" + ", ".join(_quote(f.location) for f in source.files) + "]"
        rows = self.engine.query(
            f"SELECT path_in_schema FROM parquet_metadata({paths}) GROUP BY path_in_schema "
            "HAVING bool_and(coalesce(stats_null_count = 0, false))"
            f" AND count(DISTINCT file_name) = {len(source.files)}"
        )
        return set(rows.column(0).to_pylist())


def reader_for(engine: Engine, storage: Storage) -> FileReader:
    """The reader of ``engine``'s kind."""
    if isinstance(engine, DuckDBEngine):
        return DuckDBReader(engine, storage)
    from privacy_audit.sources.spark_reader import SparkReader  # needs pyspark

    return SparkReader(engine, storage)
