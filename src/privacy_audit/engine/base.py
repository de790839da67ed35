"""What the audit needs from an engine, and nothing more.

An engine creates views from SQL, holds small lookup tables built from the policy, and answers
queries as Arrow tables. How export files become views is the loader's business
(``sources/readers.py``), not the engine's. Rules are written in DuckDB's
SQL dialect with ``$name`` parameters; an engine that speaks another dialect translates them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

import pyarrow as pa

from privacy_audit.engine.storage import LocalStorage, Storage, is_uri


class EngineError(Exception):
    """The engine could not read a file or run a query.

    ``file`` and ``line`` say where, when the engine's own message names them.
    """

    def __init__(self, message: str, line: int | None = None, file: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.file = file


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

    def close(self) -> None:  # noqa: B027 - engines without resources need no close
        """Release the engine's resources."""
