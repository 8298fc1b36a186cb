"""Soft deletion of runs: the one marker, and which runs a search shows.

A deleted run loses nothing (metrics, artifacts, children stay); it is only left out of the
searches people make, until it is restored, as MLflow's ``lifecycle_stage`` and Azure's archive
do. The marker is the tag ``trainyard.deleted`` = ``"true"`` (what the MLflow routes have always
written, so runs deleted through them stay deleted), set and removed only through
``TrackingStore.delete_runs`` / ``restore_runs``; the SQL search filters on it
(``RunView``), so a page holds only the runs it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

DELETED_TAG = "trainyard.deleted"
DELETED = "true"


class RunView(str, Enum):
    """Which runs a search returns. The store's own callers (drivers, the reaper) see ``all``;
    people's searches (REST v1, the CLI, MLflow's ``ACTIVE_ONLY``) default to ``active``."""

    ACTIVE = "active"
    DELETED = "deleted"
    ALL = "all"

    def __str__(self) -> str:
        return self.value


def is_deleted(tags: Mapping[str, str]) -> bool:
    """Whether the run with these tags is deleted."""
    return tags.get(DELETED_TAG) == DELETED
