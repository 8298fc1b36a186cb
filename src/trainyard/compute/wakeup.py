"""Wake-ups: a run's end told at once to the processes waiting on it, instead of each of them
finding out on its next poll.

A waiter (a pipeline or sweep driver waiting on its children, ``Run.wait_for_completion`` on a
run) binds a Unix datagram socket named after the workspace and the run, in Linux's abstract
namespace (no file to leave behind, no path-length limit). Whoever ends a run (its worker, the
reaper) sends one empty datagram to the run's name and to its parent's. A datagram says only
"look again": the store stays the one record of what happened, and a waiter still reads it on
an interval of its own, so a datagram that is lost (no waiter yet, a worker on another machine,
a second waiter on the same run, not Linux) only delays it to that interval.
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import socket
import sys
import time
from pathlib import Path

# How long a waiter that can be woken sleeps at most between two reads of the store: what a
# change nobody signals (a run on another machine, a cancel) waits for at most.
WOKEN_POLL_SECONDS = 0.5


def _name(root: Path, kind: str, run_id: str) -> bytes:
    """The abstract socket name of ``kind`` ("end" of a run, "child" of a parent) in workspace ``root``."""
    space = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return f"\0trainyard/{space}/{kind}/{run_id}".encode()


class Waiter:
    """Sleep until a wake-up for the run ``run_id`` (``kind`` "end": it ended; "child": one of
    its children did) or the timeout; ``bound`` is False when none can come (then it just sleeps)."""

    def __init__(self, root: Path, kind: str, run_id: str) -> None:
        self.sock: socket.socket | None = None
        if sys.platform != "linux":
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(_name(root, kind, run_id))
        except OSError:  # another process waits on the same run: it gets the wake-ups, we poll
            sock.close()
            return
        sock.setblocking(False)
        self.sock = sock

    @property
    def bound(self) -> bool:
        return self.sock is not None

    def poll_seconds(self, unwoken: float) -> float:
        """The interval to read the store on: ``unwoken`` when no wake-up can come."""
        return max(unwoken, WOKEN_POLL_SECONDS) if self.bound else unwoken

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True when woken (every pending wake-up is consumed)."""
        if self.sock is None:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        woken = False
        while ready:
            try:
                self.sock.recv(64)
            except (BlockingIOError, InterruptedError):
                break
            woken = True
        return woken

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> Waiter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def notify_ended(root: Path, run_id: str, parent_id: str | None) -> None:
    """Wake whoever waits on ``run_id`` or on its parent's children; nothing when nobody does."""
    wake(root, [("end", run_id)] + ([("child", parent_id)] if parent_id is not None else []))


def wake(root: Path, waiters: list[tuple[str, str]]) -> None:
    """Send a wake-up to each ``(kind, run id)`` waiter of workspace ``root``."""
    if sys.platform != "linux":
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for kind, run_id in waiters:
            with contextlib.suppress(OSError):  # no waiter there, or its buffer is full: it polls
                sock.sendto(b"", _name(root, kind, run_id))
