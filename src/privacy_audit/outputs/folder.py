"""The one way every command writes an output folder: guarded, locked, staged, renamed into place.

A user's ``--out`` may be their home folder, a link, the current directory or a folder another
run is writing at this moment. So before any work starts the target is checked (never inside or
around the export, never a link, never the current directory, and replaced only when it is
provably ours: it holds our marker file and nothing but the files the marker lists), a lock
beside it refuses a second concurrent run, and a staging folder beside it is created, which
proves the location is writable. The command writes into the staging folder; on success the
marker is written and the folder renamed into place, so a failed or killed run leaves the
previous output or nothing. Staging folders of killed runs are removed at the next start.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from privacy_audit.engine.storage import is_uri
from privacy_audit.errors import InputError

MARKER = ".privacy-audit-output"
"""Written last into every output folder: the list of entries we wrote, which proves it is ours."""
_WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


@dataclass(frozen=True)
class Stage:
    """Where a command writes: ``output`` becomes the target; ``scratch`` (private) is removed."""

    output: Path
    scratch: Path


def overlaps(out: Path, export: Path) -> bool:
    """Whether two resolved folders are the same or one contains the other."""
    return out == export or export in out.parents or out in export.parents


def check_target(out: Path, export: str | Path | None = None) -> Path:
    """The resolved target, or ``InputError`` naming the folder when we must not write there.

    A symbolic link is refused rather than followed: replacing it would either destroy the link
    or write somewhere the user did not name.
    """
    given = Path(out)
    target = given.resolve() if given.name in ("", "..") else given.parent.resolve() / given.name
    if not target.name or target == Path.cwd() or target in Path.cwd().parents:
        raise InputError(
            str(target), expected="an output folder other than the current folder or its parents"
        )
    if target.is_symlink():
        raise InputError(
            str(target), expected="a real folder, not a symbolic link (give the folder it points to)"
        )
    export_dir = _local_path(export) if export is not None else None
    if export_dir is not None and overlaps(target, export_dir):
        raise InputError(
            str(target),
            expected="an output folder outside the export and not containing it (an export is only read)",
        )
    if not is_ours(target):
        raise InputError(
            str(target),
            expected=f"a new or empty folder, or a previous output (with its {MARKER} and nothing else)",
        )
    return target


def is_ours(folder: Path) -> bool:
    """Absent, empty, or holding our marker and exactly the entries it lists."""
    if not folder.exists():
        return True
    if not folder.is_dir() or folder.is_symlink():
        return False
    found = _entries(folder)
    if not found:
        return True
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return found == {MARKER, *listed}


@contextmanager
def staged_output(out: Path, export: str | Path | None = None) -> Iterator[Stage]:
    """Check and lock ``out``, yield a staging folder beside it, then publish it whole.

    Raises ``InputError`` for a target we must not or cannot write (checked before the body
    runs), for a concurrent run on the same target, and when the disk refuses the output.
    """
    target = check_target(out, export)
    with _locked(target):
        _remove_stale(target)
        root = _make_root(target)
        try:
            stage = Stage(root / "output", root / "scratch")
            stage.output.mkdir(mode=0o777)  # the usual mode under the umask; root stays private
            stage.scratch.mkdir()
            try:
                yield stage
                _write_marker(stage.output)
            except OSError as exc:
                if exc.errno in _WRITE_FAILURES:
                    raise _cannot_write(target, exc) from None
                raise
            if not is_ours(target):  # changed while we ran: still not ours to replace
                raise InputError(str(target), expected="a folder nobody else wrote into during the run")
            if target.exists():
                target.rename(root / "previous")
            stage.output.rename(target)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _entries(folder: Path) -> set[str]:
    """Every file, folder and link below ``folder``, as paths relative to it."""
    found = set()
    for parent, dirs, files in os.walk(folder):
        base = Path(parent).relative_to(folder)
        found.update(str(base / name) for name in dirs + files)
    return found


def _write_marker(output: Path) -> None:
    listed = sorted(_entries(output))
    text = json.dumps({"written_by": "privacy-audit", "entries": listed}, indent=2) + "\n"
    (output / MARKER).write_text(text, encoding="utf-8")


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` beside the target; a second run is refused at once.

    The lock file is removed on release; a run that opened it just before is told by the inode
    check that it locked a removed file and tries again.
    """
    lock = target.parent / f".{target.name}.lock"
    while True:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _cannot_write(target, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(
                str(target),
                expected=f"no other run writing this folder at the same time (it holds {lock.name})",
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with suppress(OSError):
            lock.unlink()
        os.close(fd)


def _remove_stale(target: Path) -> None:
    """Remove staging folders of killed runs (their process is gone; we hold the lock).

    A run killed between its two renames leaves the previous output in ``previous``: it is put
    back first.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.staging-(\d+)-[a-z0-9_]+")
    for entry in target.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if not match or _alive(int(match.group(1))):
            continue
        previous = entry / "previous"
        if previous.is_dir() and not target.exists():
            previous.rename(target)
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def _make_root(target: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise _cannot_write(target, exc) from None


def _cannot_write(target: Path, exc: OSError) -> InputError:
    return InputError(str(target), expected=f"an output folder that can be written ({exc.strerror or exc})")


def _local_path(export: str | Path) -> Path | None:
    """The export's folder on this machine, or None when it is on remote storage."""
    export = str(export)
    if not is_uri(export):
        return Path(export).resolve()
    if export.startswith("file:"):
        return Path(unquote(urlparse(export).path)).resolve()
    return None
