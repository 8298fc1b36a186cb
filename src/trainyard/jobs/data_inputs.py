"""Data asset inputs of a job: pinned to one version at submit, delivered as a local path.

``data:churn@latest``, ``data:churn:3`` or Azure's ``azureml:churn:3`` resolves when the job is
submitted, so every run of it (retries included) reads the same version. On an embedded
workspace the path is the version's own files in the artifact store (nothing copied; the content
hash is checked first); on a server workspace, or with ``mode: download``, it is
``data://name/version`` and the worker downloads the files (hash-checked) into the job's folder.
Each run records the versions it read.

A path on a datastore (``azureml://datastores/lake/paths/raw/``) is an input too, without a
version: at submit the datastore is opened (an unknown one, a missing credential variable or a
missing path fails the submit) and a folder datastore's path is given in place; otherwise the
worker downloads it into the job's folder, reading the datastore's credentials where it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from trainyard.data import content
from trainyard.data.assets import Data
from trainyard.data.datastores import is_datastore_uri, open_datastore, parse_datastore_uri
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.jobs.spec import CommandJob, PathInput
from trainyard.jobs.uploads import substitute_uris

if TYPE_CHECKING:
    from trainyard.artifacts import ArtifactStore
    from trainyard.workspace import Workspace

SCHEME = "data://"


def resolve_data_inputs(ws: Workspace, job: CommandJob) -> CommandJob:
    """``job`` with each data asset input pinned to its version and given a path."""
    pinned = {}
    for name, value in job.inputs.items():
        if isinstance(value, PathInput) and value.is_data_ref:
            data = Data(ws, value.path)
            # an agent reads it through the store; else in place (ro_mount)
            fetched = ws.is_server or ws.agents_run_jobs or value.mode == "download"
            path = f"{SCHEME}{data.name}/{data.version}" if fetched else str(data.path())
            pinned[name] = value.model_copy(
                update={"path": path, "asset": data.ref, "type": data.record.type}
            )
        elif isinstance(value, PathInput) and is_datastore_uri(value.path):
            ds, key = parse_datastore_uri(value.path)
            store = open_datastore(ws, ds)
            _stored_files(store, key, name, value.path)  # there now, or the submit fails
            local = store.local_path(key)
            if local is not None and not (ws.is_server or ws.agents_run_jobs) and value.mode != "download":
                pinned[name] = value.model_copy(update={"path": str(local)})
    return job.model_copy(update={"inputs": {**job.inputs, **pinned}}) if pinned else job


def record_data_reads(ws: Workspace, run_id: str, job: CommandJob) -> None:
    """Lineage: the run read each pinned data asset input."""
    for value in job.inputs.values():
        if isinstance(value, PathInput) and value.asset is not None:
            name, _, version = value.asset.rpartition(":")  # pinned at submit: "name:version"
            ws.store.record_data_lineage(run_id, name, int(version), "read")


def _stored_files(store: ArtifactStore, key: str, name: str, uri: str) -> list[tuple[str, str]]:
    try:
        return content.stored_files(store, key)
    except NotFoundError:
        raise InvalidInputError(f"input {name!r}: {uri} does not exist on its datastore") from None


def _fetch_datastore_path(ws: Workspace, name: str, uri: str, kind: object, folder: Path) -> Path:
    """The files at a datastore path, downloaded into ``folder``: the file itself for a uri_file."""
    ds, key = parse_datastore_uri(uri)
    store = open_datastore(ws, ds)
    files = _stored_files(store, key, name, uri)
    for rel, stored in files:
        store.download(stored, folder / rel)
    if kind != "uri_folder" and len(files) == 1 and files[0][1] == key:
        return folder / files[0][0]
    return folder


def materialize_data_inputs(
    inputs: Mapping[str, JsonValue], argv: list[str], ws: Workspace, folder: Path, say: Callable[[str], None]
) -> list[str]:
    """Download each ``data://`` input into ``folder``; ``argv`` with its URI replaced by the local path."""
    local: dict[str, str] = {}
    for name, value in inputs.items():
        uri = value.get("path") if isinstance(value, dict) else None
        if isinstance(value, dict) and is_datastore_uri(uri):
            target = folder / f"datastore-{len(local)}-{name}"
            local[str(uri)] = str(_fetch_datastore_path(ws, name, str(uri), value.get("type"), target))
            say(f"input {name}: {uri} in {local[str(uri)]}")
            continue
        if not isinstance(uri, str) or not uri.startswith(SCHEME):
            continue
        data = Data(ws, uri.removeprefix(SCHEME).replace("/", ":"))
        local[uri] = str(data.download(folder / f"data-{data.name}-{data.version}"))
        say(f"input {name}: data {data.ref} ({data.record.file_count} file(s)) in {local[uri]}")
    return substitute_uris(argv, local)
