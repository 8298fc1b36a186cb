"""Validation of artifact names: nothing a user names may escape the artifact root; run keys.

Names are decoded fully first (``%252e`` is ``%2e`` is ``.``), then rejected if absolute, if
any part is ``..``, or if they hold backslashes, drive letters, control characters or ``#``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from trainyard.errors import ArtifactPathError

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME = 1024
MAX_PART = 255


def _fully_decoded(name: str) -> str:
    for _ in range(10):
        decoded = unquote(name)
        if decoded == name:
            return name
        name = decoded
    raise ArtifactPathError(f"artifact name {name!r} is encoded too many times")


def safe_name(name: str) -> str:
    """Return the normalised relative name, or raise ``ArtifactPathError`` saying why."""
    if not isinstance(name, str) or not name.strip():
        raise ArtifactPathError("artifact names must be non-empty relative paths such as 'outputs/model.pkl'")
    decoded = _fully_decoded(name)
    if len(decoded) > MAX_NAME:
        raise ArtifactPathError(f"artifact name is {len(decoded)} characters; the limit is {MAX_NAME}")
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        raise ArtifactPathError(f"artifact name {name!r} contains control characters")
    if "\\" in decoded or "#" in decoded or _DRIVE.match(decoded):
        raise ArtifactPathError(f"artifact name {name!r} may not contain '\\', '#' or a drive letter")
    if decoded.startswith("/") or decoded.startswith("~"):
        raise ArtifactPathError(f"artifact name {name!r} must be relative, not absolute")
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArtifactPathError(f"artifact name {name!r} may not contain '..'")
    if not parts:
        raise ArtifactPathError(f"artifact name {name!r} names no file")
    if any(len(p.encode()) > MAX_PART for p in parts):
        raise ArtifactPathError(
            f"each part of an artifact name may be at most {MAX_PART} bytes (a file system limit)"
        )
    return "/".join(parts)


def join(*names: str) -> str:
    """Join already-safe pieces of a key."""
    return "/".join(n.strip("/") for n in names if n and n.strip("/"))


def run_key(run_id: str, name: str = "") -> str:
    """Where a run's file lives in the store; ``name`` is validated."""
    return join("runs", run_id, safe_name(name)) if name else join("runs", run_id)
