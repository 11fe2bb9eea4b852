"""Atomic, durable file writes: the one writer every mnp file format uses.

`atomic_write(path)` yields a binary file that is a temporary beside ``path``
(``.<name>.mnp-XXXXXXXX.tmp``); on success the data and then the directory are fsynced and
the temporary is renamed over ``path``, so a reader sees the old file or the whole new one,
and a completed write survives a power loss. On an exception the temporary is removed and
``path`` is left as it was.

A writer killed outright (SIGKILL, power loss) cannot remove its temporary. Each writer
holds an exclusive lock on its temporary while it writes, so the next write to the same
path removes every temporary of that path whose lock is free (its writer is gone) and
leaves the ones still being written. Only regular files of this naming pattern, owned by
the current user, are ever removed.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.bin")
>>> with atomic_write(path) as f:
...     _ = f.write(b"hello")
>>> open(path, "rb").read(), os.listdir(os.path.dirname(path))
(b'hello', ['notes.bin'])
"""
from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from typing import BinaryIO, Iterator

try:
    import fcntl
except ImportError:          # not POSIX: no locks, so leftovers are left alone
    fcntl = None  # type: ignore[assignment]

#: what tempfile.mkstemp puts between prefix and suffix
_RANDOM = r"[a-z0-9_]{8}"
_TAG = "mnp-"
_SUFFIX = ".tmp"


def _prefix(target: str) -> str:
    return f".{os.path.basename(target)}.{_TAG}"


def temporary_pattern(path: str | os.PathLike) -> re.Pattern[str]:
    """The names `atomic_write` gives the temporaries of ``path`` (and only those)."""
    target = os.path.abspath(os.fspath(path))
    return re.compile(re.escape(_prefix(target)) + _RANDOM + re.escape(_SUFFIX))


def _lock(fd: int, block: bool) -> bool:
    if fcntl is None:
        return block
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Remove the temporaries that killed writes to ``path`` left behind; returns their
    paths. A temporary whose writer still runs (its lock is held) is kept."""
    if fcntl is None:
        return []
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    pattern = temporary_pattern(target)
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        if not pattern.fullmatch(name):
            continue
        candidate = os.path.join(directory, name)
        try:
            if not stat.S_ISREG(os.lstat(candidate).st_mode):
                continue                      # never open a fifo, device or link by this name
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                continue
            if not _lock(fd, block=False):
                continue                      # a live writer holds it
            with contextlib.suppress(OSError):
                now = os.lstat(candidate)     # still the file we locked?
                if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
                    os.unlink(candidate)
                    removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def fsync_directory(directory: str) -> None:
    """Make a rename or unlink in ``directory`` durable (a no-op where directories cannot
    be opened, e.g. on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode(target: str) -> int:
    """The mode the written file gets: the replaced file's, else what ``open`` would give
    (mkstemp makes private 0600 files)."""
    try:
        return os.stat(target).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _locked_temporary(target: str) -> tuple[int, str]:
    """A new temporary beside ``target``, created and locked by this process."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(target), suffix=_SUFFIX,
                                   dir=os.path.dirname(target))
        _lock(fd, block=True)
        try:                                  # a cleaner may have removed it before the lock
            now, mine = os.lstat(tmp), os.fstat(fd)
            if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                return fd, tmp
        except OSError:
            pass
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Write ``path`` atomically and durably through the yielded binary file (see above)."""
    target = os.path.abspath(os.fspath(path))
    remove_stale_temporaries(target)
    fd, tmp = _locked_temporary(target)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            yield f
            f.flush()
            os.fsync(fd)
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        os.close(fd)
    fsync_directory(os.path.dirname(target))


__all__ = ["atomic_write", "remove_stale_temporaries", "temporary_pattern", "fsync_directory"]
