"""``Data``: a version of a data asset, in Azure ML's shape (``Data.create``, ``azureml:churn:3``).

Creating hashes the local files, returns the latest version when the hash is unchanged, else
copies them into a datastore (default the workspace's artifact store) under
``data/<name>/<upload id>/`` and records the version last: a killed create leaves at most
unreferenced files, never a version. ``--reference`` records a local path without copying; a
path on a datastore (``azureml://datastores/<ds>/paths/<p>``) is recorded where it is, its hash
streamed from the datastore. Every read goes through ``open_datastore`` and checks the content
hash, so a file changed under a reference or in a datastore fails with the asset and version
named, never returns other data.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.artifacts.paths import join, safe_name
from trainyard.data import content
from trainyard.data.datastores import datastore_uri, is_datastore_uri, open_datastore, parse_datastore_uri
from trainyard.data.table import FORMATS, describe, read_table
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store.records import DEFAULT_DATASTORE, DataVersion
from trainyard.store.validation import check_model_name

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.artifacts import ArtifactStore
    from trainyard.workspace import Workspace

DATA = "data"  # the artifact store's folder of data versions' files
REF = re.compile(r"^(?:(?:data|azureml):)?(?P<name>[\w.-]+)(?::(?P<version>\d+)|@latest)?$")


def parse_data_ref(ref: str) -> tuple[str, int | None]:
    """``churn``, ``churn@latest``, ``churn:3``, each optionally after ``data:`` or ``azureml:``."""
    match = REF.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise InvalidInputError(f"cannot read the data reference {ref!r}; use name, name:3 or name@latest")
    version = match.group("version")
    return match.group("name"), int(version) if version else None


def _type_for(path: object, is_file: bool, type: str | None) -> str:
    if type is None:
        return "uri_file" if is_file else "uri_folder"
    if type in ("uri_file", "table") and not is_file:
        raise InvalidInputError(
            f"{path} is a folder; a {type} data asset is one file (use --type uri_folder)"
        )
    if type == "uri_folder" and is_file:
        raise InvalidInputError(
            f"{path} is a file; a uri_folder data asset is a folder (use --type uri_file)"
        )
    return type


def record_version(
    workspace: Workspace,
    name: str,
    type: str,
    found: content.Content,
    prefix: str | None,
    uri: str | None = None,
    *,
    datastore: str = DEFAULT_DATASTORE,
    uploaded: bool = True,
    **fields: Any,
) -> DataVersion:
    """Record the version whose files are in place; drop the ones this create ``uploaded`` if the
    store answers with an older copy (files already on a datastore are the user's: never touched).

    Uploaded files on a local store are made read-only first: a job reads them in place.
    """
    store = open_datastore(workspace, datastore) if uploaded and prefix is not None else None
    folder = store.local_path(prefix) if store is not None and prefix is not None else None
    for file in folder.rglob("*") if folder is not None else []:
        if file.is_file():
            file.chmod(0o444)
    record = workspace.store.create_data_version(
        name,
        type=type,
        content_hash=found.digest,
        size_bytes=found.size_bytes,
        file_count=found.file_count,
        prefix=prefix,
        uri=uri,
        datastore=datastore,
        **fields,
    )
    if store is not None and prefix is not None and (record.prefix, record.datastore) != (prefix, datastore):
        store.delete(prefix)  # another create stored the same content
    return record


def _latest_with(workspace: Workspace, name: str, digest: str) -> DataVersion | None:
    """The latest version of ``name`` when its content is ``digest`` (a create makes nothing new)."""
    try:
        latest = workspace.store.get_data_version(name)
    except NotFoundError:
        return None
    return latest if latest.content_hash == digest else None


class Data:
    """One version of a data asset: ``Data(ws, "churn")`` is the latest, ``Data(ws, "churn:3")`` version 3."""

    def __init__(self, workspace: Workspace, ref: str, version: int | None = None) -> None:
        name, ref_version = parse_data_ref(ref)
        self.workspace = workspace
        self.record = workspace.store.get_data_version(name, version or ref_version)

    @classmethod
    def _of(cls, workspace: Workspace, record: DataVersion) -> Data:
        data = cls.__new__(cls)
        data.workspace, data.record = workspace, record
        return data

    def __repr__(self) -> str:
        return f"Data(name={self.name!r}, version={self.version}, type={self.record.type!r})"

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    # creating ----------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        workspace: Workspace,
        name: str,
        path: str | os.PathLike[str],
        *,
        type: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        reference: bool = False,
        datastore: str | None = None,
    ) -> Data:
        """The next version of ``name`` (the latest if unchanged) from a local file or folder, copied
        to ``datastore`` (default the workspace's artifact store), or from a path already on a
        datastore, ``azureml://datastores/<ds>/paths/<p>``, recorded where it is."""
        check_model_name(name)
        fields: dict[str, Any] = {"description": description, "tags": tags}
        if is_datastore_uri(path):
            return cls._create_on_datastore(workspace, name, str(path), type, datastore, reference, fields)
        if reference and datastore is not None:
            raise InvalidInputError(
                f"data asset {name!r}: --reference records a local path, --datastore uploads to a "
                "datastore; give one (for a path on a datastore, use azureml://datastores/NAME/paths/PATH)"
            )
        source = Path(path).expanduser()
        if not source.exists():
            raise InvalidInputError(f"data asset {name!r}: the path {source} does not exist")
        kind = _type_for(source, source.is_file(), type)
        table = describe(read_table(source, f"data asset {name!r}")) if kind == "table" else None
        files = content.local_files(source)
        if not files:
            raise InvalidInputError(f"data asset {name!r}: the folder {source} has no files")
        found = content.of_local(files)
        latest = _latest_with(workspace, name, found.digest)
        if latest is not None:
            return cls._of(workspace, latest)  # unchanged: nothing to copy
        if reference:
            uri = str(source.resolve())
            return cls._of(
                workspace, record_version(workspace, name, kind, found, None, uri, table=table, **fields)
            )
        target = datastore or DEFAULT_DATASTORE
        store = open_datastore(workspace, target)  # before any upload: a missing credential fails first
        prefix = join(DATA, safe_name(name), uuid.uuid4().hex)
        for rel, file in files:  # the files first: the version is visible only once they are all in
            store.put_file(join(prefix, safe_name(rel)), file)
        record = record_version(workspace, name, kind, found, prefix, datastore=target, table=table, **fields)
        return cls._of(workspace, record)

    @classmethod
    def _create_on_datastore(
        cls,
        workspace: Workspace,
        name: str,
        uri: str,
        type: str | None,
        datastore: str | None,
        reference: bool,
        fields: dict[str, Any],
    ) -> Data:
        """A version that is a path already on a datastore: its hash streamed from there, nothing copied."""
        ds, key = parse_datastore_uri(uri)
        if datastore is not None and datastore != ds:
            raise InvalidInputError(
                f"data asset {name!r}: {uri} is on datastore {ds!r}, not {datastore!r}; give one of them"
            )
        if reference:
            raise InvalidInputError(
                f"data asset {name!r}: a datastore path is always recorded where it is; drop --reference"
            )
        store = open_datastore(workspace, ds)
        try:
            files = content.stored_files(store, key)
        except NotFoundError:
            raise InvalidInputError(
                f"data asset {name!r}: {uri} does not exist on datastore {ds!r}"
            ) from None
        is_file = len(files) == 1 and files[0][1] == key
        kind = _type_for(uri, is_file, type)
        table = None
        if kind == "table":
            with tempfile.TemporaryDirectory() as tmp:
                local = store.download(key, Path(tmp) / files[0][0])
                table = describe(read_table(local, f"data asset {name!r}"))
        found = content.of_stored(store, key)
        latest = _latest_with(workspace, name, found.digest)
        if latest is not None:
            return cls._of(workspace, latest)
        record = record_version(
            workspace, name, kind, found, key, datastore=ds, uploaded=False, table=table, **fields
        )
        return cls._of(workspace, record)

    # reading -----------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the files are: the referenced path, or ``azureml://datastores/<ds>/paths/<prefix>``."""
        return self.record.uri or datastore_uri(self.record.datastore, str(self.record.prefix))

    def _store(self) -> ArtifactStore:
        return open_datastore(self.workspace, self.record.datastore)

    def _mismatch(self) -> InvalidInputError:
        record = self.record
        where = (
            self.location
            if record.datastore != DEFAULT_DATASTORE
            else f"the artifact store ({record.prefix})"
        )
        return InvalidInputError(
            f"data asset {self.ref}: its files in {where} changed since it was created (content "
            "hash mismatch); create a new version from the current files"
        )

    def verify(self) -> None:
        """``InvalidInputError`` unless the files still have the version's content hash.

        Files on this disk whose stat manifest is the one they had when they last matched are not
        hashed again (``content.VerifiedCache``): a job reading a large version starts at once.
        """
        record = self.record
        store = self._store() if record.uri is None else None
        root = Path(record.uri) if record.uri is not None else None
        if store is not None:
            root = store.local_path(str(record.prefix))
        manifest = None
        if root is not None and root.exists():
            manifest = content.stat_manifest(content.local_files(root))
            if self._verified.holds(record.content_hash, root, manifest):
                return
        try:
            if store is None:
                source = Path(str(record.uri))
                if not source.exists():
                    raise NotFoundError(f"data asset {self.ref}: the referenced path {source} is gone")
                found = content.of_local(content.local_files(source))
            else:
                found = content.of_stored(store, str(record.prefix))
        except NotFoundError as exc:
            raise InvalidInputError(f"data asset {self.ref}: {exc}") from None
        if found.digest != record.content_hash:
            raise self._mismatch()
        if root is not None and manifest is not None:
            self._verified.remember(record.content_hash, root, manifest)

    @property
    def _verified(self) -> content.VerifiedCache:
        return content.VerifiedCache(self.workspace.root / ".cache" / "data-verified")

    def _local(self) -> Path | None:
        """The version's files on this machine's disk without copying, when they are there."""
        if self.record.uri is not None:
            return Path(self.record.uri)
        prefix = str(self.record.prefix)
        store = self._store()
        found = store.local_path(prefix)
        if found is None or self.record.type == "uri_folder" or found.is_file():
            return found
        names = store.list(prefix)
        return found / names[0] if names else None

    def path(self) -> Path:
        """A local path to the data (the stored file itself when local, else a download); hash-checked."""
        local = self._local()
        if local is None:  # the download checks the hash of what it fetched: fetch once, not twice
            return self.download(self.workspace.root / ".cache" / DATA / self.name / str(self.version))
        self.verify()
        return local

    def download(self, to: str | os.PathLike[str] | None = None) -> Path:
        """Copy the files into the folder ``to`` (default ``./<name>-<version>``), then check their hash."""
        target = Path(to) if to is not None else Path.cwd() / f"{self.name}-{self.version}"
        target.mkdir(parents=True, exist_ok=True)
        if self.record.uri is not None:
            source = Path(self.record.uri)
            for rel, file in content.local_files(source) if source.exists() else []:
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target / rel)
        else:
            store = self._store()
            try:
                files = content.stored_files(store, str(self.record.prefix))
            except NotFoundError as exc:
                raise InvalidInputError(f"data asset {self.ref}: {exc}") from None
            for rel, key in files:
                store.download(key, target / rel)
        if content.of_local(content.local_files(target)).digest != self.record.content_hash:
            raise self._mismatch()
        if self.record.type != "uri_folder":
            return target / content.local_files(target)[0][0]
        return target

    def to_pandas(self) -> pd.DataFrame:
        """The table (a ``table``, or a ``uri_file`` that is a csv or parquet file) as a DataFrame."""
        if self.record.type == "uri_folder":
            raise InvalidInputError(f"data asset {self.ref} is a folder; to_pandas reads a table or a file")
        file = self.path()
        if file.suffix.lower() not in FORMATS:
            raise InvalidInputError(f"data asset {self.ref}: {file.name} is not a .csv or .parquet file")
        return read_table(file, f"data asset {self.ref}")

    def archive(self) -> Data:
        return Data._of(
            self.workspace, self.workspace.store.set_data_version_archived(self.name, self.version, True)
        )

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self.record)
