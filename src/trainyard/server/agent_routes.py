"""The job queue that compute agents pull from: claim, release, and the server's reaper timer.

A run submitted through a server workspace stays ``queued`` until an agent serving its compute
name claims it. A claim is the store's compare-and-set ``queued -> preparing``, so of two agents
asking at once exactly one gets the run. The claim hands back a ``job`` token that lets the
agent's worker (and the job's own ``Run.get_context()``) log to the workspace; it is revoked
when the agent releases the run or the reaper finds the run over. Agents long-poll: a claim
waits up to ``wait`` seconds, checking the queue every ``POLL_SECONDS``, so pickup takes well
under a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from trainyard.api import routes
from trainyard.compute import TARGET_NAME, reaper
from trainyard.compute.job import takes_slot
from trainyard.errors import InvalidInputError
from trainyard.server.lifespan import Repeating, during_lifespan
from trainyard.server.routing import serve
from trainyard.status import RunStatus
from trainyard.store.auth import Principal
from trainyard.store.server import ServerStore

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

POLL_SECONDS = 0.1
JOB_TOKEN_SECONDS = 7 * 24 * 3600.0
log = logging.getLogger(__name__)


class ClaimRequest(BaseModel):
    compute: str = Field(
        pattern=TARGET_NAME.pattern, description="The compute target name this agent serves."
    )
    agent: str = Field(min_length=1, max_length=200, description="The agent's id (host:pid:start).")
    wait: float = Field(default=10.0, ge=0, le=30, description="Seconds to wait for a queued run.")
    holding: list[str] | None = Field(
        default=None,
        max_length=10_000,
        description="The runs this agent holds now; a run it claimed and does not hold goes back to "
        "the queue (the answer to its claim was lost). None (an older agent): nothing goes back.",
    )


class ReleaseRequest(BaseModel):
    agent: str = Field(min_length=1, max_length=200, description="The agent's id (host:pid:start).")


class Claim(BaseModel):
    run_id: str
    experiment_id: str
    attempt: int
    job_token: str
    uses_slot: bool = Field(default=True, description="False for a sweep's driver: it mostly waits.")


class Released(BaseModel):
    run_id: str
    status: str


class JobQueue:
    """Claims and releases over the workspace store, plus the reaper on a timer."""

    def __init__(self, ws: Workspace, auth: ServerStore) -> None:
        self.ws = ws
        self.auth = auth
        self.timer = Repeating("trainyard-reaper", reaper.interval(ws.config), self.reap_once)

    def try_claim(self, compute: str, agent: str, user: str) -> Claim | None:
        """Take the oldest queued run for ``compute``; None when there is none left to take."""
        while ids := self.auth.queued_run_ids(compute):
            for run_id in ids:
                if self.ws.store.set_status(
                    run_id, RunStatus.PREPARING, expected=RunStatus.QUEUED, worker=agent
                ):
                    run = self.ws.store.get_run(run_id)
                    token, _ = self.auth.create_token(
                        user, kind="job", run_id=run_id, expires_in=JOB_TOKEN_SECONDS
                    )
                    uses_slot = takes_slot(run)
                    return Claim(
                        run_id=run_id,
                        experiment_id=run.experiment_id,
                        attempt=run.attempt,
                        job_token=token,
                        uses_slot=uses_slot,
                    )
        return None

    def unclaim(self, run_id: str, why: str = "its agent went away before it got the run") -> None:
        """Put back a run whose claimer went away before it got the answer."""
        self.ws.store.requeue(run_id, RunStatus.PREPARING, why)
        self.auth.revoke_run_tokens(run_id)

    def take_back_lost_claims(self, agent: str, holding: set[str]) -> list[str]:
        """Put back the runs claimed for ``agent`` that it does not hold; returns their ids.

        The answer to their claim never reached it: the server was killed after the claim was
        written, or the reply was cut off and the agent's client asked again. The agent lives on,
        so the reaper would never see them as lost. A run whose worker has taken it over (its
        heartbeat names the worker) is not the agent's any more and is left alone.
        """
        lost = [
            run.id
            for run in self.ws.store.search_runs(statuses=[RunStatus.PREPARING])
            if run.worker == agent and run.id not in holding
        ]
        for run_id in lost:
            self.unclaim(run_id, f"the answer to its claim never reached the agent {agent}")
        return lost

    def release(self, run_id: str, agent: str, user: str) -> Released:
        """The agent is done with the run: a run it left unfinished is failed; its tokens end.

        Only an agent of the user whose claim minted the run's job token may release it.
        """
        info = self.ws.store.get_run(run_id)
        if not info.status.is_terminal:
            if not self.auth.holds_run(run_id, user) or _host(info.worker) != _host(agent):
                raise InvalidInputError(f"run {run_id} is not held by a worker on the host of agent {agent}")
            error = f"the agent {agent} ended the run's worker before it reported an outcome"
            self.ws.store.set_status(run_id, RunStatus.FAILED, error=error, expected=info.status)
            info = self.ws.store.get_run(run_id)  # failed here, or ended by its worker just before
        self.auth.revoke_run_tokens(run_id)
        return Released(run_id=run_id, status=info.status.value)

    def reap_once(self) -> None:
        """Fail or re-queue runs whose agent went silent; end the job tokens of finished runs."""
        for run_id in reaper.reap(self.ws, resubmit=False):
            log.info("reaped run %s", run_id)
        for run_id in self.auth.runs_with_job_tokens():
            status = self.ws.store.get_run(run_id).status
            if status.is_terminal or status == RunStatus.QUEUED:
                self.auth.revoke_run_tokens(run_id)

    def start(self) -> None:
        """Run the reaper every quarter heartbeat timeout (once per queue, however often it is asked)."""
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def _host(worker: str | None) -> str:
    """``host`` of a ``host:pid:start`` worker id."""
    return (worker or "").rsplit(":", 2)[0]


router = APIRouter(tags=["agent"])


def _queue(request: Request) -> JobQueue:
    return request.app.state.job_queue


@serve(
    router, routes.CLAIM, response_model=Claim, responses={204: {"description": "Nothing queued in time."}}
)
async def claim(body: ClaimRequest, request: Request) -> Claim | Response:
    """Claim the oldest queued run for a compute target, waiting up to ``wait`` seconds for one."""
    queue = _queue(request)
    queue.start()  # also here, for servers run without lifespan events
    principal: Principal = request.state.principal
    await asyncio.to_thread(queue.auth.record_agent, body.agent, body.compute, principal.user)
    deadline = time.monotonic() + body.wait
    if body.holding is not None:
        await asyncio.to_thread(queue.take_back_lost_claims, body.agent, set(body.holding))
    while not await request.is_disconnected():  # a dead agent's long-poll claims nothing
        got = await asyncio.to_thread(queue.try_claim, body.compute, body.agent, principal.user)
        if got is not None:
            if await request.is_disconnected():  # it died while we claimed: the run goes back
                await asyncio.to_thread(queue.unclaim, got.run_id)
                break
            return got
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    return Response(status_code=204)


@serve(router, routes.RELEASE, response_model=Released)
async def release(run_id: str, body: ReleaseRequest, request: Request) -> Released:
    """The agent's worker for this run has exited."""
    principal: Principal = request.state.principal
    return await asyncio.to_thread(_queue(request).release, run_id, body.agent, principal.user)


def install_agent_routes(app: FastAPI, ws: Workspace, auth: ServerStore) -> JobQueue:
    """Add the agent routes, and run the reaper every quarter heartbeat timeout while the app runs.

    The timer starts with the app's lifespan, or at the first claim when the server runs without
    lifespan events; ``JobQueue.stop`` ends it.
    """
    queue = JobQueue(ws, auth)
    app.state.job_queue = queue
    app.include_router(router)
    during_lifespan(app, queue.start, queue.stop)
    return queue
