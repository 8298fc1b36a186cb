"""The Workspace: a metadata store, an artifact store and settings, rooted in a folder.

The embedded default is a ``.trainyard`` folder holding ``config.yaml``, a SQLite file and the
artifacts; ``trainyard init --store postgresql://…`` keeps the same folder for settings and
job scratch space but puts the metadata in PostgreSQL. ``TRAINYARD_WORKSPACE=http://host:8080``
opens a team server's workspace: both stores over HTTP, scratch space in a cached folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard import yamlfile
from trainyard.credentials import normalize_url
from trainyard.errors import WorkspaceError
from trainyard.store import Store, open_store

if TYPE_CHECKING:
    from trainyard.api.client import ServerClient
    from trainyard.artifacts import ArtifactStore

DIRNAME = ".trainyard"
CONFIG = "config.yaml"
ENV_VAR = "TRAINYARD_WORKSPACE"


class LocalComputeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)


class WorkspaceConfig(BaseModel):
    """``config.yaml``; relative paths are relative to the ``.trainyard`` folder."""

    model_config = ConfigDict(extra="forbid")
    store: str = "sqlite:///trainyard.db"
    artifacts: str = "artifacts"
    local: LocalComputeSettings = Field(default_factory=LocalComputeSettings)
    heartbeat_seconds: float = Field(default=2.0, gt=0)
    heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    snapshot_max_mb: float = Field(default=300.0, gt=0)


class Workspace:
    """Open with ``Workspace.from_config()`` (nearest ``.trainyard``) or ``Workspace.create(path)``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        # Set by the team server for the workspace it serves: the jobs it starts itself (a
        # published pipeline's trigger, a schedule) wait in its queues for agents, as clients' do.
        self.agents_run_jobs = False
        cfg_file = self.root / CONFIG
        if not cfg_file.is_file():
            raise WorkspaceError(
                f"{self.root} is not a trainyard workspace (no {CONFIG}); run `trainyard init`"
            )
        self._config_text = cfg_file.read_text()
        try:
            raw = yamlfile.safe_load(self._config_text) or {}
            self.config = WorkspaceConfig.model_validate(raw)
        except (yaml.YAMLError, ValidationError) as exc:
            raise WorkspaceError(f"{cfg_file} is not a valid workspace config: {exc}") from None

    def __repr__(self) -> str:
        return f"Workspace({self.uri!r})"

    def config_unchanged(self) -> bool:
        """Whether the config file still says what it said when this was opened: a long-lived
        process (the fork server) hands its opened workspace on only while it does."""
        try:
            return (self.root / CONFIG).read_text() == self._config_text
        except OSError:
            return False

    # opening -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        store: str | None = None,
        artifacts: str | None = None,
        exist_ok: bool = True,
        connect: bool = True,
    ) -> Workspace:
        """Make ``<path>/.trainyard`` (or open it if it exists) and, with ``connect``, the store's tables."""
        root = Path(path).resolve()
        if root.name != DIRNAME:
            root = root / DIRNAME
        cfg_file = root / CONFIG
        if cfg_file.exists():
            if not exist_ok:
                raise WorkspaceError(f"a workspace already exists at {root}")
        else:
            root.mkdir(parents=True, exist_ok=True)
            config = WorkspaceConfig()
            if store:
                config.store = store
            if artifacts:
                config.artifacts = artifacts
            cfg_file.write_text(yaml.safe_dump(config.model_dump(), sort_keys=False))
        ws = cls(root)
        if connect:
            ws.store  # noqa: B018 - creates the tables
        return ws

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """``path``, else ``$TRAINYARD_WORKSPACE``, else the nearest ``.trainyard`` above the cwd."""
        target = path or os.environ.get(ENV_VAR)
        if target:
            target = str(target)
            if is_server_url(target):
                return cls.for_server(target)
            root = Path(target).expanduser()
            if (root / DIRNAME / CONFIG).is_file():
                root = root / DIRNAME
            return cls(root)
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / DIRNAME / CONFIG).is_file():
                return cls(folder / DIRNAME)
        raise WorkspaceError(
            f"no trainyard workspace in {here} or above; run `trainyard init` here, "
            f"or set {ENV_VAR} to a workspace folder"
        )

    @classmethod
    def for_server(cls, url: str) -> Workspace:
        """A server workspace: metadata and artifacts over HTTP, a local folder for job scratch.

        The folder (in the cache, one per server) holds a ``config.yaml`` naming the server as
        both stores, so processes started with the folder's path (workers, jobs) reach it too.
        """
        url = normalize_url(url)
        base = Path(os.environ.get("TRAINYARD_CACHE_DIR") or Path.home() / ".cache" / "trainyard")
        root = base / "servers" / re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[1])
        cfg_file = root / CONFIG
        if cfg_file.is_file():
            ws = cls(root)
            if ws.config.store == url:
                return ws  # the usual case: config.yaml read once
        root.mkdir(parents=True, exist_ok=True)
        config = WorkspaceConfig(store=url, artifacts=url)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".config-")
        with os.fdopen(fd, "w") as fh:
            yaml.safe_dump(config.model_dump(), fh, sort_keys=False)
        os.replace(tmp, cfg_file)
        return cls(root)

    @property
    def is_server(self) -> bool:
        return is_server_url(self.config.store)

    @classmethod
    def get_or_create(cls) -> Workspace:
        """The configured workspace, or a new one in the cwd (what offline runs use)."""
        try:
            return cls.from_config()
        except WorkspaceError:
            if os.environ.get(ENV_VAR):
                raise
            return cls.create(Path.cwd())

    # parts ----------------------------------------------------------------------------------
    def _resolve(self, value: str) -> str:
        if "://" in value:
            if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
                return "sqlite:///" + str(self.root / value[len("sqlite:///") :])
            return value
        return str(self.root / value)

    @cached_property
    def store(self) -> Store:
        return open_store(self._resolve(self.config.store))

    @property
    def artifacts_url(self) -> str:
        """Where the artifact store is (a folder, an fsspec URL, or the server)."""
        return self._resolve(self.config.artifacts)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        if is_server_url(self.config.artifacts):
            from trainyard.artifacts.http import HttpArtifactStore

            return HttpArtifactStore(self.config.artifacts)
        from trainyard.artifacts.fsspec_store import (
            FsspecArtifactStore,
        )  # fsspec: only when files are touched

        return FsspecArtifactStore(self.artifacts_url)

    @property
    def server(self) -> ServerClient:
        """A server workspace's HTTP client (its store's), for what the server does beyond the Store:
        endpoints' processes, the agents' queues."""
        from trainyard.store.rest import RestStore

        if not isinstance(self.store, RestStore):
            raise WorkspaceError(f"{self.uri} is a workspace folder, not a trainyard server")
        return self.store.client

    @property
    def jobs_dir(self) -> Path:
        """Scratch space where local jobs run, one folder per run."""
        return self.root / "jobs"

    @property
    def uri(self) -> str:
        """The server's URL for a server workspace, else the folder."""
        return self.config.store if self.is_server else str(self.root)

    def exists(self) -> bool:
        """Whether the workspace is still on disk (a scratch one may be deleted under a process)."""
        return (self.root / CONFIG).is_file()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


def is_server_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))
