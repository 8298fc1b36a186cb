"""Concurrency slots for local compute: ``n`` lock files, one held per running job.

``flock`` locks vanish with the process that holds them, so a killed worker never leaks a slot.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class Slot:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def try_lock(path: Path) -> Slot | None:
    """Hold the lock file ``path`` (made if missing), or return None when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return Slot(path, fd)


def try_acquire(folder: Path, count: int) -> Slot | None:
    """Take any free slot of ``count``, or return None when all are busy."""
    for index in range(count):
        slot = try_lock(folder / f"slot-{index}.lock")
        if slot is not None:
            return slot
    return None
