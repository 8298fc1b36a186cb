"""Source snapshots: the job's code as it was at submit time, content-addressed.

Files are chosen with ``.gitignore`` and ``.trainyardignore`` rules (pathspec), hashed, and
stored once per content under ``snapshots/blobs``; the snapshot itself is a manifest of
``path -> sha256`` whose own hash is the snapshot id. A job runs on a copy made from it, never
in the user's folder, so editing the code after submitting cannot change a queued run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pathspec

from trainyard.artifacts import ArtifactStore
from trainyard.errors import InvalidInputError, SnapshotTooLargeError
from trainyard.hashing import sha256_file

IGNORE_FILES = (".gitignore", ".trainyardignore")
ALWAYS_IGNORED = (".git/", ".trainyard/", "__pycache__/", ".venv/")


@dataclass(frozen=True)
class Snapshot:
    id: str
    files: dict[str, str]
    size: int


def _ignore_spec(source: Path) -> pathspec.PathSpec:
    lines = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        path = source / name
        if path.is_file():
            lines.extend(path.read_text(errors="replace").splitlines())
    return pathspec.GitIgnoreSpec.from_lines(lines)


def select_files(source: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file the ignore rules keep."""
    spec = _ignore_spec(source)
    chosen: dict[str, Path] = {}
    for folder, dirs, files in os.walk(source):
        rel_dir = Path(folder).relative_to(source).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(d for d in dirs if not spec.match_file(prefix + d + "/"))
        for name in sorted(files):
            rel = prefix + name
            path = Path(folder) / name
            if spec.match_file(rel) or path.is_symlink() and not path.exists():
                continue
            chosen[rel] = path
    return chosen


def _too_large(files: dict[str, Path], sizes: dict[str, int], limit: int) -> SnapshotTooLargeError:
    biggest = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:5]
    listing = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for rel, size in biggest)
    total = sum(sizes.values())
    return SnapshotTooLargeError(
        f"the source folder holds {total / 1e6:.1f} MB in {len(files)} files, over the "
        f"{limit / 1e6:.0f} MB snapshot limit; the biggest: {listing}. Add them to .trainyardignore "
        "(or .gitignore) and pass data as job inputs instead"
    )


def take_snapshot(source: str | os.PathLike[str], artifacts: ArtifactStore, max_bytes: int) -> Snapshot:
    source = Path(source)
    if not source.is_dir():
        raise InvalidInputError(f"source directory {source} does not exist or is not a folder")
    files = select_files(source)
    sizes = {rel: path.stat().st_size for rel, path in files.items()}
    if sum(sizes.values()) > max_bytes:
        raise _too_large(files, sizes, max_bytes)
    manifest: dict[str, str] = {}
    for rel, path in files.items():
        sha = sha256_file(path)
        manifest[rel] = sha
        key = blob_key(sha)
        if not artifacts.exists(key):
            artifacts.put_file(key, path)
    body = json.dumps(manifest, sort_keys=True).encode()
    snapshot_id = hashlib.sha256(body).hexdigest()
    key = f"snapshots/{snapshot_id}.json"
    if not artifacts.exists(key):
        artifacts.put_bytes(key, body)
    return Snapshot(snapshot_id, manifest, sum(sizes.values()))


def blob_key(sha: str) -> str:
    return f"snapshots/blobs/{sha[:2]}/{sha}"


def restore_snapshot(snapshot_id: str, artifacts: ArtifactStore, dest: Path) -> int:
    """Materialise the snapshot into ``dest``; returns the number of files."""
    manifest: dict[str, str] = json.loads(artifacts.get_bytes(f"snapshots/{snapshot_id}.json"))
    for rel, sha in manifest.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        local = artifacts.local_path(blob_key(sha))
        if local is not None:
            shutil.copyfile(local, target)
        else:
            artifacts.download(blob_key(sha), target)
    return len(manifest)
