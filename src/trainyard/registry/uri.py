"""Workspace URIs for model files: ``models:/name/3``, ``models:/name@alias``, ``runs:/<run id>/<path>``.

Each names files in the workspace's artifact store; ``resolve_uri`` brings them into a folder
under the workspace's ``cache/``. A registered version never changes, so its folder is fetched
once and reused while all its files are there; a run's artifacts are fetched again each time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.artifacts import run_key, safe_name
from trainyard.registry.model import Model

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

MODELS = "models:/"
RUNS = "runs:/"
RUN_DEFAULT = "outputs"


def resolve_uri(uri: str, workspace: Workspace | None = None) -> Path | None:
    """The local folder holding what a ``models:/`` or ``runs:/`` URI names; None for any other text.

    ``workspace`` defaults to the one configured for the current folder.
    """
    if not uri.startswith((MODELS, RUNS)):
        return None
    if workspace is None:
        from trainyard.workspace import Workspace

        workspace = Workspace.from_config()
    if uri.startswith(MODELS):
        return _model_folder(workspace, Model(workspace, uri))
    run_id, _, rel = uri.removeprefix(RUNS).partition("/")
    return _run_folder(workspace, safe_name(run_id), safe_name(rel or RUN_DEFAULT))


def _model_folder(ws: Workspace, model: Model) -> Path:
    target = ws.root / "cache" / "models" / model.name / str(model.version)
    if not all((target / rel).is_file() for rel in model.file_names):
        model.download(target, exist_ok=True)
    return target


def _run_folder(ws: Workspace, run_id: str, rel: str) -> Path:
    target = ws.root / "cache" / "runs" / run_id / rel
    for name in ws.artifacts.list(run_key(run_id, rel)):
        ws.artifacts.download(run_key(run_id, f"{rel}/{name}"), target / name)
    return target
