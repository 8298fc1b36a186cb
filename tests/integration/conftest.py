"""Workspaces for job tests: a fresh one per test, with quick heartbeats."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from trainyard.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    workspace = Workspace.create(root)
    cfg = yaml.safe_load((workspace.root / "config.yaml").read_text())
    cfg.update(heartbeat_seconds=0.5, heartbeat_timeout_seconds=5)
    (workspace.root / "config.yaml").write_text(yaml.safe_dump(cfg))
    yield Workspace(workspace.root)
    workspace.close()


@pytest.fixture
def script_dir(tmp_path: Path):
    """Write scripts into a source folder: ``script_dir({"train.py": "..."})``."""

    def make(files: dict[str, str]) -> Path:
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        for name, body in files.items():
            path = src / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(body))
        return src

    return make
