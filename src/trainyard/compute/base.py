"""The ComputeTarget seam: where a run executes.

A target takes a queued run (already recorded in the store with its job and snapshot) and
makes it run somewhere; from then on the run never depends on the submitting process.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

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
