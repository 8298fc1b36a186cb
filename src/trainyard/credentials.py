"""What this user keeps out of the metadata store: API tokens and datastore secrets.

API tokens stored with ``trainyard login``, one per server URL, live in
``<config dir>/trainyard/credentials.json`` (``$XDG_CONFIG_HOME`` or ``~/.config``;
``$TRAINYARD_CONFIG_DIR`` overrides the folder); ``$TRAINYARD_TOKEN`` wins over the file: jobs
and agents get their token that way. Datastore secrets stored with ``trainyard datastore
secret VAR`` live in ``secrets.json`` beside it, by variable name; the environment variable wins.
Both files are readable by the user only (0600), written to a temporary file and renamed so a
crash never leaves half a file.
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


def _secrets_file() -> Path:
    return config_dir() / "secrets.json"


def normalize_url(url: str) -> str:
    return url.rstrip("/")


def _load(path: Path, again: str) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}; {again}") from None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save(path: Path, data: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")  # created 0600
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def token_for(url: str) -> str | None:
    """The token to send to ``url``: ``$TRAINYARD_TOKEN``, else the one stored by ``trainyard login``."""
    stored = _load(_file(), "log in again with `trainyard login URL`")
    return os.environ.get(TOKEN_VAR) or stored.get(normalize_url(url))


def save_token(url: str, token: str) -> Path:
    """Remember ``token`` for ``url`` (0600); returns the file."""
    data = _load(_file(), "log in again with `trainyard login URL`")
    data[normalize_url(url)] = token
    return _save(_file(), data)


def secret(variable: str) -> str | None:
    """A datastore credential: the environment variable ``variable``, else the value stored for it."""
    stored = _load(_secrets_file(), f"store it again with `trainyard datastore secret {variable}`")
    return os.environ.get(variable) or stored.get(variable)


def save_secret(variable: str, value: str) -> Path:
    """Remember ``value`` for ``variable`` on this machine (0600); returns the file."""
    data = _load(_secrets_file(), "delete it and store the secrets again")
    data[variable] = value
    return _save(_secrets_file(), data)
