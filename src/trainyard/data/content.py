"""Content hashes of a data version: one digest over every file's relative path and bytes.

The same digest is computed from local files (at create, and for a reference at read) and from
the artifact store's copy (at read), so a file changed anywhere shows as a different hash.
"""

from __future__ import annotations

import hashlib
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


def of_stored(artifacts: ArtifactStore, prefix: str) -> Content:
    names = artifacts.list(prefix)
    if not names:
        raise NotFoundError(f"the files of {prefix!r} are missing from the artifact store")
    return _digest((name, artifacts.read(join(prefix, name))) for name in names)
