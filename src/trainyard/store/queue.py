"""Records of the agents' queue (the server-only part): the agents seen, and the runs on queues.

An agent is seen each time it asks for work (a claim); the server keeps its last sighting for
``AGENT_MEMORY_SECONDS``, so ``compute list`` names agents that went away a while ago too.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainyard.status import RunStatus

AGENT_MEMORY_SECONDS = 3600.0
# "true" on a child run that runs as a Ray task of its parent's Ray job (``compute/ray_tasks.py``):
# queued for that task alone, so never offered to an agent serving the same compute name.
TASK_TAG = "ray.task"


@dataclass(frozen=True)
class AgentSighting:
    """An agent (``host:pid:start``) as its last claim showed it."""

    id: str
    compute: str
    user: str
    last_seen: float


@dataclass(frozen=True)
class QueueRun:
    """A run an agent has, or will have: queued, preparing or running, on a compute name."""

    id: str
    compute: str
    status: RunStatus
    worker: str | None
    heartbeat_at: float | None
