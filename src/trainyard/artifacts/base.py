"""``ArtifactStore``: the interface every reader and writer of run files, logs and snapshots uses.

A key is a relative, ``/``-separated name such as ``runs/<id>/outputs/model.pkl``; every method
refuses a key ``safe_name`` refuses with ``ArtifactPathError`` before touching anything. Files
are written whole (a reader sees the old file or the new one, never a part) except through
``append``, which only ever adds bytes at the end. Implementations: ``FsspecArtifactStore``
(a local folder or any fsspec URL) and ``HttpArtifactStore`` (a server workspace); both pass
``trainyard.testing.artifact_suite.ArtifactSuite``. Callers type against this class only, and
use ``local_path`` as a fast path, never to decide whether something works.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from trainyard.artifacts.paths import join, safe_name
from trainyard.errors import WorkspaceError


class ArtifactStoreUnreachable(WorkspaceError):
    """The artifact store (an object store, a server) cannot be reached now; retrying may work."""


class ArtifactStore(ABC):
    """Files by key. Methods are safe to call from several threads at once.

    (``list`` comes last: a method of that name shadows the builtin in the annotations below it.)
    """

    root: str
    """Where the files are (a folder, an fsspec URL's path or a server's URL), for messages."""

    @abstractmethod
    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        """Store the local file ``source`` as ``key``, replacing any file there, atomically.

        Raises ``InvalidInputError`` when ``key`` is a folder (it has files below it).
        """

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` as ``key``, like ``put_file``."""

    @abstractmethod
    def copy(self, source_key: str, target_key: str) -> None:
        """Copy the file ``source_key`` to ``target_key`` (replacing it, atomically).

        Raises ``NotFoundError`` when ``source_key`` is not a file, ``InvalidInputError`` when
        ``target_key`` is a folder.
        """

    @abstractmethod
    def append(self, key: str, data: bytes, *, at: int | None = None) -> int:
        """Add ``data`` at the end of the file ``key``, creating it when missing; its new size.

        For logs: a reader at any moment sees a prefix of the file as the appends made it, never
        bytes out of order or a later append without an earlier one. Concurrent appends to one key
        each land whole, in some order. With ``at`` (the size the caller knows the file has) the
        append is conditional, so a retry is safe: when the file already holds ``data`` at ``at``
        it is left as it is (the append had landed), and any other size raises
        ``InvalidInputError`` naming it. Raises ``InvalidInputError`` when ``key`` is a folder.
        """

    @abstractmethod
    def read(self, key: str, offset: int = 0) -> Iterator[bytes]:
        """The file ``key`` from byte ``offset`` to its current end, in chunks, fetched as they go.

        Only the bytes after ``offset`` are transferred: a log's reader passes the offset it got to
        last time. An offset at or past the end yields nothing. Raises ``NotFoundError`` when
        ``key`` is not a file (when the iteration starts), ``InvalidInputError`` for a negative offset.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The file ``key`` for reading in chunks (``with store.open(key) as fh: fh.read(n)``).

        Raises ``NotFoundError`` when ``key`` is not a file.
        """

    def get_bytes(self, key: str) -> bytes:
        """The whole file ``key``. Raises ``NotFoundError`` when ``key`` is not a file."""
        return b"".join(self.read(key))

    @abstractmethod
    def download(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Copy the file ``key`` to the local path ``dest`` (folders made); returns ``dest``.

        Raises ``NotFoundError`` when ``key`` is not a file; nothing is left at ``dest`` then.
        """

    @abstractmethod
    def size(self, key: str) -> int:
        """The size in bytes of the file ``key``. Raises ``NotFoundError`` when it is not a file."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is a file or a folder with files below it."""

    @abstractmethod
    def is_file(self, key: str) -> bool:
        """Whether ``key`` is a file."""

    def copy_tree_in(self, prefix: str, source: Path) -> list[str]:
        """Store every file below the local folder ``source`` under ``prefix`` (symlinks left out).

        Returns the keys written. Raises ``ArtifactPathError`` for a file name no key may have.
        """
        prefix = safe_name(prefix)
        keys = []
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
            key = join(prefix, safe_name(path.relative_to(source).as_posix()))
            self.put_file(key, path)
            keys.append(key)
        return keys

    def local_path(self, key: str) -> Path | None:
        """Where ``key`` is on this machine's disk, or None when the files are elsewhere.

        Only a fast path: everything it allows can be done through the other methods too. The
        path may not exist yet. Raises ``ArtifactPathError`` for a bad key.
        """
        safe_name(key)
        return None

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Every file below the folder ``prefix``, as keys relative to it, sorted.

        A missing prefix, or a file, lists nothing. Files being written are never listed.
        """

    @abstractmethod
    def delete(self, prefix: str) -> None:
        """Remove the file ``prefix``, or every file below the folder ``prefix``; nothing if missing."""
