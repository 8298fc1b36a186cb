"""The reaper: runs whose worker died are failed (or retried), so nothing stays "running" for ever.

It runs wherever someone is looking (waiting on a run, listing runs): a worker on this host
that no longer exists is dead at once; one elsewhere is dead when its heartbeat is older than
``heartbeat_timeout_seconds``. A job with ``max_retries`` left goes back to the queue with its
attempt counted and a new worker. A queued run without a worker waits for a compute agent (a
server workspace's queue) and is left alone. The status write is compare-and-set, so a worker that
finishes at the same moment wins and a terminal status is never overwritten.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from trainyard.compute import get_compute
from trainyard.compute.external import EXTERNAL
from trainyard.compute.job import JobRecordError, recorded_job
from trainyard.liveness import worker_alive
from trainyard.status import RunStatus

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

ACTIVE = (RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING)


def reap(ws: Workspace, now: float | None = None, *, resubmit: bool = True) -> list[str]:
    """Retry or fail the active runs whose worker is gone; returns their ids.

    ``resubmit=False`` (the server) puts retries back in the queue for an agent to claim.
    """
    now = time.time() if now is None else now
    timeout = ws.config.heartbeat_timeout_seconds
    reaped = []
    for run in ws.store.search_runs(statuses=ACTIVE):
        if run.status == RunStatus.QUEUED and run.worker is None:
            continue
        if run.compute == EXTERNAL:  # its client (an MLflow script) ends it; there is no worker to lose
            continue
        alive = worker_alive(run.worker)
        silent = now - (run.heartbeat_at or run.created_at)
        if alive is True or (alive is None and silent <= timeout):
            continue
        why = "its process is gone" if alive is False else f"no heartbeat for {silent:.0f}s"
        error = f"worker lost ({run.worker or 'unknown'}): {why}; metrics logged before are kept"
        try:
            job = recorded_job(run)
        except JobRecordError as exc:  # no worker can run it again: fail it, saying why
            job, error = None, f"{error}; not retried: {exc}"
        retries = job.max_retries if job else 0
        started = run.status != RunStatus.QUEUED
        if started and run.attempt <= retries and ws.store.requeue(run.id, run.status, error):
            if resubmit:
                get_compute(run.compute or "local", ws).submit(ws, ws.store.get_run(run.id))
            reaped.append(run.id)
        elif ws.store.set_status(run.id, RunStatus.FAILED, error=error, expected=run.status):
            reaped.append(run.id)
    return reaped
