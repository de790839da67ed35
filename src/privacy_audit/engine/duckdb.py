"""DuckDB, the default engine: in-process, columnar; views read Parquet and CSV in place."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from privacy_audit.engine.base import Engine, EngineError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_FILE = re.compile(r"^\s*file = (.+?)\s*$", re.MULTILINE)


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
            try:
                self.con.execute(f"SET memory_limit = {_quote(memory_limit)}")
            except duckdb.Error:
                raise ValueError(f"memory limit {memory_limit!r} is not a size such as 4GB") from None

    def schema(self, view: str) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE {_ident(view)}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def create_view(self, view: str, select_sql: str) -> None:
        self._run(f"CREATE OR REPLACE VIEW {_ident(view)} AS {select_sql}")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        used = set(_PARAM.findall(sql))
        bound = {k: v for k, v in (params or {}).items() if k in used}
        try:
            return self.con.sql(sql, params=bound or None).to_arrow_table()
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


def _engine_error(exc: duckdb.Error) -> EngineError:
    text = str(exc)
    line = _CSV_LINE.search(text)
    file = _CSV_FILE.search(text)
    return EngineError(
        _first_sentence(text), int(line.group(1)) if line else None, file.group(1) if file else None
    )


def _first_sentence(text: str) -> str:
    """The error's kind and reason without any echoed file content.

    DuckDB's CSV errors quote the offending line ("Original Line: ..."), which may be personal
    data; only the first line and the reason that follows the quoted line are kept.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    head = lines[0] if lines else text
    if len(lines) > 2 and lines[1].startswith("Original Line"):
        return f"{head}: {lines[2]}"
    return head
