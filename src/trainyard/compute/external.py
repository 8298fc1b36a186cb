"""Runs no trainyard process executes: a notebook's offline runs and runs logged through the MLflow API.

They have nothing to start and no worker to signal, so canceling one only records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainyard.compute.base import ComputeTarget
from trainyard.errors import InvalidInputError
from trainyard.status import RunStatus
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

EXTERNAL = "external"  # the compute of runs logged through the MLflow API
SELF_DRIVEN = ("offline", EXTERNAL)


class SelfDrivenRuns(ComputeTarget):
    def __init__(self, name: str) -> None:
        self.name = name

    def submit(self, ws: Workspace, run: RunInfo) -> None:
        raise InvalidInputError(
            f"compute {self.name!r} is for runs their own process logs; "
            "submit jobs to 'local' or an agent's queue"
        )

    def cancel(self, ws: Workspace, run: RunInfo, reason: str) -> None:
        if not ws.store.request_cancel(run.id, reason).status.is_terminal:
            ws.store.set_status(run.id, RunStatus.CANCELED, error=reason)
