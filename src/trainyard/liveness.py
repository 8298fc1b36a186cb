"""Who is working on a run, and whether that process still lives.

A worker is named ``host:pid:start`` where ``start`` is the process start time from
``/proc``, so a recycled pid is not mistaken for the original process.
"""

from __future__ import annotations

import os
import socket


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]


def worker_id(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def host_of(worker: str | None) -> str:
    """The host of a ``host:pid:start`` worker id ("" for none)."""
    return (worker or "").rsplit(":", 2)[0]


def worker_alive(worker: str | None) -> bool | None:
    """True/False for a worker on this host; None when it runs elsewhere (or is unknown)."""
    if not worker or worker.count(":") < 2:
        return None
    host, pid_s, start = worker.rsplit(":", 2)
    if host != socket.gethostname():
        return None
    pid = int(pid_s)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _is_zombie(pid):
        return False
    return start == "0" or _start_ticks(pid) == start


def free_to_take(worker: str | None, me: str) -> bool:
    """Whether ``me`` may name itself a queued run's worker: the one recorded is ``me`` or no live
    process here. Of two workers started for one run, the second must not rename the run after
    itself while the first lives, or the first's claim ends up under a process that is about to
    exit, which the reaper takes for a lost worker."""
    return worker == me or worker_alive(worker) is not True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
