"""Compute targets: ``local`` runs jobs as processes on this machine."""

from __future__ import annotations

from trainyard.compute.base import ComputeTarget
from trainyard.errors import InvalidInputError

__all__ = ["ComputeTarget", "get_compute", "compute_names"]


def _targets() -> dict[str, ComputeTarget]:
    from trainyard.compute.local import LocalCompute

    return {"local": LocalCompute()}


def compute_names() -> list[str]:
    return sorted(_targets())


def get_compute(name: str) -> ComputeTarget:
    targets = _targets()
    if name not in targets:
        raise InvalidInputError(f"unknown compute target {name!r}; available: {', '.join(sorted(targets))}")
    return targets[name]
