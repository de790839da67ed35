"""Where an export's files live: a local directory, or any storage the engine itself reads.

The loader needs four things of the files beside the engine's reading of them: list a directory
(the export's, a part-file directory's), know each file's size, read a CSV header (and, after a parse error, the bad line),
and digest every byte for the manifest. ``LocalStorage`` does them with the file system;
engines that read remote storage (Spark: HDFS, S3, …) supply a ``Storage`` that does them there.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


def is_uri(location: str) -> bool:
    """True for ``scheme:/…`` locations (``hdfs://``, ``s3a://``, ``file:/``), not plain paths."""
    return bool(_URI.match(location))


@dataclass(frozen=True)
class Entry:
    """One entry of the export directory."""

    name: str
    location: str
    is_file: bool
    size: int
    is_dir: bool = False


class Storage(ABC):
    """The file operations the loader needs, wherever the export is."""

    @abstractmethod
    def entries(self, root: str) -> list[Entry]:
        """The entries of directory ``root``, sorted by name.

        Raises ``FileNotFoundError`` when ``root`` does not exist and ``NotADirectoryError``
        when it is a file.
        """

    @abstractmethod
    def open(self, location: str) -> BinaryIO:
        """The file's bytes as a seekable binary stream; ``OSError`` when it cannot be read."""

    def sha256(self, location: str) -> str:
        """The SHA-256 of the file's bytes, read once in 1 MiB blocks; ``OSError`` as ``open``."""
        digest = hashlib.sha256()
        with self.open(location) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


class LocalStorage(Storage):
    """The machine's own file system (a local disk or a shared mount)."""

    def entries(self, root: str) -> list[Entry]:
        return [
            Entry(p.name, str(p), p.is_file(), p.stat().st_size if p.is_file() else 0, p.is_dir())
            for p in sorted(Path(root).iterdir())
        ]

    def open(self, location: str) -> BinaryIO:
        return Path(location).open("rb")
