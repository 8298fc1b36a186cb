"""Compute targets a user created (``trainyard compute create``), one JSON file each under
``<workspace>/compute/targets/``; ``local`` is built in and never stored.

Only embedded workspaces keep targets: in a server workspace every compute name is an agents'
queue (``compute/agent.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.compute.external import SELF_DRIVEN
from trainyard.compute.names import check_target_name
from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError, WorkspaceError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

BUILT_IN = ("local", *SELF_DRIVEN)


class LocalHead(BaseModel):
    """A Ray head this workspace started (``--local``): what stopping it needs."""

    model_config = ConfigDict(extra="forbid")
    pgid: int  # the head's processes all run in this process group
    temp_dir: str
    num_cpus: int


class TargetSpec(BaseModel):
    """A stored target: its type and how to reach it."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["ray"] = "ray"
    address: str = Field(min_length=1)  # what JobSubmissionClient takes: http://head:8265, ray://…, auto
    local: LocalHead | None = None


def targets_dir(ws: Workspace) -> Path:
    return ws.root / "compute" / "targets"


def _path(ws: Workspace, name: str) -> Path:
    return targets_dir(ws) / f"{check_target_name(name)}.json"


def load_targets(ws: Workspace) -> dict[str, TargetSpec]:
    """Every stored target by name; a file that does not parse is a ``WorkspaceError`` naming it."""
    folder = targets_dir(ws)
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found[path.stem] = TargetSpec.model_validate_json(path.read_text())
        except (OSError, ValidationError) as exc:
            raise WorkspaceError(f"compute target file {path} is unreadable: {exc}") from None
    return found


def get_target(ws: Workspace, name: str) -> TargetSpec:
    spec = load_targets(ws).get(name)
    if spec is None:
        raise NotFoundError(f"no compute target {name!r}; `trainyard compute list` shows them")
    return spec


def check_new_name(ws: Workspace, name: str) -> None:
    """A name a new target may take: well-formed, not built in, not taken."""
    if ws.is_server:
        raise InvalidInputError(
            "a server workspace's compute targets are its agents' queues (`trainyard agent "
            "--compute NAME`); Ray targets are for workspace folders for now"
        )
    if name in BUILT_IN:
        raise InvalidInputError(f"{name!r} is a built-in compute target; choose another name")
    if _path(ws, name).exists():
        raise AlreadyExistsError(f"compute target {name!r} exists; `trainyard compute delete {name}` first")


def save_target(ws: Workspace, name: str, spec: TargetSpec) -> None:
    """Write the target's file whole (a reader never sees half of it)."""
    path = _path(ws, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec.model_dump(mode="json"), indent=2))
    os.replace(tmp, path)


def delete_target(ws: Workspace, name: str) -> None:
    _path(ws, name).unlink(missing_ok=True)
