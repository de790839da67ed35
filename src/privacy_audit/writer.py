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
    """Stream one table to ``<table>.parquet`` or ``<table>.csv`` in chunks.

    A text column that the first chunk holds dictionary-encoded (a few distinct values, as the
    generator builds them) is written to Parquet from its codes, in every chunk: the file's
    dictionary pages come from the codes instead of hashing each value. Such a file stores no
    Arrow schema, so every reader sees plain text columns, as the contract declares. Parquet
    is zstd level 1: at a billion rows the writer's time matters more than the last few percent
    of size.
    """

    def __init__(self, directory: Path, table: str, fmt: str, schema: pa.Schema | None = None) -> None:
        self.path = Path(directory) / f"{table}.{fmt}"
        self.schema = schema or arrow_schema(table)
        self.fmt = fmt
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        if fmt != "parquet":
            text_schema = csv_ready(self.schema.empty_table()).schema
            self._writer = pacsv.CSVWriter(
                self.path, text_schema, write_options=pacsv.WriteOptions(quoting_style="needed")
            )

    def write(self, chunk: pa.Table) -> None:
        chunk = chunk.select(self.schema.names)
        if isinstance(self._writer, pacsv.CSVWriter):
            self._writer.write_table(csv_ready(chunk.cast(self.schema)))
            return
        writer = self._writer or self._parquet(_coded_as_in(self.schema, chunk.schema))
        writer.write_table(chunk.cast(writer.schema))

    def _parquet(self, schema: pa.Schema) -> pq.ParquetWriter:
        self._writer = pq.ParquetWriter(
            self.path,
            schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=[f.name for f in schema if _is_text(f.type)],
            store_schema=schema == self.schema,
        )
        return self._writer

    def close(self) -> None:
        (self._writer or self._parquet(self.schema)).close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_text(kind: pa.DataType) -> bool:
    """Text, plain or dictionary-encoded: the only columns whose Parquet pages get a dictionary
    (numbers and instants are mostly distinct; trying a dictionary first costs more than it saves)."""
    return pa.types.is_string(kind) or pa.types.is_dictionary(kind)


def _coded_as_in(schema: pa.Schema, chunk: pa.Schema) -> pa.Schema:
    """``schema`` with the text columns that ``chunk`` holds dictionary-encoded made so."""
    return pa.schema(
        pa.field(f.name, chunk.field(f.name).type)
        if pa.types.is_string(f.type) and pa.types.is_dictionary(chunk.field(f.name).type)
        else f
        for f in schema
    )


def write_table(directory: Path, table: str, data: pa.Table, fmt: str) -> Path:
    """Write a whole table at once; returns the file's path."""
    with TableWriter(directory, table, fmt, data.schema) as writer:
        writer.write(data)
    return writer.path
