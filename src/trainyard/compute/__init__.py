"""Compute targets: ``local`` runs jobs as processes on this machine; the targets a workspace
folder stores (``compute/targets.py``: Ray clusters) run them there; in a server workspace every
target name is a queue that compute agents (``trainyard agent --compute NAME``) pull from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainyard.compute.base import ComputeTarget
from trainyard.compute.external import SELF_DRIVEN, SelfDrivenRuns
from trainyard.compute.names import TARGET_NAME, check_target_name
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

__all__ = ["TARGET_NAME", "ComputeTarget", "check_target_name", "get_compute"]


def _targets(ws: Workspace | None) -> dict[str, ComputeTarget]:
    """``local`` and, given a workspace folder, the targets it stores."""
    from trainyard.compute.local import LocalCompute

    found: dict[str, ComputeTarget] = {"local": LocalCompute()}
    if ws is not None:
        from trainyard.compute.ray_target import RayCompute
        from trainyard.compute.targets import load_targets

        found.update({name: RayCompute(name, spec) for name, spec in load_targets(ws).items()})
    return found


def get_compute(name: str, ws: Workspace | None = None) -> ComputeTarget:
    """The target called ``name``; through a server workspace (and in the server itself), the
    agents' queue of that name."""
    if name in SELF_DRIVEN:
        return SelfDrivenRuns(name)
    if ws is not None and (ws.is_server or ws.agents_run_jobs):
        from trainyard.compute.agent import AgentQueueTarget

        return AgentQueueTarget(check_target_name(name))
    targets = _targets(ws)
    if name not in targets:
        raise InvalidInputError(f"unknown compute target {name!r}; available: {', '.join(sorted(targets))}")
    return targets[name]
