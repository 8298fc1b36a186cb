"""``ArtifactStore``: files of runs and snapshots, over fsspec (a local folder by default).

Every key is checked by ``safe_name`` before it reaches the filesystem, and for local roots the
resolved path must stay inside the root, so a symlink in the store cannot lead out either.
Writes go to a temporary name first and are renamed into place, so a crash mid-upload leaves no
half-written artifact behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from trainyard.artifacts.paths import join, safe_name
from trainyard.errors import ArtifactPathError, NotFoundError


class ArtifactStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        root = str(root)
        self.fs, path = fsspec.core.url_to_fs(root)
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.root = str(Path(path).resolve()) if self.is_local else path.rstrip("/")
        if self.is_local:
            os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.root!r})"

    def _path(self, key: str) -> str:
        full = f"{self.root}/{key}"
        if self.is_local:
            resolved = os.path.realpath(full)
            if os.path.commonpath([resolved, self.root]) != self.root:
                raise ArtifactPathError(f"artifact {key!r} resolves outside the artifact store")
        return full

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, when the store is local."""
        return Path(self._path(key)) if self.is_local else None

    def _write_atomically(self, key: str, write: Callable[[str], None]) -> None:
        """``write(tmp)`` then rename into place: a crash or a full disk leaves no partial file."""
        target = self._path(key)
        tmp = f"{target}.tmp-{uuid.uuid4().hex}"
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
        """Copy one stored file to another key (atomically, like every write)."""
        source = self._path(source_key)
        if not self.fs.exists(source):
            raise NotFoundError(f"no artifact {source_key!r}")
        self._write_atomically(target_key, lambda tmp: self.fs.copy(source, tmp))

    def open(self, key: str) -> BinaryIO:
        """The file for reading in chunks (what the server streams from)."""
        try:
            return self.fs.open(self._path(key), "rb")
        except FileNotFoundError:
            raise NotFoundError(f"no artifact {key!r}") from None

    def get_bytes(self, key: str) -> bytes:
        try:
            with self.fs.open(self._path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise NotFoundError(f"no artifact {key!r}") from None

    def download(self, key: str, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fs.get_file(self._path(key), str(dest))
        except FileNotFoundError:
            raise NotFoundError(f"no artifact {key!r}") from None
        return dest

    def exists(self, key: str) -> bool:
        return self.fs.exists(self._path(key))

    def is_file(self, key: str) -> bool:
        return self.fs.isfile(self._path(key))

    def list(self, prefix: str) -> list[str]:
        """Every file below ``prefix``, as keys relative to it, sorted; temp files left out."""
        base = self._path(prefix)
        if not self.fs.exists(base):
            return []
        found = []
        for path in self.fs.find(base):
            rel = os.path.relpath(path, base) if self.is_local else path[len(base) :].lstrip("/")
            if ".tmp-" not in rel.rsplit("/", 1)[-1]:
                found.append(rel.replace(os.sep, "/"))
        return sorted(found)

    def delete(self, prefix: str) -> None:
        path = self._path(prefix)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def copy_tree_in(self, prefix: str, source: Path) -> list[str]:
        return upload_tree(self.put_file, prefix, source)


def upload_tree(put_file: Callable[[str, Path], None], prefix: str, source: Path) -> list[str]:
    """Upload every file below ``source`` under ``prefix`` (symlinks left out); returns the keys."""
    keys = []
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
        key = join(prefix, safe_name(path.relative_to(source).as_posix()))
        put_file(key, path)
        keys.append(key)
    return keys


def run_key(run_id: str, name: str = "") -> str:
    """Where a run's file lives in the store; ``name`` is validated."""
    return join("runs", run_id, safe_name(name)) if name else join("runs", run_id)
