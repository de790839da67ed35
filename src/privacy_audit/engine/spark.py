"""Apache Spark: the same rule catalogue for exports that outgrow one machine.

Decisions, and why:

- **Session.** ``local[2]`` unless a master URL is given (``--spark-master``) or spark-submit
  launched the process (its master and settings then stand); ``--spark-conf key=value`` adds
  settings. Always set, and not overridable, because the answers depend on them: time zone
  UTC, ``spark.sql.timestampType=TIMESTAMP_NTZ`` (the contract's timestamps are UTC without
  zone, like DuckDB's ``TIMESTAMP``), ANSI mode on (Spark 4's default; a CAST that cannot
  succeed fails, as in DuckDB, instead of quietly giving NULL) and nanosecond Parquet
  timestamps read as integers (see Reading). With a local master only: 4 shuffle partitions
  (rule queries are joins and aggregates over few columns), no UI, no progress bars. Spark's
  logging is off and the JVM's start-up chatter goes to a file: standard error belongs to the
  audit, and Spark's executors would log malformed CSV records — personal data — verbatim.
- **Reading** export files is the loader's (``sources/spark_reader.py``, which says how); the
  engine only turns Spark's errors into ``EngineError`` naming the file Spark names.
- **Paths.** Local paths are read as ``file:`` URIs (glob characters escaped); a path that is
  already a URI (``hdfs://``, ``s3a://``, ``abfs://``…) is passed through as is, and the loader
  lists, checks and digests such an export through the same Hadoop file system Spark reads it
  with (``hadoop_storage.py``).
- **SQL.** Rules, the loader and mapping expressions speak DuckDB; ``spark_sql.to_spark`` translates each statement
  and binds ``$name`` parameters as literals (that module lists every rewrite).
- **Hand-written variants** (``Rule.spark_sql``, run instead of ``sql`` on Spark): none; every
  rule translates exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot.errors import SqlglotError

from privacy_audit.engine.base import Engine, EngineError
from privacy_audit.engine.hadoop_storage import HadoopStorage
from privacy_audit.engine.spark_errors import spark_error
from privacy_audit.engine.spark_sql import TranslationError, to_spark
from privacy_audit.engine.storage import LocalStorage, Storage, is_uri

warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

from pyspark.logger import PySparkLogger  # noqa: E402 - after the warning filter
from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

DEFAULT_MASTER = "local[2]"
# What the audit's answers depend on: always set, and no --spark-conf may change them.
AUDIT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    # Hive partition values stay text, as in DuckDB's reading; a mapping casts them if it must.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
# Sized for one small machine: only with a local master, never over a cluster's own settings.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# Log4j 2 settings: one appender (Spark ignores a configuration without any), and nothing logged.
_LOG4J = """\
rootLogger.level = off
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %m%n
"""
_GLOB = re.compile(r"([\\{}\[\]*?])")
_ERROR_CLASS = re.compile(r"\[[A-Z][A-Z0-9_.]+\] ")
_SIMPLE_TYPES = {
    T.StringType: "VARCHAR",
    T.DateType: "DATE",
    T.TimestampNTZType: "TIMESTAMP",
    T.TimestampType: "TIMESTAMP WITH TIME ZONE",
    T.BooleanType: "BOOLEAN",
    T.ByteType: "TINYINT",
    T.ShortType: "SMALLINT",
    T.IntegerType: "INTEGER",
    T.LongType: "BIGINT",
    T.FloatType: "FLOAT",
    T.DoubleType: "DOUBLE",
    T.BinaryType: "BLOB",
    T.NullType: "NULL",
}
# PySpark logs every SQL error it raises (with the failing value) through these loggers.
for _name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
    PySparkLogger.getLogger(_name).disabled = True


class SparkEngine(Engine):
    """One SparkSession; each export file is a temporary view, nothing is copied."""

    name = "spark"

    def __init__(
        self,
        master: str | None = None,
        conf: Mapping[str, str] | None = None,
        *,
        session: SparkSession | None = None,
        threads: int | None = None,
    ) -> None:
        """Join ``session``, or the process's active one, else start one with these settings.

        A joined session keeps its master and settings but for ``AUDIT_CONF``, which it gets;
        only a session this engine started is stopped on close.
        """
        session = session or SparkSession.getActiveSession()
        self._owns = session is None
        if session is None:
            if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
                master = f"local[{threads}]" if threads else DEFAULT_MASTER
            session = _start(master, conf or {})
        for key, value in AUDIT_CONF.items():
            session.conf.set(key, value)
        self.spark = session
        self.version = session.version
        self._views: set[str] = set()
        self._hadoop = HadoopStorage(session)

    def storage(self, root: str) -> Storage:
        return self._hadoop if is_uri(root) else LocalStorage()

    def schema(self, view: str) -> list[tuple[str, str]]:
        try:
            fields = self.spark.table(view).schema.fields
        except Exception as exc:
            raise self.as_engine_error(exc) from None
        return [(f.name, duckdb_type(f.dataType)) for f in fields]

    def create_view(self, view: str, select_sql: str) -> None:
        self._sql(f"CREATE OR REPLACE TEMPORARY VIEW {_ident(view)} AS {self._translate(select_sql, {})}")
        self._views.add(view)

    def register(self, name: str, table: pa.Table) -> None:
        self.register_frame(name, self.spark.createDataFrame(table))

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        try:
            return _naive_timestamps(self._sql(self._translate(sql, params or {})).toArrow())
        except EngineError:
            raise
        except Exception as exc:
            raise self.as_engine_error(exc) from None

    def write_parquet(self, sql: str, params: Mapping[str, object] | None, path: Path) -> int:
        """The result collected to the driver as Arrow, then written by pyarrow.

        Spark writes a folder of part files, not one file; one rule's findings fit the driver.
        """
        table = self.query(sql, params)
        pq.write_table(table, path)
        return table.num_rows

    def close(self) -> None:
        """Drop this engine's views; stop the session only if this engine started it."""
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views.clear()
        if self._owns:
            self.spark.stop()

    def register_frame(self, name: str, frame: DataFrame) -> None:
        """Make a DataFrame queryable as ``name`` (the loader's views over export files)."""
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def _translate(self, sql: str, params: Mapping[str, object]) -> str:
        try:
            return to_spark(sql, params)
        except (TranslationError, SqlglotError) as exc:
            raise EngineError(f"cannot translate to Spark SQL: {exc}") from None

    def _sql(self, text: str) -> DataFrame:
        try:
            return self.spark.sql(text)
        except Exception as exc:
            raise self.as_engine_error(exc) from None

    def as_engine_error(self, exc: Exception) -> EngineError:
        """An EngineError naming what failed and the file, never quoting a value of the export."""
        error = spark_error(exc)
        if error.file:
            error.file = plain_path(error.file)
        return error


def _start(master: str | None, conf: Mapping[str, str]) -> SparkSession:
    """Start the process's SparkSession with the audit's settings and quiet logs.

    Without a master (under spark-submit), spark-submit's own master and settings stand.

    The log4j settings and the JVM's console output live in a temporary folder that is removed
    once the JVM has started (it keeps its open log, where nothing more is written).
    """
    changed = sorted(k for k, v in conf.items() if AUDIT_CONF.get(k, v) != v)
    if changed:
        raise EngineError(
            f"{changed[0]} must stay {AUDIT_CONF[changed[0]]}: the audit's answers depend on it"
        )
    workdir = Path(tempfile.mkdtemp(prefix="privacy-audit-spark-"))
    (workdir / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
    java = f"-Dlog4j2.configurationFile=file:{workdir / 'log4j2.properties'}"
    settings = {
        **(LOCAL_CONF if master and master.startswith("local") else {}),
        **conf,
        **AUDIT_CONF,
        "spark.driver.extraJavaOptions": f"{java} {conf.get('spark.driver.extraJavaOptions', '')}".strip(),
    }
    builder = SparkSession.builder.appName("privacy-audit")
    if master:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with _stderr_to(workdir / "jvm.log"):
            session = builder.getOrCreate()
    except Exception as exc:
        lines = (workdir / "jvm.log").read_text(encoding="utf-8", errors="replace").splitlines()
        reasons = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("WARNING:")]
        reason = reasons[0] if reasons else _first_line(exc)
        raise EngineError(f"could not start Spark ({reason}); it needs Java 17 or later") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    session.sparkContext.setLogLevel("OFF")
    return session


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``path`` while the JVM starts, so that it keeps it for good.

    The JVM prints start-up warnings straight to its standard error, whatever the log settings;
    the command line's standard error is kept for the audit's own messages.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def duckdb_type(data_type: T.DataType) -> str:
    """DuckDB's name for a Spark type: the loader checks Parquet columns against these."""
    if isinstance(data_type, T.DecimalType):
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    if isinstance(data_type, T.ArrayType):
        return f"{duckdb_type(data_type.elementType)}[]"
    return _SIMPLE_TYPES.get(type(data_type), data_type.simpleString().upper())


def file_uri(location: str) -> str:
    """The URI Spark reads a file by: local paths as escaped ``file:`` URIs, URIs as they are."""
    if is_uri(location):
        return location
    return "file:" + _GLOB.sub(r"\\\1", str(Path(location).absolute()))


def plain_path(uri: str) -> str:
    """A file URI without escapes or authority slashes, to compare Spark's spelling with ours."""
    return re.sub(r"^file:/+", "/", _GLOB.sub(lambda m: m.group(1), uri.replace("\\", "")))


def _naive_timestamps(table: pa.Table) -> pa.Table:
    """Zoned timestamps (Spark's TIMESTAMP_LTZ) as naive UTC, as DuckDB returns TIMESTAMP."""
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz else f
        for f in table.schema
    ]
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


def _first_line(exc: Exception) -> str:
    """The most specific message: the first with a Spark error class, else the first line.

    Py4J wraps Java errors as ': java.Class: message' lines, the root cause often further down
    ("Exception thrown in awaitResult" first).
    """
    lines = [ln.strip().removeprefix(": ") for ln in str(exc).splitlines() if ln.strip()]
    for line in lines:
        found = _ERROR_CLASS.search(line)
        if found:
            return line[found.start() :]
    return lines[0] if lines else type(exc).__name__


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
