"""The reaper: runs whose worker died are failed (or retried), so nothing stays "running" for ever.

It runs on a timer (the team server's; in an embedded workspace ``supervise``, the process
``compute/supervisor.py`` starts with the first job) and wherever someone is looking (waiting on
a run, listing runs): a worker on this host that no longer exists is dead at once; one elsewhere
is dead when its heartbeat is older than ``heartbeat_timeout_seconds``. A job with
``max_retries`` left goes back to the queue with its attempt counted and a new worker. A queued
run without a worker waits for a compute agent (a server workspace's queue) and is left alone.
The status write is compare-and-set, so a worker that finishes at the same moment wins and a
terminal status is never overwritten.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from trainyard.compute import get_compute, supervisor
from trainyard.compute.external import EXTERNAL
from trainyard.compute.job import JobRecordError, recorded_job
from trainyard.compute.slots import try_lock
from trainyard.compute.wakeup import notify_ended
from trainyard.errors import NotFoundError
from trainyard.liveness import worker_alive
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.store.queue import TASK_TAG

if TYPE_CHECKING:
    from trainyard.workspace import Workspace, WorkspaceConfig

log = logging.getLogger(__name__)
ACTIVE = (RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING)


UNREACHABLE_PASSES = 20


def interval(config: WorkspaceConfig) -> float:
    """How often a timer reaps: a quarter of the heartbeat timeout, so a lost run goes within it."""
    return max(0.2, config.heartbeat_timeout_seconds / 4)


def watched(ws: Workspace, active: list[RunInfo] | None = None) -> list[RunInfo]:
    """The active runs that have a worker to lose (a queued run without one waits for an agent;
    an external run's client ends it; a run that is a Ray task of its active parent's job is
    ended by that parent's driver or worker, with the reason, ``compute/ray_tasks.py``)."""
    active = list(ws.store.search_runs(statuses=ACTIVE)) if active is None else active
    ids = {run.id for run in active}
    return [
        run
        for run in active
        if not (run.status == RunStatus.QUEUED and run.worker is None)
        and run.compute != EXTERNAL
        and not (run.tags.get(TASK_TAG) == "true" and run.parent_id in ids)
    ]


def end_tasks_of(ws: Workspace, parent: RunInfo) -> list[str]:
    """End the child runs left active that ran, or were to run, as Ray tasks of an ended parent's
    Ray job: Ray ends a job's tasks with its driver, so nothing else will. Canceled with a
    canceled parent, else failed, with the parent's reason; returns their ids."""
    ended = RunStatus.CANCELED if parent.status == RunStatus.CANCELED else RunStatus.FAILED
    reason = parent.error or f"its parent run {parent.id} {parent.status.value} before it ended"
    done = []
    for child in ws.store.search_runs(parent_id=parent.id, statuses=ACTIVE):
        if child.tags.get(TASK_TAG) == "true" and ws.store.set_status(
            child.id, ended, error=reason, expected=child.status
        ):
            notify_ended(ws.root, child.id, parent.id)
            done.append(child.id)
    return done


def reap(ws: Workspace, now: float | None = None, *, resubmit: bool = True) -> list[str]:
    """Retry or fail the active runs whose worker is gone; returns their ids.

    ``resubmit=False`` (the server) puts retries back in the queue for an agent to claim.
    """
    now = time.time() if now is None else now
    timeout = ws.config.heartbeat_timeout_seconds
    reaped = []
    active = list(ws.store.search_runs(statuses=ACTIVE))
    ids = {run.id for run in active}
    orphans = {r.parent_id for r in active if r.tags.get(TASK_TAG) == "true" and r.parent_id not in ids}
    for parent_id in orphans:
        try:
            parent = ws.store.get_run(parent_id) if parent_id else None
        except NotFoundError:  # a parent gone from the store must not stop the pass for every run
            parent = None
        if parent is not None and parent.status.is_terminal:  # its driver died with the Ray job
            reaped += end_tasks_of(ws, parent)
    for run in watched(ws, [run for run in active if run.id not in reaped]):
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
            notify_ended(ws.root, run.id, run.parent_id)
            reaped.append(run.id)
    return reaped


def supervise(ws: Workspace, stop: threading.Event) -> None:
    """Reap on a timer until no run has a worker to lose (or ``stop`` is set); return at once
    when another supervisor holds the workspace's lock (the protocol: ``compute/supervisor.py``).

    A store that cannot list the active runs ``UNREACHABLE_PASSES`` times in a row (a dropped
    database) ends it too: the next job submitted starts a new one. A removed workspace folder
    ends it at once (a test's or a benchmark's scratch workspace, deleted when it is done).
    """
    held = try_lock(supervisor.lock_path(ws))
    unreachable = 0
    while held is not None and ws.exists():
        try:
            for run_id in reap(ws):
                log.info("reaped run %s", run_id)
        except Exception:  # a database hiccup must not end the timer
            log.exception("reaper pass failed")
        busy = _busy(ws)
        unreachable = unreachable + 1 if busy is None else 0
        if busy or (busy is None and unreachable < UNREACHABLE_PASSES):
            if stop.wait(interval(ws.config)):
                break
            continue
        held.release()
        if busy is None or not _busy(ws):
            return
        held = try_lock(supervisor.lock_path(ws))  # None: a new one (or a submitter starting one) has it
    if held is not None:
        held.release()


def _busy(ws: Workspace) -> bool | None:
    """Whether a run still has a worker to lose; None when the store cannot say."""
    try:
        return bool(watched(ws))
    except Exception:
        log.exception("cannot list the active runs")
        return None


def main(argv: list[str] | None = None) -> None:
    """``python -m trainyard.compute.reaper <workspace>``: the supervisor process."""
    from trainyard.workspace import Workspace

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ws = Workspace((argv or sys.argv[1:])[0])
    try:
        supervise(ws, stop)
    finally:
        ws.close()


if __name__ == "__main__":
    main()
