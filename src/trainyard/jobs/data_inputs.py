"""Data asset inputs of a job: pinned to one version at submit, delivered as a local path.

``data:churn@latest``, ``data:churn:3`` or Azure's ``azureml:churn:3`` resolves when the job is
submitted, so every run of it (retries included) reads the same version. On an embedded
workspace the path is the version's own files in the artifact store (nothing copied; the content
hash is checked first); on a server workspace, or with ``mode: download``, it is
``data://name/version`` and the worker downloads the files (hash-checked) into the job's folder.
Each run records the versions it read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from trainyard.data.assets import Data
from trainyard.jobs.spec import CommandJob, PathInput
from trainyard.jobs.uploads import substitute_uris

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

SCHEME = "data://"


def resolve_data_inputs(ws: Workspace, job: CommandJob) -> CommandJob:
    """``job`` with each data asset input pinned to its version and given a path."""
    pinned = {}
    for name, value in job.inputs.items():
        if isinstance(value, PathInput) and value.is_data_ref:
            data = Data(ws, value.path)
            fetched = ws.is_server or value.mode == "download"  # else read in place (ro_mount)
            path = f"{SCHEME}{data.name}/{data.version}" if fetched else str(data.path())
            pinned[name] = value.model_copy(
                update={"path": path, "asset": data.ref, "type": data.record.type}
            )
    return job.model_copy(update={"inputs": {**job.inputs, **pinned}}) if pinned else job


def record_data_reads(ws: Workspace, run_id: str, job: CommandJob) -> None:
    """Lineage: the run read each pinned data asset input."""
    for value in job.inputs.values():
        if isinstance(value, PathInput) and value.asset is not None:
            name, _, version = value.asset.rpartition(":")  # pinned at submit: "name:version"
            ws.store.record_data_lineage(run_id, name, int(version), "read")


def materialize_data_inputs(
    inputs: Mapping[str, JsonValue], argv: list[str], ws: Workspace, folder: Path, say: Callable[[str], None]
) -> list[str]:
    """Download each ``data://`` input into ``folder``; ``argv`` with its URI replaced by the local path."""
    local: dict[str, str] = {}
    for name, value in inputs.items():
        uri = value.get("path") if isinstance(value, dict) else None
        if not isinstance(uri, str) or not uri.startswith(SCHEME):
            continue
        data = Data(ws, uri.removeprefix(SCHEME).replace("/", ":"))
        local[uri] = str(data.download(folder / f"data-{data.name}-{data.version}"))
        say(f"input {name}: data {data.ref} ({data.record.file_count} file(s)) in {local[uri]}")
    return substitute_uris(argv, local)
