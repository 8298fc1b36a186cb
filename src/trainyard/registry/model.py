"""``Model``: a registered model version, in Azure ML's shape (``Model.register``, ``run.register_model``).

Registering copies the files into the artifact store under ``models/<name>/<upload id>/`` first
and records the version after, so a failed copy never leaves a version without files; later
changes to the run's artifacts or the local folder do not change a registered version.
"""

from __future__ import annotations

import builtins
import os
import re
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.artifacts import run_key, safe_name
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store import ModelVersion, Store
from trainyard.store.records import MODEL_ARCHIVED, MODEL_READY
from trainyard.store.validation import check_model_name

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

MODELS = "models"  # the artifact store's folder of registered versions' files
REF = re.compile(r"^(?:models:/)?(?P<name>[^:@/]+)(?:(?::|/)(?P<version>\d+)|@(?P<alias>[A-Za-z][\w-]*))?$")


def parse_model_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``name``, ``name:3``, ``name@production``, ``models:/name/3`` or ``models:/name@production``."""
    match = REF.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise InvalidInputError(f"cannot read the model reference {ref!r}; use name, name:3 or name@alias")
    version = match.group("version")
    return match.group("name"), int(version) if version else None, match.group("alias")


class Model:
    """One version of a registered model: ``Model(ws, "diabetes")`` is the latest ready one."""

    def __init__(self, workspace: Workspace, name: str, version: int | None = None) -> None:
        self.workspace = workspace
        ref_name, ref_version, alias = parse_model_ref(name)
        store = workspace.store
        if alias is not None:
            self._record = store.get_model_version_by_alias(ref_name, alias)
        elif (version or ref_version) is not None:
            self._record = store.get_model_version(ref_name, int(version or ref_version))  # type: ignore[arg-type]
        else:
            ready = [v for v in store.list_model_versions(ref_name) if v.status == MODEL_READY]
            if not ready:
                raise NotFoundError(f"model {ref_name!r} has no version that is not archived")
            self._record = ready[0]

    @classmethod
    def _of(cls, workspace: Workspace, record: ModelVersion) -> Model:
        model = cls.__new__(cls)
        model.workspace, model._record = workspace, record
        return model

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version}, aliases={self.aliases})"

    # registering -------------------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        run_id: str | None = None,
    ) -> Model:
        """Register a local file or folder as the next version of ``model_name`` (``run_id``: the
        run it was made from, for its lineage)."""
        path = Path(model_path)
        if not path.exists():
            raise InvalidInputError(f"cannot register {path}: no such file or folder")
        files = (
            [path]
            if path.is_file()
            else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        )
        base = path.parent if path.is_file() else path
        uploads = {
            safe_name(f.relative_to(base).as_posix()): partial(workspace.artifacts.put_file, source=f)
            for f in files
        }
        return cls._store_version(
            workspace, model_name, uploads, str(path.resolve()), run_id, tags, properties, description
        )

    @classmethod
    def register_from_run(
        cls,
        workspace: Workspace,
        run_id: str,
        model_name: str,
        model_path: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> Model:
        """Register a run's artifact (a file or a folder, e.g. ``outputs/model``)."""
        rel = safe_name(model_path)  # refuses '..', absolute paths and the like
        workspace.store.get_run(run_id)
        artifacts = workspace.artifacts
        if artifacts.is_file(run_key(run_id, rel)):
            sources = {run_key(run_id, rel): rel.rsplit("/", 1)[-1]}
        else:
            sources = {run_key(run_id, f"{rel}/{f}"): f for f in artifacts.list(run_key(run_id, rel))}
        if not sources:
            have = ", ".join(artifacts.list(run_key(run_id))[:10]) or "nothing"
            raise NotFoundError(f"run {run_id} has no artifact {rel!r}; it has: {have}")
        copies = {name: partial(artifacts.copy, source) for source, name in sources.items()}
        return cls._store_version(
            workspace, model_name, copies, run_key(run_id, rel), run_id, tags, properties, description
        )

    @classmethod
    def _store_version(
        cls,
        workspace: Workspace,
        model_name: str,
        writers: Mapping[str, Callable[..., None]],
        source: str,
        run_id: str | None,
        tags: dict[str, Any] | None,
        properties: dict[str, Any] | None,
        description: str | None,
    ) -> Model:
        """Write each file under a fresh upload prefix, then record the version that names them."""
        upload = _upload_prefix(model_name)
        keys = []
        for name, write in writers.items():
            write(f"{upload}/{name}")
            keys.append(f"{upload}/{name}")
        record = workspace.store.create_model_version(
            model_name,
            source=source,
            files=keys,
            run_id=run_id,
            tags=tags,
            properties=properties,
            description=description,
        )
        return cls._of(workspace, record)

    @classmethod
    def list(cls, workspace: Workspace, name: str | None = None) -> list[Model]:
        """Every version of ``name``, or the latest version of every model."""
        store = workspace.store
        if name is not None:
            return [cls._of(workspace, v) for v in store.list_model_versions(name)]
        return [
            cls._of(workspace, store.get_model_version(m.name, m.latest_version))
            for m in store.list_models()
            if m.latest_version  # a name created (through MLflow) without versions yet
        ]

    # reading -----------------------------------------------------------------------------------
    name = property(lambda self: self._record.name)
    version = property(lambda self: self._record.version)
    tags = property(lambda self: self._record.tags)
    properties = property(lambda self: self._record.properties)
    description = property(lambda self: self._record.description)
    run_id = property(lambda self: self._record.run_id)
    status = property(lambda self: self._record.status)
    aliases = property(lambda self: self._record.aliases)
    created_at = property(lambda self: self._record.created_at)

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def file_names(self) -> builtins.list[str]:  # `list` is the classmethod here
        """Files relative to the model's root, as ``download`` writes them."""
        return [key.split("/", 3)[3] for key in self._record.files]

    def download(self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False) -> Path:
        """Write the model's files into ``target_dir``; returns the folder."""
        target = Path(target_dir)
        for key, rel in zip(self._record.files, self.file_names, strict=True):
            dest = target / rel
            if dest.exists() and not exist_ok:
                raise InvalidInputError(f"{dest} exists; pass exist_ok=True (or --overwrite) to replace it")
            self.workspace.artifacts.download(key, dest)
        return target

    def lineage(self) -> dict[str, Any]:
        """Where the version came from: the run, its experiment, params, metrics and code snapshot."""
        info: dict[str, Any] = {"source": self._record.source}
        if self.run_id:
            run = self.workspace.store.get_run(self.run_id)
            info.update(
                run_id=run.id,
                run_name=run.name,
                experiment=self.workspace.store.get_experiment(run.experiment_id).name,
                params=run.params,
                metrics=run.metrics,
                snapshot_id=run.snapshot_id,
                environment=run.environment,
            )
        return info

    # changing ----------------------------------------------------------------------------------
    def set_alias(self, alias: str) -> None:
        """Point ``alias`` (``production``, ``staging``…) at this version, off any other."""
        self.workspace.store.set_model_alias(self.name, alias, self.version)
        self._refresh()

    def remove_alias(self, alias: str) -> None:
        if alias not in self.aliases:
            raise NotFoundError(
                f"{self.id} does not carry the alias {alias!r} (it has: {self.aliases or 'none'})"
            )
        self.workspace.store.delete_model_alias(self.name, alias)
        self._refresh()

    def archive(self) -> None:
        self._record = self.workspace.store.set_model_version_status(self.name, self.version, MODEL_ARCHIVED)

    def restore(self) -> None:
        self._record = self.workspace.store.set_model_version_status(self.name, self.version, MODEL_READY)

    def _refresh(self) -> None:
        self._record = self.workspace.store.get_model_version(self.name, self.version)


def version_holding(store: Store, key: str) -> ModelVersion | None:
    """The registered version whose upload folder (``models/<name>/<upload id>``) holds ``key``
    or lies below it, if any. Versions keep the keys of their files, and a renamed model's
    files keep their first name's folder, so every version is looked at, not only one name's."""
    if key.split("/", 1)[0] != MODELS:
        return None
    for model in store.list_models():
        for version in store.list_model_versions(model.name):
            if any(_overlaps(key, "/".join(f.split("/")[:3])) for f in version.files):
                return version
    return None


def _overlaps(key: str, folder: str) -> bool:
    return key == folder or key.startswith(folder + "/") or folder.startswith(key + "/")


def delete_version(workspace: Workspace, name: str, version: int) -> None:
    """Remove a version, then its files: the one way a registered version's files go."""
    record = workspace.store.get_model_version(name, version)
    workspace.store.delete_model_version(name, version)
    _delete_files(workspace, [record])


def delete_model(workspace: Workspace, name: str) -> None:
    """Remove a registered model with its versions, then their files."""
    records = workspace.store.list_model_versions(name)
    workspace.store.delete_registered_model(name)
    _delete_files(workspace, records)


def _delete_files(workspace: Workspace, records: builtins.list[ModelVersion]) -> None:
    for record in records:
        for key in record.files:
            workspace.artifacts.delete(key)


def _upload_prefix(model_name: str) -> str:
    return f"{MODELS}/{check_model_name(model_name)}/{uuid.uuid4().hex}"
