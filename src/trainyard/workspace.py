"""The Workspace: a metadata store, an artifact store and settings, rooted in a folder.

The embedded default is a ``.trainyard`` folder holding ``config.yaml``, a SQLite file and the
artifacts; ``trainyard init --store postgresql://…`` keeps the same folder for settings and
job scratch space but puts the metadata in PostgreSQL.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.errors import WorkspaceError
from trainyard.store import Store, open_store

if TYPE_CHECKING:
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
        cfg_file = self.root / CONFIG
        if not cfg_file.is_file():
            raise WorkspaceError(
                f"{self.root} is not a trainyard workspace (no {CONFIG}); run `trainyard init`"
            )
        try:
            raw = yaml.safe_load(cfg_file.read_text()) or {}
            self.config = WorkspaceConfig.model_validate(raw)
        except (yaml.YAMLError, ValidationError) as exc:
            raise WorkspaceError(f"{cfg_file} is not a valid workspace config: {exc}") from None

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # opening -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        store: str | None = None,
        artifacts: str | None = None,
        exist_ok: bool = True,
    ) -> Workspace:
        """Make ``<path>/.trainyard`` (or open it if it exists) and create the store's tables."""
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
        ws.store  # noqa: B018 - creates the tables
        return ws

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """``path``, else ``$TRAINYARD_WORKSPACE``, else the nearest ``.trainyard`` above the cwd."""
        target = path or os.environ.get(ENV_VAR)
        if target:
            target = str(target)
            if target.startswith(("http://", "https://")):
                raise WorkspaceError(
                    f"{target} is a server workspace; this trainyard version works with local workspaces only"
                )
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

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from trainyard.artifacts import ArtifactStore  # fsspec: only when files are touched

        return ArtifactStore(self._resolve(self.config.artifacts))

    @property
    def jobs_dir(self) -> Path:
        """Scratch space where local jobs run, one folder per run."""
        return self.root / "jobs"

    @property
    def uri(self) -> str:
        return str(self.root)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
