"""Validation of artifact names: nothing a user names may escape the artifact root; run keys.

Names are decoded fully first (``%252e`` is ``%2e`` is ``.``), then rejected if absolute, if
any part is ``.`` or ``..`` (``runs/<id>/.`` would name the run's own folder), if they hold
backslashes, drive letters, control characters or ``#``, or if a part is longer than a file
name may be once the stores' temporary suffix is added (``limits.MAX_ARTIFACT_NAME_PART_BYTES``).
Empty parts (``a//b``, a trailing ``/``) are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from trainyard.errors import ArtifactPathError
from trainyard.limits import MAX_ARTIFACT_NAME_PART_BYTES

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME = 1024


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
    parts = [p for p in decoded.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ArtifactPathError(f"artifact name {name!r} may not contain '.' or '..' as a part")
    if not parts:
        raise ArtifactPathError(f"artifact name {name!r} names no file")
    longest = max(len(p.encode()) for p in parts)
    if longest > MAX_ARTIFACT_NAME_PART_BYTES:
        raise ArtifactPathError(
            f"a part of the artifact name is {longest} bytes in UTF-8; each part (between '/') may "
            f"be at most {MAX_ARTIFACT_NAME_PART_BYTES} bytes (the file name limit less the "
            "temporary suffix of uploads)"
        )
    return "/".join(parts)


def join(*names: str) -> str:
    """Join already-safe pieces of a key."""
    return "/".join(n.strip("/") for n in names if n and n.strip("/"))


def run_key(run_id: str, name: str = "") -> str:
    """Where a run's file lives in the store; ``name`` is validated."""
    return join("runs", run_id, safe_name(name)) if name else join("runs", run_id)
