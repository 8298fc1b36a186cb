"""Run and deployment statuses, each with the one table of its allowed transitions.

Every status change in trainyard is validated here, so that a recovering worker or a late
client can never move a finished run back to running (compare-and-set in the store uses it),
nor a deployment being deleted back to ready.
"""

from __future__ import annotations

from enum import Enum

from trainyard.errors import InvalidInputError, InvalidTransitionError


class RunStatus(str, Enum):
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    def __str__(self) -> str:
        return self.value


TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})

ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset(
        {RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELED}
    ),
    # Back to QUEUED is a retry after a lost worker; the attempt counter goes up.
    RunStatus.PREPARING: frozenset(
        {RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.FAILED, RunStatus.CANCELED}
    ),
    RunStatus.RUNNING: frozenset(
        {RunStatus.COMPLETED, RunStatus.QUEUED, RunStatus.FAILED, RunStatus.CANCELED}
    ),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


def parse_status(value: str | RunStatus) -> RunStatus:
    """Accept a status by name, case-insensitively, with a helpful error otherwise."""
    if isinstance(value, RunStatus):
        return value
    try:
        return RunStatus(value.lower())
    except ValueError:
        names = ", ".join(s.value for s in RunStatus)
        raise InvalidTransitionError(f"unknown run status {value!r}; expected one of: {names}") from None


def check_transition(current: RunStatus, target: RunStatus) -> None:
    """Raise if ``current -> target`` is not in the table."""
    if target not in ALLOWED[current]:
        if current.is_terminal:
            raise InvalidTransitionError(
                f"the run is already {current.value}; a finished run cannot become {target.value}"
            )
        raise InvalidTransitionError(f"a {current.value} run cannot become {target.value}")


class DeploymentStatus(str, Enum):
    """A deployment's life: its supervisor starts it, restarts it when it dies, and it is deleted."""

    CREATING = "creating"
    READY = "ready"
    FAILED = "failed"
    DELETING = "deleting"

    def __str__(self) -> str:
        return self.value


DEPLOYMENT_ALLOWED: dict[DeploymentStatus, frozenset[DeploymentStatus]] = {
    DeploymentStatus.CREATING: frozenset(
        {DeploymentStatus.READY, DeploymentStatus.FAILED, DeploymentStatus.DELETING}
    ),
    # Back to CREATING is the supervisor restarting a scoring server that died.
    DeploymentStatus.READY: frozenset(
        {DeploymentStatus.CREATING, DeploymentStatus.FAILED, DeploymentStatus.DELETING}
    ),
    DeploymentStatus.FAILED: frozenset({DeploymentStatus.DELETING}),
    DeploymentStatus.DELETING: frozenset(),
}


def parse_deployment_status(value: str | DeploymentStatus) -> DeploymentStatus:
    """A deployment status by name, with the names there are otherwise."""
    try:
        return DeploymentStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in DeploymentStatus)
        raise InvalidInputError(f"unknown deployment status {value!r}; expected one of: {names}") from None


def check_deployment_transition(current: DeploymentStatus, target: DeploymentStatus) -> None:
    """Raise unless ``current -> target`` is in the table; staying in a status is always allowed."""
    if target != current and target not in DEPLOYMENT_ALLOWED[current]:
        raise InvalidTransitionError(f"a {current.value} deployment cannot become {target.value}")
