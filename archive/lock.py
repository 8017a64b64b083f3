"""One writer at a time: an advisory lock file beside the archive.

The lock is an flock(2) on ``<archive>.lock``: the kernel releases it when the process ends, however
it ends (SIGKILL and power loss included), so a crashed crawl never leaves a stale lock behind.
Within one process the lock is shared: every crawler writing the same archive holds it together.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


class ArchiveLockedError(RuntimeError):
    """Another process is writing the archive."""


_held: dict[Path, tuple[IO[str], int]] = {}


def lock_path(db: str | Path) -> Path:
    return Path(f"{Path(db).resolve()}.lock")


def acquire(db: str | Path) -> None:
    """Take the archive's write lock, or raise ArchiveLockedError naming the process that has it."""
    path = lock_path(db)
    if path in _held:
        handle, count = _held[path]
        _held[path] = (handle, count + 1)
        return
    handle = open(path, "a+")  # noqa: SIM115 - held open for as long as the lock is
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "unknown"
        handle.close()
        message = f"{db}: another crawl is writing this archive (pid {pid}); try again later"
        raise ArchiveLockedError(message) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _held[path] = (handle, 1)


def release(db: str | Path) -> None:
    path = lock_path(db)
    if path not in _held:
        return
    handle, count = _held.pop(path)
    if count > 1:
        _held[path] = (handle, count - 1)
        return
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def holder(db: str | Path) -> int | None:
    """The pid writing the archive now, or None when nobody is."""
    path = lock_path(db)
    if not path.exists() or path in _held:
        return os.getpid() if path in _held else None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
