"""API tokens this user stored with ``trainyard login``, one per server URL.

They live in ``<config dir>/trainyard/credentials.json`` (``$XDG_CONFIG_HOME`` or ``~/.config``;
``$TRAINYARD_CONFIG_DIR`` overrides the folder), readable by the user only (0600), written to
a temporary file and renamed so a crash never leaves half a file. ``$TRAINYARD_TOKEN`` wins
over the file: jobs and agents get their token that way.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from trainyard.errors import WorkspaceError

TOKEN_VAR = "TRAINYARD_TOKEN"


def config_dir() -> Path:
    if os.environ.get("TRAINYARD_CONFIG_DIR"):
        return Path(os.environ["TRAINYARD_CONFIG_DIR"])
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "trainyard"


def _file() -> Path:
    return config_dir() / "credentials.json"


def normalize_url(url: str) -> str:
    return url.rstrip("/")


def _load() -> dict[str, str]:
    try:
        data = json.loads(_file().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"cannot read {_file()}: {exc}; log in again with `trainyard login URL`"
        ) from None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def token_for(url: str) -> str | None:
    """The token to send to ``url``: ``$TRAINYARD_TOKEN``, else the one stored by ``trainyard login``."""
    return os.environ.get(TOKEN_VAR) or _load().get(normalize_url(url))


def save_token(url: str, token: str) -> Path:
    """Remember ``token`` for ``url`` (0600); returns the file."""
    data = _load()
    data[normalize_url(url)] = token
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created 0600
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
