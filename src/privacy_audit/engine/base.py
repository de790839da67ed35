"""What the audit needs from an engine, and nothing more.

An engine opens export files as views, creates further views from SQL, holds small lookup
tables built from the policy, and answers queries as Arrow tables. Rules are written in DuckDB's
SQL dialect with ``$name`` parameters; an engine that speaks another dialect translates them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from privacy_audit.engine.storage import LocalStorage, Storage, base_name, is_uri

MAX_THREADS = 1024
"""More than any machine has cores; beyond it DuckDB aborts the process allocating them."""


@dataclass(frozen=True)
class SourceFile:
    """One file of an export: the table it holds, where it is (a path or URI), and its format."""

    table: str
    location: str
    format: str  # "csv" or "parquet"

    @property
    def name(self) -> str:
        return base_name(self.location)


INPUT, MEMORY, QUERY = "input", "memory", "query"
"""What an ``EngineError`` is about: the export's bytes, the memory limit, or the SQL itself."""


class EngineError(Exception):
    """The engine could not read a file or run a query; ``line`` is the file line when known.

    The message is already scrubbed: it says what went wrong, never a value the engine quoted.
    ``kind`` tells unusable input (``INPUT``: decoding, corruption, I/O) from running out of
    memory and from a query that is wrong in itself.
    """

    def __init__(self, message: str, line: int | None = None, kind: str = QUERY) -> None:
        super().__init__(message)
        self.line, self.kind = line, kind


class Engine(ABC):
    """A SQL engine that can run the rule catalogue over one export."""

    name: str
    version: str

    def storage(self, root: str) -> Storage:
        """The storage holding the export at ``root``: the local file system here.

        An engine that reads remote storage (``hdfs://``, ``s3a://``…) returns its own.
        """
        if is_uri(root):
            scheme = root.split(":", 1)[0]
            raise EngineError(
                f"{self.name} reads exports on the local file system (or a mount), not {scheme}: URIs;"
                " --engine spark reads any storage Spark reads"
            )
        return LocalStorage()

    @abstractmethod
    def open_raw(self, view: str, source: SourceFile, text_columns: list[str] | None) -> None:
        """Register ``source`` as ``view`` without copying it.

        For CSV, ``text_columns`` is the header: every column is read as text, so that the
        contract, not a type sniffer, decides what a value means.
        """

    @abstractmethod
    def schema(self, view: str) -> list[tuple[str, str]]:
        """The (column, engine type) pairs of a view, in order."""

    @abstractmethod
    def create_view(self, view: str, select_sql: str) -> None:
        """Create or replace ``view`` as ``select_sql``."""

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make a small in-memory table (policy lookups, column lists) queryable as ``name``."""

    @abstractmethod
    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        """Run ``sql`` with ``$name`` parameters bound from ``params``."""

    @abstractmethod
    def row_number_sql(self, source: SourceFile) -> str:
        """A SELECT over the raw file that adds a 1-based data-row column ``_row``."""

    def first_row_where(self, source: SourceFile, condition: str) -> int | None:
        """The 1-based data row of the first record of ``source`` matching ``condition``."""
        located = self.query(f"SELECT min(_row) AS r FROM ({self.row_number_sql(source)}) WHERE {condition}")
        return located.column("r")[0].as_py()

    def null_free_columns(self, source: SourceFile) -> set[str]:
        """Columns the file's own metadata proves hold no NULL (Parquet statistics).

        Validation skips scanning them for NULLs. An engine that cannot read such metadata
        returns nothing, and every required column is scanned.
        """
        return set()

    def close(self) -> None:  # noqa: B027 - engines without resources need no close
        """Release the engine's resources."""
