"""Export files on any storage Spark reads (HDFS, S3A, ABFS, GCS, ``file:``), through Hadoop.

Spark reaches storage through Hadoop's ``FileSystem``; the loader uses the very same one, from
the driver's JVM, with the session's Hadoop configuration (credentials, endpoints, and the
``--spark-conf spark.hadoop.*`` settings). So an export the engine can read is an export the
loader can list, check and digest, with no second client library and no second set of
credentials. Digests are computed inside the JVM (commons-codec, shipped with Spark): the
bytes stream from storage to the driver once and never cross into Python.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from privacy_audit.engine.storage import Entry, Storage


class HadoopStorage(Storage):
    """Hadoop ``FileSystem`` calls over Py4J, in the SparkSession's JVM."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()

    def _resolve(self, location: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(location)
        with _as_os_error():
            return path.getFileSystem(self._conf), path

    def entries(self, root: str) -> list[Entry]:
        fs, path = self._resolve(root)
        with _as_os_error():
            if not fs.exists(path):
                raise FileNotFoundError(root)
            if not fs.getFileStatus(path).isDirectory():
                raise NotADirectoryError(root)
            found = [
                Entry(s.getPath().getName(), s.getPath().toString(), s.isFile(), s.getLen(), s.isDirectory())
                for s in fs.listStatus(path)
            ]
        return sorted(found, key=lambda e: e.name)

    def open(self, location: str) -> BinaryIO:
        fs, path = self._resolve(location)
        with _as_os_error():
            raw = _JavaStream(fs.open(path), fs.getFileStatus(path).getLen())
        return io.BufferedReader(raw, buffer_size=1 << 20)  # type: ignore[return-value]

    def sha256(self, location: str) -> str:
        fs, path = self._resolve(location)
        with _as_os_error():
            stream = fs.open(path)
            try:
                return self._jvm.org.apache.commons.codec.digest.DigestUtils.sha256Hex(stream)
            finally:
                stream.close()


class _JavaStream(io.RawIOBase):
    """A Hadoop ``FSDataInputStream`` as a seekable Python binary stream."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._length = length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with _as_os_error():
            data = self._stream.readNBytes(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._length}[whence]
        self._stream.seek(base + offset)
        return base + offset

    def tell(self) -> int:
        return self._stream.getPos()

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


@contextmanager
def _as_os_error() -> Iterator[None]:
    """A Java failure inside becomes an ``OSError``, as the ``Storage`` interface promises."""
    try:
        yield
    except Py4JJavaError as exc:
        raise OSError(_reason(exc)) from None


def _reason(exc: Py4JJavaError) -> str:
    """The Java exception's own message (the deepest cause), without the Py4J call around it."""
    cause = exc.java_exception
    while cause.getCause() is not None:
        cause = cause.getCause()
    return f"{cause.getClass().getSimpleName()}: {cause.getMessage()}"
