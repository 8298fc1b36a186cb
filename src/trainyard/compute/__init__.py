"""Compute targets: ``local`` runs jobs as processes on this machine; in a server workspace every
target name is a queue that compute agents (``trainyard agent --compute NAME``) pull from."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from trainyard.compute.base import ComputeTarget
from trainyard.compute.external import SELF_DRIVEN, SelfDrivenRuns
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

__all__ = ["ComputeTarget", "check_target_name", "compute_names", "get_compute"]

TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _targets() -> dict[str, ComputeTarget]:
    from trainyard.compute.local import LocalCompute

    return {"local": LocalCompute()}


def check_target_name(name: str) -> str:
    """``name`` if it can name a queue of a server workspace, else ``InvalidInputError``."""
    if not TARGET_NAME.match(name):
        raise InvalidInputError(
            f"compute target {name!r}: up to 64 letters, digits and . _ - (first a letter or digit)"
        )
    return name


def compute_names() -> list[str]:
    return sorted(_targets())


def get_compute(name: str, ws: Workspace | None = None) -> ComputeTarget:
    """The target called ``name``; through a server workspace (and in the server itself), the
    agents' queue of that name."""
    if name in SELF_DRIVEN:
        return SelfDrivenRuns(name)
    if ws is not None and (ws.is_server or ws.agents_run_jobs):
        from trainyard.compute.agent import AgentQueueTarget

        return AgentQueueTarget(check_target_name(name))
    targets = _targets()
    if name not in targets:
        raise InvalidInputError(f"unknown compute target {name!r}; available: {', '.join(sorted(targets))}")
    return targets[name]
