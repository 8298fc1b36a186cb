"""The ComputeTarget seam: where a run executes.

A target takes a queued run (already recorded in the store with its job and snapshot) and
makes it run somewhere; from then on the run never depends on the submitting process.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from trainyard.status import RunStatus
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

CANCELED_BY_USER = "canceled by the user"


class ComputeTarget(abc.ABC):
    name: str

    @abc.abstractmethod
    def submit(self, ws: Workspace, run: RunInfo) -> None:
        """Start executing a queued run; return as soon as it is handed over."""

    @abc.abstractmethod
    def cancel(self, ws: Workspace, run: RunInfo, reason: str) -> None:
        """Ask the run to stop; it ends ``canceled`` (a queued run at once) with ``reason`` (who
        asked and why) as its ``cancel_reason`` and its error."""


def request_cancel(ws: Workspace, run: RunInfo, reason: str) -> RunInfo:
    """Record the cancel request with its reason; a run that it canceled at once (a queued one)
    reports the reason as its error, as a worker does for the run it stops."""
    info = ws.store.request_cancel(run.id, reason)
    if info.status is RunStatus.CANCELED and info.error is None:
        ws.store.set_run_error(run.id, reason)
    return info
