"""Write export tables in the contract's two forms, Parquet and CSV.

Used by the synthetic generator and by the tests' hand-made exports, so that both produce
exactly what the contract says a platform's nightly job dumps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from privacy_audit.contract import BOOLEAN, DATE, DECIMAL, INTEGER, TABLES, TIMESTAMP

ARROW_TYPES: dict[str, pa.DataType] = {
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us"),
    BOOLEAN: pa.bool_(),
    INTEGER: pa.int64(),
    DECIMAL: pa.decimal128(18, 2),
}


def arrow_schema(table: str, extra: Iterable[str] = ()) -> pa.Schema:
    """The Parquet schema of a contract table (undeclared ``extra`` columns are text)."""
    fields = [pa.field(c.name, ARROW_TYPES.get(c.type, pa.string())) for c in TABLES[table].columns]
    return pa.schema(fields + [pa.field(name, pa.string()) for name in extra])


def to_arrow(table: str, rows: list[Mapping[str, object]]) -> pa.Table:
    """Rows (dicts; missing keys are NULL) as an Arrow table with the contract's types."""
    declared = set(TABLES[table].column_names)
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in declared))
    schema = arrow_schema(table, extra)
    return pa.table(
        {f.name: pa.array([row.get(f.name) for row in rows], f.type) for f in schema}, schema=schema
    )


def csv_ready(data: pa.Table) -> pa.Table:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` text, the contract's CSV form."""
    columns = [
        pc.strftime(col, format="%Y-%m-%d %H:%M:%S") if pa.types.is_timestamp(col.type) else col
        for col in data.columns
    ]
    return pa.table(columns, names=data.column_names)


class TableWriter:
    """Stream one table to ``<table>.parquet`` or ``<table>.csv`` in chunks."""

    def __init__(self, directory: Path, table: str, fmt: str, schema: pa.Schema | None = None) -> None:
        self.path = Path(directory) / f"{table}.{fmt}"
        self.schema = schema or arrow_schema(table)
        self.fmt = fmt
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        else:
            text_schema = csv_ready(self.schema.empty_table()).schema
            self._writer = pacsv.CSVWriter(
                self.path, text_schema, write_options=pacsv.WriteOptions(quoting_style="needed")
            )

    def write(self, chunk: pa.Table) -> None:
        chunk = chunk.select(self.schema.names).cast(self.schema)
        self._writer.write_table(csv_ready(chunk) if self.fmt == "csv" else chunk)

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_table(directory: Path, table: str, data: pa.Table, fmt: str) -> Path:
    """Write a whole table at once; returns the file's path."""
    with TableWriter(directory, table, fmt, data.schema) as writer:
        writer.write(data)
    return writer.path
