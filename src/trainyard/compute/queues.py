"""A server workspace's queues as its clients see them: the runs waiting, the agents serving each.

Every compute name of a server workspace is a queue. An agent is seen each time it asks for a
run (its claim long-poll) and, while all its slots are busy, through the heartbeats of the runs
on its host; one seen within the server's ``heartbeat_timeout_seconds`` serves its queue. A run
sent to a queue nobody serves is accepted (an agent may start later) with a ``NoAgentWarning``,
and ``run show`` says what it waits for.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainyard.api import routes
from trainyard.api.schemas import from_json
from trainyard.compute.external import SELF_DRIVEN
from trainyard.errors import TrainyardError, TrainyardWarning
from trainyard.liveness import host_of
from trainyard.status import RunStatus
from trainyard.store.queue import AgentSighting, QueueRun

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


class NoAgentWarning(TrainyardWarning):
    """A run was queued on a compute name that no agent was seen serving lately."""


@dataclass(frozen=True)
class Agent:
    id: str  # host:pid:start
    host: str
    last_seen: float  # its last claim, or a heartbeat of a run on its host, whichever is later
    running: int  # the queue's runs in progress on its host


@dataclass(frozen=True)
class Queue:
    name: str
    queued: int
    running: int
    agents: list[Agent] = field(default_factory=list)


@dataclass(frozen=True)
class Queues:
    queues: list[Queue]
    agent_timeout: float  # an agent not seen for this long serves nothing

    def serving(self, name: str, now: float | None = None) -> list[Agent]:
        """The agents of queue ``name`` seen within ``agent_timeout``."""
        since = (now or time.time()) - self.agent_timeout
        return [a for q in self.queues if q.name == name for a in q.agents if a.last_seen >= since]


def build(
    agents: list[AgentSighting], runs: list[QueueRun], agent_timeout: float, names: tuple[str, ...] = ()
) -> Queues:
    """The queues named by ``names``, by runs on a compute name and by agents, from the server's records."""
    on_queues = [r for r in runs if r.compute not in SELF_DRIVEN]
    busy = [r for r in on_queues if r.status != RunStatus.QUEUED]
    shown = sorted({*names, *(r.compute for r in on_queues), *(a.compute for a in agents)})
    queues = []
    for name in shown:
        mine = [r for r in busy if r.compute == name]
        seen = []
        for sighting in (a for a in agents if a.compute == name):
            host = host_of(sighting.id)
            theirs = [r for r in mine if r.worker == sighting.id or host_of(r.worker) == host]
            beats = [r.heartbeat_at for r in theirs if r.heartbeat_at is not None]
            seen.append(Agent(sighting.id, host, max([sighting.last_seen, *beats]), len(theirs)))
        waiting = sum(1 for r in on_queues if r.compute == name and r.status == RunStatus.QUEUED)
        queues.append(Queue(name, waiting, len(mine), seen))
    return Queues(queues, agent_timeout)


def fetch(ws: Workspace, name: str | None = None) -> Queues:
    """The server's queues (only ``name``'s, which it shows even when empty)."""
    target = routes.GET_QUEUE.at(name=name) if name is not None else routes.LIST_QUEUES.at()
    return from_json(Queues, ws.server.call(target))


def waiting_note(ws: Workspace, compute: str) -> str | None:
    """Why a run queued on ``compute`` may wait for ever: no agent serving it was seen lately.

    None when one was, and when the server cannot say (it is away, or older than this client).
    """
    try:
        queues = fetch(ws, compute)
    except TrainyardError:
        return None
    if queues.serving(compute):
        return None
    return (
        f"waiting for an agent serving compute {compute!r}; none seen in the last "
        f"{queues.agent_timeout:g} s (start one: trainyard agent --server {ws.uri} --compute {compute})"
    )


def warn_if_unserved(ws: Workspace, compute: str) -> None:
    """A ``NoAgentWarning`` when ``waiting_note`` has something to say."""
    note = waiting_note(ws, compute)
    if note is not None:
        warnings.warn(note, NoAgentWarning, stacklevel=3)
