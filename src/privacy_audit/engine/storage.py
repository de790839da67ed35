"""Where an export's files live: a local directory, or any storage the engine itself reads.

The loader needs four things of the files beside the engine's reading of them: list a directory
(the export's, a part-file directory's), know each file's size, read a CSV header (and, after a parse error, the bad line),
and digest every byte for the manifest. ``LocalStorage`` does them with the file system;
engines that read remote storage (Spark: HDFS, S3, …) supply a ``Storage`` that does them there.
"""

from __future__ import annotations

import hashlib
import re
import stat
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
    kind: str = "a directory"
    """What a non-file is, in words for a message: a directory, a device, a pipe, a broken link."""


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
        return [_entry(p) for p in sorted(Path(root).iterdir())]

    def open(self, location: str) -> BinaryIO:
        return Path(location).open("rb")


def _entry(path: Path) -> Entry:
    """One directory entry; links are followed, and only a regular file counts as a file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return Entry(path.name, str(path), False, 0, kind="a broken link")
    if stat.S_ISREG(mode):
        return Entry(path.name, str(path), True, path.stat().st_size)
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a pipe", stat.S_ISSOCK: "a socket"}
    kind = next((k for test, k in kinds.items() if test(mode)), "a device")
    return Entry(path.name, str(path), False, 0, stat.S_ISDIR(mode), kind)
