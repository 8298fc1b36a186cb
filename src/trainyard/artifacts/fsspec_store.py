"""``FsspecArtifactStore``: the artifact store over fsspec (a local folder by default).

Every key is checked by ``safe_name`` before it reaches the filesystem, and for local roots the
resolved path must stay inside the root, so a symlink in the store cannot lead out either.
Writes go to a temporary name first and are renamed into place, so a crash mid-upload leaves no
half-written artifact behind. Appends to a local file are one ``write`` under an exclusive
``flock``; elsewhere (object stores have no append) the file is rewritten whole, atomically, with
appends serialised within this process.

An object store that cannot be reached (down, a refused connection, a timeout) raises
``ArtifactStoreUnreachable`` from every method, a server answers 503 and clients retry; fsspec's
own ``exists``/``isfile``/``isdir`` would say False instead, so a store that is down would look
empty: this class asks ``info`` and only a ``FileNotFoundError`` means missing.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import fsspec
from fsspec.implementations.local import LocalFileSystem

from trainyard.artifacts.base import ArtifactStore, ArtifactStoreUnreachable
from trainyard.artifacts.paths import safe_name
from trainyard.errors import ArtifactPathError, InvalidInputError, NotFoundError
from trainyard.limits import TEMP_MARK

CHUNK = 1024 * 1024
# What fsspec backends raise when the store cannot be reached (botocore, aiohttp, urllib3, requests),
# by class name so that none of them is imported here.
UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ClientConnectionError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "NewConnectionError",
        "ConnectionError",
    }
)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store could not be reached (rather than what was asked of it)."""
    return isinstance(exc, ConnectionError | TimeoutError) or any(
        c.__name__ in UNREACHABLE for c in type(exc).__mro__
    )


class _Reaching:
    """A filesystem whose calls raise ``ArtifactStoreUnreachable`` when the backend is not there."""

    def __init__(self, fs: Any, root: str) -> None:
        self._fs, self._root = fs, root

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._fs, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except Exception as exc:
                if unreachable(exc):
                    raise ArtifactStoreUnreachable(
                        f"the artifact store {self._root} cannot be reached ({exc}); retry shortly"
                    ) from exc
                raise

        return call


class FsspecArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> None:
        """``storage_options`` go to the fsspec backend (a datastore's credentials and endpoint)."""
        fs, path = fsspec.core.url_to_fs(str(root), **(storage_options or {}))
        self.is_local = isinstance(fs, LocalFileSystem)
        self.root = str(Path(path).resolve()) if self.is_local else path.rstrip("/")
        self.fs = fs if self.is_local else _Reaching(fs, str(root))
        self._append_lock = threading.Lock()
        if self.is_local:
            os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.root!r})"

    def _path(self, key: str) -> str:
        full = f"{self.root}/{safe_name(key)}"
        if self.is_local:
            resolved = os.path.realpath(full)
            if os.path.commonpath([resolved, self.root]) != self.root:
                raise ArtifactPathError(f"artifact {key!r} resolves outside the artifact store")
        return full

    def _kind(self, path: str) -> str | None:
        """``"file"``, ``"directory"`` or None (nothing there); unreachable: raises, not None."""
        if self.is_local:
            return "file" if os.path.isfile(path) else "directory" if os.path.isdir(path) else None
        try:
            return str(self.fs.info(path)["type"])
        except FileNotFoundError:
            return None

    def _file(self, key: str) -> str:
        """The path of the file ``key``, or ``NotFoundError``."""
        path = self._path(key)
        if self._kind(path) != "file":
            raise NotFoundError(f"no artifact file {key!r}")
        return path

    def _writable(self, key: str) -> str:
        path = self._path(key)
        if self._kind(path) == "directory":
            raise InvalidInputError(f"artifact {key!r} is a folder; write files below it")
        return path

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return Path(path) if self.is_local else None

    def _write_atomically(self, key: str, write: Callable[[str], None]) -> None:
        """``write(tmp)`` then rename into place: a crash or a full disk leaves no partial file."""
        target = self._writable(key)
        tmp = f"{target}{TEMP_MARK}{uuid.uuid4().hex}"
        self.fs.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            write(tmp)
            self.fs.mv(tmp, target)
        except BaseException:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
            raise

    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        self._write_atomically(key, lambda tmp: self.fs.put_file(os.fspath(source), tmp))

    def put_bytes(self, key: str, data: bytes) -> None:
        self._write_atomically(key, lambda tmp: self.fs.pipe_file(tmp, data))

    def copy(self, source_key: str, target_key: str) -> None:
        source = self._file(source_key)
        self._write_atomically(target_key, lambda tmp: self.fs.copy(source, tmp))

    def append(self, key: str, data: bytes, *, at: int | None = None) -> int:
        path = self._writable(key)
        if not self.is_local:
            with self._append_lock:
                old = self.fs.cat_file(path) if self._kind(path) == "file" else b""
                if already_appended(key, len(old), at, data, lambda: old[at or 0 :]):
                    return len(old)
                self.put_bytes(key, old + data)
                return len(old) + len(data)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # other appenders, in any process, wait their turn
            size = os.fstat(fd).st_size
            if already_appended(key, size, at, data, lambda: os.pread(fd, len(data), at or 0)):
                return size
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return os.fstat(fd).st_size
        finally:
            os.close(fd)  # releases the lock

    def read(self, key: str, offset: int = 0) -> Iterator[bytes]:
        if offset < 0:
            raise InvalidInputError(f"read offset {offset} is negative; offsets count bytes from 0")
        fh = self.open(key)  # before the first chunk is asked for: a missing key fails at once

        def chunks() -> Iterator[bytes]:
            with fh:
                fh.seek(offset)
                while block := fh.read(CHUNK):
                    yield block

        return chunks()

    def open(self, key: str) -> BinaryIO:
        try:
            return cast(BinaryIO, self.fs.open(self._file(key), "rb"))
        except (FileNotFoundError, IsADirectoryError):  # deleted since the check
            raise NotFoundError(f"no artifact file {key!r}") from None

    def download(self, key: str, dest: str | os.PathLike[str]) -> Path:
        source = self._file(key)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fs.get_file(source, str(dest))
        except FileNotFoundError:
            raise NotFoundError(f"no artifact file {key!r}") from None
        return dest

    def size(self, key: str) -> int:
        return int(self.fs.size(self._file(key)))

    def exists(self, key: str) -> bool:
        return self._kind(self._path(key)) is not None

    def is_file(self, key: str) -> bool:
        return self._kind(self._path(key)) == "file"

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if self._kind(base) != "directory":
            return []
        found = []
        for path in self.fs.find(base):
            rel = os.path.relpath(path, base) if self.is_local else path[len(base) :].lstrip("/")
            if TEMP_MARK not in rel.rsplit("/", 1)[-1]:
                found.append(rel.replace(os.sep, "/"))
        return sorted(found)

    def delete(self, prefix: str) -> None:
        path = self._path(prefix)
        if self._kind(path) is not None:
            self.fs.rm(path, recursive=True)


def already_appended(key: str, size: int, at: int | None, data: bytes, written: Callable[[], bytes]) -> bool:
    """For a conditional append: whether ``data`` is already at ``at`` (a retry whose first try
    landed); False when the append should go ahead; ``InvalidInputError`` for any other size."""
    if at is None or size == at:
        return False
    if data and size == at + len(data) and written() == data:
        return True
    raise InvalidInputError(
        f"artifact {key!r} is {size} bytes, not the {at} the append was for: another writer "
        "appended to it, or an earlier append was lost; read its size and append from there"
    )
