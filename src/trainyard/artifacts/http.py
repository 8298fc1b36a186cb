"""``HttpArtifactStore``: the artifacts of a server workspace, through its REST API.

Files move in chunks both ways (never whole in memory) and downloads land through a temporary
file renamed into place. ``read`` is a ``Range`` request from the offset, so a log's reader gets
only the new bytes; ``append`` posts the new bytes, in pieces of at most ``CHUNK`` bytes, each at
the offset the caller expects the file to have (when it gives one, as the log shipper does), so a
retried request finds its bytes there and is not applied twice, even when the first reply was lost
in a server crash. Keys are checked here with
``safe_name`` too, so a bad name fails before any request; the server checks them again.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from trainyard.api import routes
from trainyard.api.client import CHUNK, ServerClient
from trainyard.artifacts.base import ArtifactStore
from trainyard.artifacts.paths import safe_name
from trainyard.errors import InvalidInputError, NotFoundError


class HttpArtifactStore(ArtifactStore):
    def __init__(self, url: str) -> None:
        self.client = ServerClient(url)
        self.root = self.client.url

    def __repr__(self) -> str:
        return f"HttpArtifactStore({self.root!r})"

    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        self.client.upload(routes.UPLOAD_ARTIFACT.at(key=safe_name(key)), Path(source))

    def put_bytes(self, key: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix="trainyard-put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self.put_file(key, tmp)
        finally:
            os.unlink(tmp)

    def copy(self, source_key: str, target_key: str) -> None:
        body = {"source": safe_name(source_key), "target": safe_name(target_key)}
        self.client.call(routes.COPY_ARTIFACT, json=body)

    def append(self, key: str, data: bytes, *, at: int | None = None) -> int:
        key = safe_name(key)
        size = 0
        for start in range(0, max(len(data), 1), CHUNK):  # an empty append still creates the file
            params = {"key": key, "offset": at}  # with an offset, each piece's retry is safe
            piece = data[start : start + CHUNK]
            size = int(self.client.call(routes.APPEND_ARTIFACT, content=piece, params=params)["size"])
            at = None if at is None else size
        return size

    def read(self, key: str, offset: int = 0) -> Iterator[bytes]:
        if offset < 0:
            raise InvalidInputError(f"read offset {offset} is negative; offsets count bytes from 0")
        return self.client.read_from(routes.DOWNLOAD_ARTIFACT.at(key=safe_name(key)), offset)

    def open(self, key: str) -> BinaryIO:
        chunks = self.read(key)
        first = next(chunks, b"")  # a missing key fails here, as the interface says, not at the first read
        return cast(BinaryIO, io.BufferedReader(_ChunkStream(first, chunks), CHUNK))

    def download(self, key: str, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        self.client.download(routes.DOWNLOAD_ARTIFACT.at(key=safe_name(key)), dest)
        return dest

    def _info(self, key: str) -> dict[str, Any]:
        info: dict[str, Any] = self.client.call(routes.ARTIFACT_INFO, params={"key": safe_name(key)})
        return info

    def size(self, key: str) -> int:
        info = self._info(key)
        if not info["is_file"]:
            raise NotFoundError(f"no artifact file {key!r}")
        return int(info["size"])

    def exists(self, key: str) -> bool:
        return bool(self._info(key)["exists"])

    def is_file(self, key: str) -> bool:
        return bool(self._info(key)["is_file"])

    def list(self, prefix: str) -> list[str]:
        return list(self.client.call(routes.LIST_ARTIFACTS, params={"prefix": safe_name(prefix)})["files"])

    def delete(self, prefix: str) -> None:
        self.client.call(routes.DELETE_ARTIFACTS.at(key=safe_name(prefix)))


class _ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks (``open`` wraps it in a buffer)."""

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        self._pending = memoryview(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            block = next(self._rest, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        close = getattr(self._rest, "close", None)  # a generator: closes its HTTP response
        if close is not None:
            close()
        super().close()
