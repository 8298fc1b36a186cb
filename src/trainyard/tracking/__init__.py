"""Tracking: the run context scripts log metrics, tables, images and files to."""

from trainyard.tracking.run import TrackedRun

__all__ = ["TrackedRun"]
