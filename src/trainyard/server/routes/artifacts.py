"""Artifacts over HTTP: upload and download streamed in chunks, ranged reads, appends, list, copy, delete.

Every key passes ``safe_name`` (fully decoded, no ``.`` or ``..`` parts, nothing absolute) before
anything is read or written, and the local ArtifactStore refuses a path that resolves outside its
root (symlinks), so a bad key is a 400 and touches nothing. Then ``server/artifact_access.py``
says where the caller may write: deletes only inside one run they may write, never a registered
model version's files (403). Uploads go to a temporary file chunk by
chunk, then into the store atomically: a dropped upload leaves no artifact behind.

A download with ``Range: bytes=START-`` or ``bytes=START-END`` answers 206 with ``Content-Range``
and only those bytes (how a log is followed); a START at or past the end answers 416 with
``Content-Range: bytes */SIZE``; other range forms (several ranges, suffixes) are ignored and the
whole file is sent, as HTTP allows. ``POST /artifact-append?key=[&offset=]`` adds its raw body (at
most the server's body limit) to the end of a file, creating it; with ``offset``, the file's size
as the client knows it, a retry finds its bytes there and changes nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from trainyard.api import routes
from trainyard.api.schemas import ArtifactCopy
from trainyard.artifacts import ArtifactStore, safe_name
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.server import artifact_access
from trainyard.server.routes.deps import ArtifactsDep, PrincipalDep, StoreDep
from trainyard.server.routing import serve

router = APIRouter(tags=["artifacts"])
OCTETS = "application/octet-stream"
BYTE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@serve(router, routes.UPLOAD_ARTIFACT)
async def upload(key: str, request: Request, artifacts: ArtifactsDep, store: StoreDep) -> Any:
    """The request body, streamed, becomes the file ``key``."""
    key = safe_name(key)
    await run_in_threadpool(artifact_access.check_write, store, key)
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
def download(
    key: str, artifacts: ArtifactsDep, range_: Annotated[str | None, Header(alias="Range")] = None
) -> Any:
    key = safe_name(key)
    if not artifacts.is_file(key):
        listing = f"{routes.LIST_ARTIFACTS.method} {routes.LIST_ARTIFACTS.template}?prefix="
        raise NotFoundError(f"no artifact file {key!r}; `{listing}` lists a folder")
    if range_ is None:
        return file_response(artifacts, key)
    found = BYTE_RANGE.fullmatch(range_.strip())
    start = int(found[1]) if found else 0
    end = int(found[2]) if found and found[2] else None
    if found is None or (end is not None and end < start):  # a form not honoured: all of it, as HTTP allows
        return StreamingResponse(artifacts.read(key), media_type=OCTETS)
    return range_response(artifacts, key, start, end)


def range_response(artifacts: ArtifactStore, key: str, start: int, end: int | None) -> Response:
    """Bytes ``start`` to ``end`` (inclusive; None: the end) of the file ``key``, as a 206 or a 416.

    The size is taken once, and exactly the bytes it covers are sent: a file growing meanwhile
    (a log) shows its new bytes to the next request.
    """
    size = artifacts.size(key)
    if start >= size:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    last = size - 1 if end is None else min(end, size - 1)
    length = last - start + 1

    def chunks() -> Iterator[bytes]:
        left = length
        for block in artifacts.read(key, start):
            yield block[:left]
            left -= len(block)
            if left <= 0:
                return

    headers = {"Content-Range": f"bytes {start}-{last}/{size}", "Content-Length": str(length)}
    return StreamingResponse(chunks(), 206, headers, media_type=OCTETS)


def file_response(artifacts: ArtifactStore, key: str) -> Any:
    """The file ``key`` (known to exist), sent from disk or streamed in chunks from the store."""
    local = artifacts.local_path(key)
    if local is not None:
        return FileResponse(local, media_type=OCTETS)
    return StreamingResponse(artifacts.read(key), media_type=OCTETS)


@serve(router, routes.DELETE_ARTIFACTS)
def delete(key: str, artifacts: ArtifactsDep, store: StoreDep, principal: PrincipalDep) -> Any:
    """Remove a file or everything below a prefix, inside one run."""
    key = safe_name(key)
    artifact_access.check_delete(store, principal, key)
    artifacts.delete(key)
    return {}


@serve(router, routes.APPEND_ARTIFACT)
async def append(
    key: str, request: Request, artifacts: ArtifactsDep, store: StoreDep, offset: int | None = None
) -> Any:
    """The raw body added at the end of the file ``key`` (created when missing); its new size.

    With ``offset`` (the size the client knows) it is conditional, so a retried append whose
    reply was lost, even in a crash, finds its bytes already there and changes nothing.
    """
    key = safe_name(key)
    await run_in_threadpool(artifact_access.check_write, store, key)
    data = await request.body()
    return {"key": key, "size": await run_in_threadpool(artifacts.append, key, data, at=offset)}


@serve(router, routes.LIST_ARTIFACTS)
def list_files(prefix: str, artifacts: ArtifactsDep) -> Any:
    """Every file below ``prefix``, relative to it."""
    return {"files": artifacts.list(safe_name(prefix))}


@serve(router, routes.ARTIFACT_INFO)
def info(key: str, artifacts: ArtifactsDep) -> Any:
    key = safe_name(key)
    is_file = artifacts.is_file(key)
    size = artifacts.size(key) if is_file else None
    return {"exists": is_file or artifacts.exists(key), "is_file": is_file, "size": size}


@serve(router, routes.COPY_ARTIFACT)
def copy(body: ArtifactCopy, artifacts: ArtifactsDep, store: StoreDep) -> Any:
    target = safe_name(body.target)
    artifact_access.check_write(store, target)
    artifacts.copy(safe_name(body.source), target)
    return {}


def _is_folder(artifacts: ArtifactStore, key: str) -> bool:
    return artifacts.exists(key) and not artifacts.is_file(key)
