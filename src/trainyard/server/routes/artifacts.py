"""Artifacts over HTTP: upload and download streamed in chunks, list, copy, delete.

Every key passes ``safe_name`` (fully decoded, no ``..``, nothing absolute) before anything is
read or written, and the local ArtifactStore refuses a path that resolves outside its root
(symlinks), so a bad key is a 400 and touches nothing. Uploads go to a temporary file chunk by
chunk, then into the store atomically: a dropped upload leaves no artifact behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from trainyard.api import routes
from trainyard.api.schemas import ArtifactCopy
from trainyard.artifacts import ArtifactStore, safe_name
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.server.routes.deps import ArtifactsDep
from trainyard.server.routing import serve

router = APIRouter(tags=["artifacts"])
CHUNK = 1024 * 1024


@serve(router, routes.UPLOAD_ARTIFACT)
async def upload(key: str, request: Request, artifacts: ArtifactsDep) -> Any:
    """The request body, streamed, becomes the file ``key``."""
    key = safe_name(key)
    if await run_in_threadpool(_is_folder, artifacts, key):
        raise InvalidInputError(f"artifact {key!r} is a folder; upload files below it")
    fd, tmp = tempfile.mkstemp(prefix="trainyard-upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                fh.write(chunk)
        await run_in_threadpool(artifacts.put_file, key, tmp)
    finally:
        os.unlink(tmp)
    return {"key": key}


@serve(router, routes.DOWNLOAD_ARTIFACT)
def download(key: str, artifacts: ArtifactsDep) -> Any:
    key = safe_name(key)
    if not artifacts.is_file(key):
        listing = f"{routes.LIST_ARTIFACTS.method} {routes.LIST_ARTIFACTS.template}?prefix="
        raise NotFoundError(f"no artifact file {key!r}; `{listing}` lists a folder")
    return file_response(artifacts, key)


def file_response(artifacts: ArtifactStore, key: str) -> Any:
    """The file ``key`` (known to exist), sent from disk or streamed in chunks from the store."""
    local = artifacts.local_path(key)
    if local is not None:
        return FileResponse(local, media_type="application/octet-stream")
    fh = artifacts.open(key)

    def chunks() -> Iterator[bytes]:
        with fh:
            while block := fh.read(CHUNK):
                yield block

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@serve(router, routes.DELETE_ARTIFACTS)
def delete(key: str, artifacts: ArtifactsDep) -> Any:
    """Remove a file or everything below a prefix."""
    artifacts.delete(safe_name(key))
    return {}


@serve(router, routes.LIST_ARTIFACTS)
def list_files(prefix: str, artifacts: ArtifactsDep) -> Any:
    """Every file below ``prefix``, relative to it."""
    return {"files": artifacts.list(safe_name(prefix))}


@serve(router, routes.ARTIFACT_INFO)
def info(key: str, artifacts: ArtifactsDep) -> Any:
    key = safe_name(key)
    return {"exists": artifacts.exists(key), "is_file": artifacts.is_file(key)}


@serve(router, routes.COPY_ARTIFACT)
def copy(body: ArtifactCopy, artifacts: ArtifactsDep) -> Any:
    source, target = safe_name(body.source), safe_name(body.target)
    if not artifacts.is_file(source):
        raise NotFoundError(f"no artifact file {source!r}")
    if _is_folder(artifacts, target):
        raise InvalidInputError(f"artifact {target!r} is a folder")
    artifacts.copy(source, target)
    return {}


def _is_folder(artifacts: ArtifactStore, key: str) -> bool:
    return artifacts.exists(key) and not artifacts.is_file(key)
