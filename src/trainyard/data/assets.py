"""``Data``: a version of a data asset, in Azure ML's shape (``Data.create``, ``azureml:churn:3``).

Creating hashes the local files, returns the latest version when the hash is unchanged, else
copies them into the artifact store under ``data/<name>/<upload id>/`` and records the version
last: a killed create leaves at most unreferenced files, never a version. ``--reference`` records
a path without copying. Every read checks the content hash, so a file changed under a reference
or in the store fails with the asset and version named, never returns other data.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.artifacts.paths import join, safe_name
from trainyard.data import content
from trainyard.data.table import FORMATS, describe, read_table
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store.records import DataVersion
from trainyard.store.validation import check_model_name

if TYPE_CHECKING:
    import pandas as pd

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


def _type_for(path: Path, type: str | None) -> str:
    if type is None:
        return "uri_file" if path.is_file() else "uri_folder"
    if type in ("uri_file", "table") and not path.is_file():
        raise InvalidInputError(
            f"{path} is a folder; a {type} data asset is one file (use --type uri_folder)"
        )
    if type == "uri_folder" and not path.is_dir():
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
    **fields: Any,
) -> DataVersion:
    """Record the version whose files are in place; drop them if the store answers with an older copy.

    On a local artifact store the files are made read-only first: a job reads them in place.
    """
    folder = workspace.artifacts.local_path(prefix) if prefix is not None else None
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
        **fields,
    )
    if prefix is not None and record.prefix != prefix:  # another create stored the same content
        workspace.artifacts.delete(prefix)
    return record


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
    ) -> Data:
        """The next version of ``name`` from a local file or folder (the latest if unchanged)."""
        check_model_name(name)
        source = Path(path).expanduser()
        if not source.exists():
            raise InvalidInputError(f"data asset {name!r}: the path {source} does not exist")
        kind = _type_for(source, type)
        table = describe(read_table(source, f"data asset {name!r}")) if kind == "table" else None
        files = content.local_files(source)
        if not files:
            raise InvalidInputError(f"data asset {name!r}: the folder {source} has no files")
        found = content.of_local(files)
        store = workspace.store
        try:
            latest = store.get_data_version(name)
            if latest.content_hash == found.digest:
                return cls._of(workspace, latest)  # unchanged: nothing to copy
        except NotFoundError:
            pass
        prefix = None if reference else join(DATA, safe_name(name), uuid.uuid4().hex)
        if prefix is not None:  # the files first: the version is visible only once they are all in
            for rel, file in files:
                workspace.artifacts.put_file(join(prefix, safe_name(rel)), file)
        uri = str(source.resolve()) if reference else None
        fields = {"description": description, "tags": tags, "table": table}
        return cls._of(workspace, record_version(workspace, name, kind, found, prefix, uri, **fields))

    # reading -----------------------------------------------------------------------------------
    def _mismatch(self) -> InvalidInputError:
        where = self.record.uri or f"the artifact store ({self.record.prefix})"
        return InvalidInputError(
            f"data asset {self.ref}: its files in {where} changed since it was created (content hash "
            "mismatch); create a new version from the current files"
        )

    def verify(self) -> None:
        """``InvalidInputError`` unless the files still have the version's content hash.

        Files on this disk whose stat manifest is the one they had when they last matched are not
        hashed again (``content.VerifiedCache``): a job reading a large version starts at once.
        """
        record = self.record
        root = Path(record.uri) if record.uri is not None else None
        if root is None and record.prefix is not None:
            root = self.workspace.artifacts.local_path(record.prefix)
        manifest = None
        if root is not None and root.exists():
            manifest = content.stat_manifest(content.local_files(root))
            if self._verified.holds(record.content_hash, root, manifest):
                return
        try:
            if record.uri is not None:
                source = Path(record.uri)
                if not source.exists():
                    raise NotFoundError(f"data asset {self.ref}: the referenced path {source} is gone")
                found = content.of_local(content.local_files(source))
            else:
                found = content.of_stored(self.workspace.artifacts, str(record.prefix))
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
        folder = self.workspace.artifacts.local_path(str(self.record.prefix))
        if folder is None:
            return None
        if self.record.type == "uri_folder":
            return folder
        names = self.workspace.artifacts.list(str(self.record.prefix))
        return folder / names[0] if names else None

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
            prefix = str(self.record.prefix)
            for rel in self.workspace.artifacts.list(prefix):
                self.workspace.artifacts.download(join(prefix, rel), target / rel)
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
