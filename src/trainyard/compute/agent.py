"""Compute agents: processes on any machine that pull a server workspace's queued runs and run them.

``trainyard agent --server URL --compute NAME --concurrency N`` runs up to N jobs at once. One
claim loop, while a slot is free, long-polls the claim route (``trainyard.api.routes.CLAIM``; the
server answers the moment a run is queued) and sends the runs the agent holds, so a run whose
claim answer was lost (a server killed just after the claim, a reply cut off and asked again)
goes back to the queue instead of waiting for ever on an agent that lives on. Each claimed run
starts ``python -m trainyard.compute.agent_worker URL RUN`` with the run's job token: the ordinary
worker (snapshot, environment, command, outputs, compare-and-set status, heartbeats) against
the server workspace, its log appended to the server's as it grows. Worker and job die with the agent
(``PR_SET_PDEATHSIG``), so a dead agent's runs go silent and the server's reaper fails or
re-queues them after ``heartbeat_timeout_seconds``. Claims and releases go through
``ServerClient``, whose retry policy (backoff within the retry window) the claim loop keeps
applying for as long as the server is away, so an agent rides out a server restart.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.api import routes
from trainyard.api.client import MAX_DELAY, ServerClient
from trainyard.api.errors import ServerAccessError
from trainyard.compute.base import ComputeTarget
from trainyard.compute.queues import warn_if_unserved
from trainyard.compute.worker import die_with_parent
from trainyard.credentials import TOKEN_VAR
from trainyard.errors import TrainyardError, WorkspaceError
from trainyard.liveness import worker_id
from trainyard.store import RunInfo
from trainyard.tracking.context import WORKSPACE_VAR

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

CLAIM_WAIT_SECONDS = 10.0
log = logging.getLogger(__name__)


class AgentQueueTarget(ComputeTarget):
    """A compute target of a server workspace: runs wait ``queued`` until an agent claims them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def submit(self, ws: Workspace, run: RunInfo) -> None:
        """Nothing to start here: the run is queued on the server for an agent serving this name.

        A ``NoAgentWarning`` says so when none was seen lately (for a run of its own, not a trial
        that a sweep's driver starts).
        """
        if run.parent_id is None:
            warn_if_unserved(ws, self.name)

    def cancel(self, ws: Workspace, run: RunInfo, reason: str) -> None:
        """A queued run is canceled at once; a running one when its worker's heartbeat sees the request."""
        ws.store.request_cancel(run.id, reason)


class AgentError(TrainyardError):
    """The server refused the agent (a wrong or revoked token, or a token that is not an agent's)."""


class Agent:
    """Claim loops for one compute target name; ``run()`` blocks until ``stop()``."""

    def __init__(
        self,
        server: str,
        compute: str,
        token: str,
        *,
        concurrency: int = 1,
        work_dir: Path | None = None,
        ray_address: str | None = None,
    ) -> None:
        self.client = ServerClient(server, token=token)
        self.server = self.client.url
        self.compute = compute
        self.token = token
        self.concurrency = concurrency
        self.ray_address = ray_address  # a Ray cluster's Jobs API: the jobs run there, not here
        self.work_dir = work_dir or _default_work_dir(compute)
        self.me = worker_id()
        self.stopping = threading.Event()
        self.error: AgentError | None = None
        self._slots = threading.Semaphore(concurrency)
        self._held: set[str] = set()  # the runs claimed whose release has not been sent
        self._held_lock = threading.Lock()
        self._jobs: list[threading.Thread] = []  # the slot jobs, which a stop waits for

    def run(self) -> None:
        claims = threading.Thread(target=self._loop, name="agent-claims", daemon=True)
        claims.start()
        try:
            self._wait(claims)
        except KeyboardInterrupt:
            self.stop()
            log.info("stopping: no new jobs; waiting for the running ones (Ctrl-C again to abandon them)")
            self._wait(claims)
        finally:
            self.client.close()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Claim nothing more; jobs already running finish first."""
        self.stopping.set()

    def _wait(self, claims: threading.Thread) -> None:
        _join([claims])
        _join(self._jobs)  # the claim loop has ended: no job is added any more

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            claim = self._claim()
            if claim is None:
                self._slots.release()
                continue
            uses_slot = claim.get("uses_slot", True)
            if not uses_slot:  # a sweep's driver waits on trials that need this agent's slots: it
                # takes none. It dies with the agent, and the reaper re-queues it (a driver resumes
                # from the store).
                self._slots.release()
            job = threading.Thread(
                target=self._run_job, args=(claim["run_id"], claim["job_token"], uses_slot), daemon=True
            )
            job.start()
            if uses_slot:
                self._jobs = [*(j for j in self._jobs if j.is_alive()), job]

    def _claim(self) -> dict | None:
        """One long-poll: the claimed run (now held), or None (nothing queued, the server away)."""
        with self._held_lock:
            holding = sorted(self._held)
        body = {"compute": self.compute, "agent": self.me, "wait": CLAIM_WAIT_SECONDS, "holding": holding}
        try:
            claim = self.client.call(routes.CLAIM, json=body, stop=self.stopping)
        except ServerAccessError as exc:
            self._fail(AgentError(f"the server refused the agent's token: {exc}"))
            return None
        except WorkspaceError as exc:  # away for a whole retry window, or failing (5xx): wait on
            if not self.stopping.is_set():
                log.warning("%s; still trying", exc)
                self.stopping.wait(MAX_DELAY)
            return None
        except TrainyardError as exc:
            self._fail(AgentError(f"claim failed: {exc}"))
            return None
        if claim is not None:
            with self._held_lock:
                self._held.add(claim["run_id"])
        return claim

    def _fail(self, error: AgentError) -> None:
        self.error = error
        self.stopping.set()

    def _run_job(self, run_id: str, job_token: str, uses_slot: bool) -> None:
        try:
            self._work(run_id, job_token)
        finally:
            with self._held_lock:
                self._held.discard(run_id)
            if uses_slot:
                self._slots.release()

    def _work(self, run_id: str, job_token: str) -> None:
        job_dir = self.work_dir / run_id
        job_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, TOKEN_VAR: job_token, WORKSPACE_VAR: self.server}
        log.info("running %s", run_id)
        argv = [sys.executable, "-m", "trainyard.compute.agent_worker", self.server, run_id, str(job_dir)]
        with open(job_dir / "worker.log", "ab") as out:
            proc = subprocess.Popen(
                argv + ([self.ray_address] if self.ray_address else []),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on the agent's terminal does not cancel its jobs
                preexec_fn=die_with_parent,  # but a dead agent takes them along
            )
            proc.wait()
        try:  # tell the server; it fails the run if the worker never reported
            self.client.call(routes.RELEASE.at(run_id=run_id), json={"agent": self.me})
        except TrainyardError as exc:  # its reaper ends the run instead, once the heartbeats stop
            log.warning("could not release %s: %s", run_id, exc)
        if proc.returncode == 0:  # the log is on the server; keep a worker's crash report only
            shutil.rmtree(job_dir, ignore_errors=True)


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)


def _default_work_dir(compute: str) -> Path:
    base = Path(os.environ.get("TRAINYARD_CACHE_DIR") or Path.home() / ".cache" / "trainyard")
    return base / "agent" / compute
