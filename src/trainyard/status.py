"""Run statuses and the one table of allowed transitions.

Every status change in trainyard is validated here, so that a recovering worker or a late
client can never move a finished run back to running (compare-and-set in the store uses it).
"""

from __future__ import annotations

from enum import Enum

from trainyard.errors import InvalidTransitionError


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
