"""Local compute: each run gets a detached worker process (``trainyard.compute.worker``).

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

from trainyard.compute import supervisor
from trainyard.compute.base import ComputeTarget
from trainyard.liveness import worker_alive, worker_id
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


class LocalCompute(ComputeTarget):
    name = "local"
    worker_module: ClassVar[str] = "trainyard.compute.worker"  # a Ray target's worker: ray_worker

    def submit(self, ws: Workspace, run: RunInfo) -> None:
        job_dir = ws.jobs_dir / run.id
        job_dir.mkdir(parents=True, exist_ok=True)
        with open(job_dir / "worker.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", self.worker_module, str(ws.root), run.id],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the submitter's terminal closing
                close_fds=True,
            )
        ws.store.heartbeat(run.id, worker_id(proc.pid))
        supervisor.ensure_running(ws)  # after the run has its worker: see compute/supervisor.py

    def cancel(self, ws: Workspace, run: RunInfo, reason: str) -> None:
        info = ws.store.request_cancel(run.id, reason)
        if info.status.is_terminal:
            return
        if worker_alive(info.worker):
            pid = int(info.worker.rsplit(":", 2)[1])  # type: ignore[union-attr]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
