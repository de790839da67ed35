"""Reading a table's files with Spark, so that it sees what DuckDB's reader sees.

- CSV with every column as text (the header's names, or ``column1``… without a header), the
  dialect's delimiter and quote (also the escape, RFC 4180), records may span lines,
  ``FAILFAST`` and ``unescapedQuoteHandling=RAISE_ERROR``: a record with too many or too few
  fields or a stray quote is an error. Spark does not say on which line; the reader finds it
  by reading the file Spark names with Python's csv module, only after such an error. Known
  differences from DuckDB's reader: a quote left open at the very end of a file swallows the
  rest into the last field instead of failing (the field count usually fails anyway); bytes
  that are not UTF-8 would become U+FFFD, so the files are checked first by Spark's text
  source (one more pass over CSV tables); a timestamp at hour 24 is rejected where DuckDB
  reads the next midnight. Multi-line records make each CSV file one task: prefer Parquet
  part files for big exports. ``.gz`` and ``.zst`` are decompressed by Hadoop's codecs.
- Parquet as is, but strings are checked to be UTF-8 as they are read (Spark would pass any
  bytes on); ``TIMESTAMP(NANOS)`` columns, which Spark cannot read, arrive as integers and
  are truncated to microseconds as DuckDB does (the footer, read once per file through the
  storage, says which columns; it also gives the NULL statistics).
- Hive partition keys are columns only when asked for (``basePath`` set to the directory
  above the first ``key=value`` segment); their values stay text
  (``partitionColumnTypeInference`` is off in the engine's settings).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from privacy_audit.engine import scrub
from privacy_audit.engine.base import EngineError
from privacy_audit.engine.spark import SparkEngine, file_uri, plain_path
from privacy_audit.engine.storage import Storage
from privacy_audit.errors import InputError
from privacy_audit.sources.files import SourceFile, TableSource, open_text
from privacy_audit.sources.readers import FileReader


class _Footer(NamedTuple):
    """What the reader needs of a Parquet footer: the Arrow schema and the column statistics."""

    schema: pa.Schema
    metadata: pq.FileMetaData


class SparkReader(FileReader):
    """DataFrame readers over the files, registered as the engine's temporary views."""

    engine: SparkEngine

    def __init__(self, engine: SparkEngine, storage: Storage) -> None:
        super().__init__(engine, storage)
        self._footers: dict[str, _Footer] = {}

    def open_raw(self, view: str, source: TableSource, columns: list[str] | None, partitions: bool) -> None:
        if source.format == "csv":
            self._check_utf8(source)
        self.engine.register_frame(view, self._frame(source, list(source.files), columns, partitions))

    def _check_utf8(self, source: TableSource) -> None:
        """Spark's CSV reader turns bytes that are not UTF-8 into U+FFFD and reads on; its text
        source keeps a line's bytes as they are, so one pass over the lines finds such a file
        (DuckDB's reader fails on it). The line is then found in that file alone, in Python."""
        uris = [file_uri(f.location) for f in source.files]
        try:
            lines = self.engine.spark.read.text(uris)
            bad = lines.where(~F.is_valid_utf8("value")).select(F.input_file_name().alias("file"))
            found = bad.limit(1).collect()
        except Exception as exc:
            raise self.engine.as_engine_error(exc) from None
        if found:
            named = plain_path(found[0]["file"])
            file = next((f for f in source.files if plain_path(file_uri(f.location)) == named), None)
            line = _bad_utf8_line(self.storage, file) if file else None
            raise self.csv_error(source, file, line, scrub.UTF8, plain=True)

    def rows_sql(
        self, source: TableSource, file: SourceFile, columns: list[str] | None, partitions: bool
    ) -> str:
        frame = self._frame(source, [file], columns, partitions)
        if source.format == "csv":
            rows = frame.withColumn(
                "_row", F.row_number().over(Window.orderBy(F.monotonically_increasing_id()))
            )
        else:
            rows = frame.select("*", (F.col("_metadata.row_index") + 1).alias("_row"))
        name = f"rows__{source.table}__{source.files.index(file)}"
        self.engine.register_frame(name, rows)
        return f"SELECT * FROM {name}"

    def null_free(self, source: TableSource) -> set[str]:
        if source.format != "parquet":
            return set()
        null_free: dict[str, bool] = {}
        for file in source.files:
            meta = self._footer(file.location).metadata
            for group in range(meta.num_row_groups):
                for index in range(meta.num_columns):
                    column = meta.row_group(group).column(index)
                    stats = column.statistics
                    proved = stats is not None and stats.has_null_count and stats.null_count == 0
                    null_free[column.path_in_schema] = null_free.get(column.path_in_schema, True) and proved
        return {name for name, proved in null_free.items() if proved}

    def read_error(self, source: TableSource, exc: EngineError) -> InputError:
        file = next(
            (f for f in source.files if exc.file and plain_path(file_uri(f.location)) == exc.file), None
        )
        if file is None or source.format != "csv":
            return super().read_error(source, exc)
        line = _bad_csv_line(self.storage, file, source)
        return self.csv_error(
            source, file, line, "Spark could not parse a CSV record (wrong number of fields or bad quoting)"
        )

    def _frame(
        self, source: TableSource, files: list[SourceFile], columns: list[str] | None, partitions: bool
    ) -> DataFrame:
        uris = [file_uri(f.location) for f in files]
        reader = self.engine.spark.read
        if partitions and source.partitions:
            reader = reader.option("basePath", file_uri(_partition_base(files[0].location)))
        try:
            if source.format == "csv":
                schema = T.StructType([T.StructField(c, T.StringType()) for c in columns or []])
                return reader.csv(
                    uris,
                    schema=schema,
                    header=source.csv.header,
                    sep=source.csv.delimiter,
                    quote=source.csv.quote,
                    escape=source.csv.quote,
                    encoding="UTF-8",
                    multiLine=True,
                    mode="FAILFAST",
                    unescapedQuoteHandling="RAISE_ERROR",
                )
            frame = _validated_text(reader.parquet(*uris))
            return _micros(frame, _nanosecond_columns(self._footer(files[0].location).schema))
        except Exception as exc:
            raise self.engine.as_engine_error(exc) from None

    def _footer(self, location: str) -> _Footer:
        """A Parquet file's footer, read once through its storage: reading and validation both need it."""
        if location not in self._footers:
            with self.storage.open(location) as handle:
                parquet = pq.ParquetFile(handle)
                self._footers[location] = _Footer(parquet.schema_arrow, parquet.metadata)
        return self._footers[location]


def _partition_base(location: str) -> str:
    """The directory above a file's first ``key=value`` path segment."""
    segments = location.split("/")
    first = next(i for i, s in enumerate(segments) if "=" in s)
    return "/".join(segments[:first])


def _nanosecond_columns(schema: pa.Schema) -> dict[str, bool]:
    """Parquet columns Spark reads as integer nanoseconds → whether they are UTC-adjusted."""
    return {
        f.name: f.type.tz is not None for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"
    }


def _validated_text(frame: DataFrame) -> DataFrame:
    """Parquet strings that fail when their bytes are not UTF-8, as DuckDB's reading does.

    Spark reads such bytes without complaint and hands them on; ``validate_utf8`` makes the
    first read of one an ``INVALID_UTF8_STRING`` error (unusable input), wherever it happens.
    """
    text = [f.name for f in frame.schema.fields if isinstance(f.dataType, T.StringType)]
    return frame.withColumns({name: F.validate_utf8(F.col(f"`{name}`")) for name in text}) if text else frame


def _micros(frame: DataFrame, nanos: Mapping[str, bool]) -> DataFrame:
    """Nanosecond integers → timestamps, truncated to microseconds as DuckDB's cast does."""
    for name, adjusted in nanos.items():
        moment = F.timestamp_micros(F.expr(f"`{name}` DIV 1000"))
        frame = frame.withColumn(name, moment if adjusted else moment.cast(T.TimestampNTZType()))
    return frame


def _bad_utf8_line(storage: Storage, file: SourceFile) -> int | None:
    """The file line (from 1) holding the first bytes that are not UTF-8."""
    with open_text(storage, file, errors="surrogateescape") as handle:
        for number, line in enumerate(handle, start=1):
            if any("\udc80" <= c <= "\udcff" for c in line):
                return number
    return None


def _bad_csv_line(storage: Storage, file: SourceFile, source: TableSource) -> int | None:
    """The file line where the first record with the wrong number of fields or bad quoting starts."""
    start = 1
    try:
        with open_text(storage, file, errors="replace") as handle:
            reader = csv.reader(
                handle, strict=True, delimiter=source.csv.delimiter, quotechar=source.csv.quote
            )
            width = len(next(reader, []))
            start = reader.line_num + 1
            for record in reader:
                if len(record) != width:
                    return start
                start = reader.line_num + 1
    except csv.Error:
        return start
    return None
