"""What the audit needs from an engine, and nothing more.

An engine creates views from SQL, holds small lookup tables built from the policy, and answers
queries as Arrow tables. How export files become views is the loader's business
(``sources/readers.py``), not the engine's. Rules are written in DuckDB's
SQL dialect with ``$name`` parameters; an engine that speaks another dialect translates them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from privacy_audit.engine.storage import LocalStorage, Storage, is_uri

MAX_THREADS = 1024
"""More than any machine has cores; beyond it DuckDB aborts the process allocating them."""

INPUT, MEMORY, QUERY = "input", "memory", "query"
"""What an ``EngineError`` is about: the export's bytes, the memory limit, or the SQL itself."""


class EngineError(Exception):
    """The engine could not read a file or run a query.

    ``file`` and ``line`` say where, when the engine's own message names them. The message is
    already scrubbed: it says what went wrong, never a value the engine quoted. ``kind`` tells
    unusable input (``INPUT``: decoding, corruption, I/O) from running out of memory and from a
    query that is wrong in itself.
    """

    def __init__(
        self, message: str, line: int | None = None, file: str | None = None, kind: str = QUERY
    ) -> None:
        super().__init__(message)
        self.line, self.file, self.kind = line, file, kind


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
    def write_parquet(self, sql: str, params: Mapping[str, object] | None, path: Path) -> int:
        """Write the rows of ``sql`` (in its ``ORDER BY`` order) to a new Parquet file; how many.

        Millions of findings go to a file this way without ever being one table in Python.
        """

    def close(self) -> None:  # noqa: B027 - engines without resources need no close
        """Release the engine's resources."""
