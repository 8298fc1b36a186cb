"""Local compute: each run gets a detached worker process (``trainyard.compute.worker``), forked
by the workspace's fork server (``compute/forkserver.py``) or, without one, a new interpreter.

The worker outlives whoever submitted; it waits for one of ``local.concurrency`` slots
(file locks under the workspace, released by the kernel if the worker dies), prepares the
environment, runs the command in its own process group and records the outcome. The first job
also starts the workspace's supervisor, which fails or re-queues the runs of killed workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, ClassVar

from trainyard.compute import forkserver, supervisor
from trainyard.compute.base import ComputeTarget
from trainyard.liveness import free_to_take, worker_alive, worker_id
from trainyard.status import RunStatus
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


class LocalCompute(ComputeTarget):
    name = "local"
    worker_module: ClassVar[str] = "trainyard.compute.worker"  # a Ray target's worker: ray_worker
    # Started by the fork server (compute/forkserver.py), which runs worker.main.
    forked: ClassVar[bool] = True

    def submit(self, ws: Workspace, run: RunInfo) -> None:
        job_dir = ws.jobs_dir / run.id
        job_dir.mkdir(parents=True, exist_ok=True)
        log = job_dir / "worker.log"
        pid = forkserver.spawn(ws.root, run.id, log) if self.forked else None
        if pid is None:  # no fork server to ask: a new interpreter (what the server saves)
            with open(log, "ab") as out:
                pid = subprocess.Popen(
                    [sys.executable, "-m", self.worker_module, str(ws.root), run.id],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # survives the submitter's terminal closing
                    close_fds=True,
                ).pid
        _record_worker(ws, run.id, pid)
        supervisor.ensure_running(ws)  # after the run has its worker: see compute/supervisor.py

    def cancel(self, ws: Workspace, run: RunInfo, reason: str) -> None:
        info = ws.store.request_cancel(run.id, reason)
        if info.status.is_terminal:
            return
        if worker_alive(info.worker):
            pid = int(info.worker.rsplit(":", 2)[1])  # type: ignore[union-attr]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _record_worker(ws: Workspace, run_id: str, pid: int) -> None:
    """Name the new worker as the run's, unless the run has gone on or has a live worker already
    (a fork server's answer lost, a resubmit): the newcomer then leaves the run to that one."""
    info = ws.store.get_run(run_id)
    me = worker_id(pid)
    if info.status == RunStatus.QUEUED and free_to_take(info.worker, me):
        ws.store.heartbeat(run_id, me)
