"""Tracking: the run context scripts log metrics, tables, images and files to."""

from trainyard.tracking.context import current_run
from trainyard.tracking.run import TrackedRun

__all__ = ["TrackedRun", "current_run"]
