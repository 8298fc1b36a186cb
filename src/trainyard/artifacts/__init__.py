"""Artifact storage: run outputs, logs and source snapshots, over fsspec."""

from trainyard.artifacts.paths import safe_name
from trainyard.artifacts.store import ArtifactStore, run_key

__all__ = ["ArtifactStore", "run_key", "safe_name"]
