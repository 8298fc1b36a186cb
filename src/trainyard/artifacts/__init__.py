"""Artifact storage: run outputs, logs and source snapshots, behind the ``ArtifactStore`` interface.

``FsspecArtifactStore`` (``trainyard.artifacts.fsspec_store``) keeps them in a folder or at an
fsspec URL; ``HttpArtifactStore`` (``trainyard.artifacts.http``) on a server. Neither is imported
here, so code that only names keys does not load fsspec or httpx.
"""

from trainyard.artifacts.base import ArtifactStore
from trainyard.artifacts.paths import run_key, safe_name

__all__ = ["ArtifactStore", "run_key", "safe_name"]
