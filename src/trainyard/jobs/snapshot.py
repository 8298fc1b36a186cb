"""Source snapshots: the job's code as it was at submit time, content-addressed.

Files are chosen by the ignore rules of ``jobs/ignore.py`` (``.amlignore`` or ``.gitignore``,
and ``.trainyardignore``, in every folder), hashed, and stored once per content under
``snapshots/blobs``; the snapshot itself is a manifest of ``path -> sha256`` whose own hash is
the snapshot id. A job runs on a copy made from it, never in the user's folder, so editing the
code after submitting cannot change a queued run. The same store holds the local inputs a job
sends to remote compute (``jobs/uploads.py``): a manifest of their files, sharing the blobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from trainyard.artifacts import ArtifactStore
from trainyard.errors import InvalidInputError, NotFoundError, SnapshotTooLargeError
from trainyard.hashing import sha256_file
from trainyard.jobs.ignore import select_files

SNAPSHOT_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Snapshot:
    id: str
    files: dict[str, str]
    size: int


def _too_large(files: dict[str, Path], sizes: dict[str, int], limit: int) -> SnapshotTooLargeError:
    biggest = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:5]
    listing = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for rel, size in biggest)
    total = sum(sizes.values())
    return SnapshotTooLargeError(
        f"the source folder holds {total / 1e6:.1f} MB in {len(files)} files, over the "
        f"{limit / 1e6:.0f} MB snapshot limit; the biggest: {listing}. Add them to .amlignore, "
        ".trainyardignore or .gitignore and pass data as job inputs instead"
    )


def take_snapshot(source: str | os.PathLike[str], artifacts: ArtifactStore, max_bytes: int) -> Snapshot:
    source = Path(source)
    if not source.is_dir():
        raise InvalidInputError(f"source directory {source} does not exist or is not a folder")
    files = select_files(source)
    sizes = {rel: path.stat().st_size for rel, path in files.items()}
    if sum(sizes.values()) > max_bytes:
        raise _too_large(files, sizes, max_bytes)
    return store_files(files, artifacts)


def store_files(files: dict[str, Path], artifacts: ArtifactStore) -> Snapshot:
    """Store ``files`` (relative POSIX path -> file) as a snapshot. A blob already stored is not
    sent again, and when the whole manifest is there (the same files as before) nothing is."""
    manifest = {rel: sha256_file(path) for rel, path in sorted(files.items())}
    body = json.dumps(manifest, sort_keys=True).encode()
    snapshot_id = hashlib.sha256(body).hexdigest()
    size = sum(path.stat().st_size for path in files.values())
    key = _manifest_key(snapshot_id)
    if artifacts.exists(key):  # written after its blobs: they are all there
        return Snapshot(snapshot_id, manifest, size)
    for rel, sha in manifest.items():
        if not artifacts.exists(blob_key(sha)):
            artifacts.put_file(blob_key(sha), files[rel])
    artifacts.put_bytes(key, body)
    return Snapshot(snapshot_id, manifest, size)


def blob_key(sha: str) -> str:
    return f"snapshots/blobs/{sha[:2]}/{sha}"


def _manifest_key(snapshot_id: str) -> str:
    if not SNAPSHOT_ID.fullmatch(snapshot_id):
        raise InvalidInputError(f"{snapshot_id!r} is not a snapshot id (64 hexadecimal digits)")
    return f"snapshots/{snapshot_id}.json"


def read_manifest(snapshot_id: str, artifacts: ArtifactStore) -> dict[str, str]:
    """The snapshot's ``path -> sha256``; ``NotFoundError`` when the workspace does not hold it."""
    try:
        manifest: dict[str, str] = json.loads(artifacts.get_bytes(_manifest_key(snapshot_id)))
    except NotFoundError:
        raise NotFoundError(f"snapshot {snapshot_id} is not in the workspace's artifacts") from None
    outside = [rel for rel in manifest if rel.startswith("/") or ".." in rel.split("/")]
    if outside:  # written by a client, restored on other machines: it stays in its folder
        raise InvalidInputError(f"snapshot {snapshot_id} names files outside its folder: {outside[:3]}")
    return manifest


def restore_snapshot(
    snapshot_id: str, artifacts: ArtifactStore, dest: Path, *, overwrite: bool = True
) -> int:
    """Materialise the snapshot into ``dest``; returns the number of files. Without
    ``overwrite``, a file in ``dest`` that differs from the snapshot's is refused, before any is written."""
    manifest = read_manifest(snapshot_id, artifacts)
    if not overwrite:
        _refuse_overwrite(manifest, dest)
    for rel, sha in manifest.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        local = artifacts.local_path(blob_key(sha))
        if local is not None:
            shutil.copyfile(local, target)
        else:
            artifacts.download(blob_key(sha), target)
    return len(manifest)


def _refuse_overwrite(manifest: dict[str, str], dest: Path) -> None:
    clash = [
        rel
        for rel, sha in manifest.items()
        if (dest / rel).exists() and not ((dest / rel).is_file() and sha256_file(dest / rel) == sha)
    ]
    if clash:
        listing = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise InvalidInputError(
            f"{dest} already holds other versions of the snapshot's files ({listing}); "
            "restore into an empty folder instead"
        )


def snapshot_zip(snapshot_id: str, artifacts: ArtifactStore, target: Path) -> Path:
    """Write the snapshot as the ZIP file ``target`` (through a temporary file renamed into place)."""
    manifest = read_manifest(snapshot_id, artifacts)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, sha in manifest.items():
                with artifacts.open(blob_key(sha)) as src, archive.open(rel, "w", force_zip64=True) as out:
                    shutil.copyfileobj(src, out)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
