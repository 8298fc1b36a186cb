"""The reaper: runs whose worker died are failed, so nothing stays "running" for ever.

It runs wherever someone is looking (waiting on a run, listing runs): a worker on this host
that no longer exists is dead at once; one elsewhere is dead when its heartbeat is older than
``heartbeat_timeout_seconds``. The status write is compare-and-set, so a worker that finishes
at the same moment wins and a terminal status is never overwritten.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from trainyard.liveness import worker_alive
from trainyard.status import RunStatus

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

ACTIVE = (RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING)


def reap(ws: Workspace, now: float | None = None) -> list[str]:
    """Fail the active runs whose worker is gone; returns their ids."""
    now = time.time() if now is None else now
    timeout = ws.config.heartbeat_timeout_seconds
    reaped = []
    for run in ws.store.search_runs(statuses=ACTIVE):
        alive = worker_alive(run.worker)
        silent = now - (run.heartbeat_at or run.created_at)
        if alive is True or (alive is None and silent <= timeout):
            continue
        why = "its process is gone" if alive is False else f"no heartbeat for {silent:.0f}s"
        error = f"worker lost ({run.worker or 'unknown'}): {why}; metrics logged before are kept"
        if ws.store.set_status(run.id, RunStatus.FAILED, error=error, expected=run.status):
            reaped.append(run.id)
    return reaped
