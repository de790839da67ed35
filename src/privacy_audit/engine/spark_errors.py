"""Spark's errors as ``EngineError``: what failed and where, never a value, never a stack trace.

A Spark error reaches Python as a converted ``CapturedException`` or a bare ``Py4JJavaError``
whose text is the Java stack trace with every cause's message — a cast's value, a CSV record
(``MALFORMED_CSV_RECORD``), a string's bytes in hex (``INVALID_UTF8_STRING``), an overflowing
number unquoted (``NUMERIC_VALUE_OUT_OF_RANGE``). So the text is never parsed for meaning: the
Java cause chain is walked for error conditions (``FAILED_READ_FILE.NO_HINT``…), exception
class names and the one message parameter that is a place (``path``), and the error is retold
in the shared sentences of ``scrub.py``. Only an analysis error (the SQL itself: a column that
does not resolve) keeps its first sentence, as DuckDB's binder errors keep their first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from py4j.protocol import Py4JError, Py4JJavaError, Py4JNetworkError
from pyspark.errors import AnalysisException, PySparkException

from privacy_audit.engine import scrub
from privacy_audit.engine.base import INPUT, MEMORY, QUERY, EngineError

MEMORY_ADVICE = "raise --spark-conf spark.driver.memory or spark.executor.memory"
_CONVERSION = re.compile(
    r"^(CAST_|NUMERIC_|ARITHMETIC_|CANNOT_PARSE_|DATETIME_|DIVIDE_BY_ZERO|INVALID_FRACTION|BINARY_ARITHMETIC)"
)
_CSV = ("MALFORMED_CSV_RECORD", "MALFORMED_RECORD_IN_PARSING")
_MEMORY = ("UNABLE_TO_ACQUIRE_MEMORY", "SPARK_OUT_OF_MEMORY")
_IO = re.compile(
    r"^(java\.io\.|java\.nio\.|java\.util\.zip\.|com\.github\.luben\.zstd\.|org\.apache\.hadoop\.)"
)


class _Throwable(NamedTuple):
    """What may be read of one Java exception in a cause chain: nothing it quotes."""

    name: str
    condition: str | None
    path: str | None


def spark_error(exc: BaseException) -> EngineError:
    """``exc``, raised by PySpark or Py4J, as an EngineError holding only scrubbed words.

    ``file`` is the URI Spark names, as Spark spells it.
    """
    chain = list(_java_chain(exc))
    conditions = [t.condition for t in chain if t.condition]
    if isinstance(exc, PySparkException) and exc.getCondition():
        conditions.insert(0, exc.getCondition())
    names = [t.name for t in chain]
    path = next((t.path for t in chain if t.path), None)
    message, kind = _scrubbed(exc, conditions, names, path)
    return EngineError(message, file=path, kind=kind)


def _scrubbed(
    exc: BaseException, conditions: list[str], names: list[str], path: str | None
) -> tuple[str, str]:
    """(message, kind), decided by conditions and class names alone: see the module's docstring."""

    def has(*prefixes: str) -> bool:
        return any(c.startswith(prefixes) for c in conditions)

    if has(*_MEMORY) or any(n.endswith("OutOfMemoryError") for n in names):
        return scrub.out_of_memory(MEMORY_ADVICE), MEMORY
    if isinstance(exc, AnalysisException):
        return scrub.first_line(exc.getMessage(), "AnalysisException").split(". ")[0], QUERY
    if has("INVALID_UTF8_STRING") or isinstance(exc, UnicodeDecodeError):
        return scrub.UTF8, INPUT
    if has(*_CSV):
        return scrub.FIELDS, INPUT
    if has("FAILED_READ_FILE", "CANNOT_READ_FILE_FOOTER") or any(_IO.match(n) for n in names):
        parquet = (path or "").endswith(".parquet") or any("parquet" in n for n in names)
        return (scrub.CORRUPT_PARQUET if parquet else scrub.READABLE), INPUT
    if any(_CONVERSION.match(c) for c in conditions):
        return scrub.CONVERSION, QUERY
    if isinstance(exc, Py4JNetworkError | ConnectionError):
        return scrub.query_failed("the Spark driver stopped"), QUERY
    kind = conditions[0] if conditions else (names[0] if names else type(exc).__name__).rsplit(".", 1)[-1]
    return scrub.query_failed(kind), QUERY


def _java_chain(exc: BaseException) -> Iterator[_Throwable]:
    """The Java exception behind ``exc`` and each of its causes (none for a Python error)."""
    throwable: Any = getattr(exc, "_origin", None) or getattr(exc, "java_exception", None)
    if not isinstance(exc, Py4JJavaError | PySparkException):
        return
    seen = 0
    while throwable is not None and seen < 32:  # a cycle of causes is possible in Java
        seen += 1
        try:
            yield _Throwable(throwable.getClass().getName(), _condition(throwable), _path(throwable))
            throwable = throwable.getCause()
        except Py4JError:  # the JVM is gone: what was read so far is all there is
            return


def _condition(throwable: Any) -> str | None:
    """A SparkThrowable's error condition (an upper-case identifier), else None."""
    try:
        return throwable.getCondition()
    except Py4JError:
        return None


def _path(throwable: Any) -> str | None:
    """The file a SparkThrowable names (``FAILED_READ_FILE``'s ``path``), else None."""
    try:
        return throwable.getMessageParameters().get("path") or None
    except Py4JError:
        return None
