"""Local inputs of a job on a server workspace: stored at submit time, materialised by its worker.

A ``uri_file`` / ``uri_folder`` input whose path is on the submitter's disk means nothing to an
agent on another machine. When a job is submitted to a server workspace, each input given as
an absolute local path is stored like a code snapshot (content-addressed blobs and a manifest,
so an input that did not change is not sent again) and its path becomes ``snapshot://<id>`` (a
folder) or ``snapshot://<id>/<file name>`` (a file), as Azure ML turns a local path into a
datastore URI. The worker that runs the job downloads each such input into the job's folder and
passes that local path to the command in place of the URI. Embedded workspaces keep the path as
it is: their runs share the submitter's disk. A relative path is left alone too: it names a
file of the code folder, which travels in the code snapshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.jobs.snapshot import restore_snapshot, store_files
from trainyard.jobs.spec import CommandJob, PathInput

if TYPE_CHECKING:
    from trainyard.artifacts import ArtifactStore

SCHEME = "snapshot://"


def upload_inputs(job: CommandJob, artifacts: ArtifactStore) -> CommandJob:
    """``job`` with each input that is an absolute local path stored in ``artifacts`` and named by its URI."""
    uploaded = {
        name: PathInput(type=value.type, path=_upload(name, value, artifacts))
        for name, value in job.inputs.items()
        if isinstance(value, PathInput) and "://" not in value.path and Path(value.path).is_absolute()
    }
    return job.model_copy(update={"inputs": {**job.inputs, **uploaded}}) if uploaded else job


def _upload(name: str, value: PathInput, artifacts: ArtifactStore) -> str:
    path = Path(value.path)
    if value.type == "uri_file":
        if not path.is_file():
            raise InvalidInputError(f"input {name!r} (uri_file) points at {path}, which is not a file")
        return f"{SCHEME}{store_files({path.name: path}, artifacts).id}/{path.name}"
    if not path.is_dir():
        raise InvalidInputError(f"input {name!r} (uri_folder) points at {path}, which is not a folder")
    files = {
        (Path(folder) / f).relative_to(path).as_posix(): Path(folder) / f
        for folder, _, names in os.walk(path)
        for f in names
        if (Path(folder) / f).is_file()
    }
    return f"{SCHEME}{store_files(files, artifacts).id}"


def materialize_inputs(
    inputs: Mapping[str, JsonValue],
    argv: list[str],
    artifacts: ArtifactStore,
    folder: Path,
    say: Callable[[str], None],
) -> list[str]:
    """Download each stored input of a job record into ``folder``; ``argv`` with each one's URI
    replaced by its local path."""
    local: dict[str, str] = {}
    for name, value in inputs.items():
        uri = value.get("path") if isinstance(value, dict) else None
        if not isinstance(uri, str) or not uri.startswith(SCHEME):
            continue
        snapshot_id, _, inner = uri.removeprefix(SCHEME).partition("/")
        dest = folder / re.sub(r"[^\w-]", "_", name)
        while dest.exists():  # two names that differ only in punctuation
            dest = dest.with_name(dest.name + "_")
        dest.mkdir(parents=True)
        try:
            count = restore_snapshot(snapshot_id, artifacts, dest)
        except (NotFoundError, InvalidInputError) as exc:
            raise InvalidInputError(f"input {name!r} ({uri}) cannot be fetched: {exc}") from None
        local[uri] = str(dest / inner) if inner else str(dest)
        if not os.path.exists(local[uri]):
            raise InvalidInputError(f"input {name!r}: snapshot {snapshot_id[:12]} holds no {inner!r}")
        say(f"input {name}: {count} file(s) from snapshot {snapshot_id[:12]} in {local[uri]}")
    return substitute_uris(argv, local)


def substitute_uris(argv: list[str], local: Mapping[str, str]) -> list[str]:
    """``argv`` with each URI replaced by its local path (longest URI first, so a folder's never
    cuts into a file's)."""
    for uri in sorted(local, key=len, reverse=True):
        argv = [part.replace(uri, local[uri]) for part in argv]
    return argv
