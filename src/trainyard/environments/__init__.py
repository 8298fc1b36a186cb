"""Environments: versioned Python specs, built once with uv and cached by content hash."""

from trainyard.environments.builder import ResolvedEnvironment, default_cache_dir, is_built, resolve
from trainyard.environments.spec import Environment

__all__ = ["Environment", "ResolvedEnvironment", "default_cache_dir", "is_built", "resolve"]
