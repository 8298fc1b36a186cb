"""Content hashes of a data version: one digest over every file's relative path and bytes.

The same digest is computed from local files (at create, and for a reference at read) and from
the artifact store's copy (at read), so a file changed anywhere shows as a different hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trainyard.artifacts.base import ArtifactStore
from trainyard.artifacts.paths import join
from trainyard.errors import NotFoundError

CHUNK = 1 << 20


@dataclass(frozen=True)
class Content:
    digest: str
    size_bytes: int
    file_count: int


def _digest(files: Iterable[tuple[str, Iterable[bytes]]]) -> Content:
    """Sorted by name: the manifest ``name\\0sha256\\n`` per file, hashed."""
    whole = hashlib.sha256()
    size = count = 0
    for name, chunks in files:
        one = hashlib.sha256()
        for chunk in chunks:
            one.update(chunk)
            size += len(chunk)
        whole.update(f"{name}\0{one.hexdigest()}\n".encode())
        count += 1
    return Content(whole.hexdigest(), size, count)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(CHUNK), b"")


def local_files(path: Path) -> list[tuple[str, Path]]:
    """A file as its own name, a folder as every file below it (symlinks left out), sorted."""
    if path.is_file():
        return [(path.name, path)]
    found = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted((p.relative_to(path).as_posix(), p) for p in found)


def of_local(files: list[tuple[str, Path]]) -> Content:
    return _digest((name, _chunks(p)) for name, p in files)


def stored_files(artifacts: ArtifactStore, prefix: str) -> list[tuple[str, str]]:
    """(relative name, key) of every file under the folder ``prefix``, or the file ``prefix`` as its
    own name (as ``local_files`` names them), sorted; ``NotFoundError`` if there is nothing there."""
    names = artifacts.list(prefix)
    if names:
        return [(name, join(prefix, name)) for name in names]
    if artifacts.is_file(prefix):
        return [(prefix.rsplit("/", 1)[-1], prefix)]
    raise NotFoundError(f"the files of {prefix!r} are missing from the artifact store")


def of_stored(artifacts: ArtifactStore, prefix: str) -> Content:
    """The content of ``stored_files(artifacts, prefix)``, streamed: nothing is written to disk."""
    return _digest((name, artifacts.read(key)) for name, key in stored_files(artifacts, prefix))


def stat_manifest(files: list[tuple[str, Path]]) -> dict[str, list[int]]:
    """Each file's size, mtime and ctime (ns): any write to a file changes its ctime, and the
    ctime cannot be set back, so an unchanged manifest means the bytes were not rewritten."""
    out = {}
    for name, path in files:
        st = path.stat()
        out[name] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    return out


class VerifiedCache:
    """The stat manifests of data versions whose local files last matched their hash, per machine.

    A later read whose files have the same manifest skips hashing every byte again (what git's
    index does for the working tree); any change to a file, or a file added or removed, makes
    the read hash the whole version again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, digest: str, root: Path) -> Path:
        key = hashlib.sha256(f"{digest}\0{root}".encode()).hexdigest()[:32]
        return self.folder / f"{key}.json"

    def holds(self, digest: str, root: Path, manifest: dict[str, list[int]]) -> bool:
        try:
            return bool(json.loads(self._file(digest, root).read_text()) == manifest)
        except (OSError, ValueError):
            return False

    def remember(self, digest: str, root: Path, manifest: dict[str, list[int]]) -> None:
        """Keep ``manifest``, taken BEFORE the hash that matched: a write during the hash changes it."""
        target = self._file(digest, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, target)
