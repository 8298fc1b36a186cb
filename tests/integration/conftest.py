"""Workspaces for job tests: a fresh one per test, with quick heartbeats; an S3 server (``s3``)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.object_store import ObjectStore
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


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    """moto's S3 server on 127.0.0.1 with a fresh bucket; skipped without moto[server] and s3fs."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    import fsspec

    store = ObjectStore()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",  # botocore's own retries off: the server's answer is the subject
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": store.url, "skip_instance_cache": True})
    store.start()
    fsspec.filesystem("s3").mkdir(store.bucket)
    yield store
    if store.server is not None:
        store.stop()
