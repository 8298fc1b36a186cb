"""``HttpArtifactStore``: the artifacts of a server workspace, through its REST API.

The same methods as ``ArtifactStore``; files move in chunks both ways (never whole in memory)
and downloads land through a temporary file renamed into place. Keys are checked here with
``safe_name`` too, so a bad name fails before any request; the server checks them again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from trainyard.api import routes
from trainyard.api.client import ServerClient
from trainyard.artifacts.paths import safe_name
from trainyard.artifacts.store import upload_tree


class HttpArtifactStore:
    is_local = False

    def __init__(self, url: str) -> None:
        self.client = ServerClient(url)
        self.root = self.client.url

    def __repr__(self) -> str:
        return f"HttpArtifactStore({self.root!r})"

    def local_path(self, key: str) -> Path | None:
        """Files of a server workspace are never on this machine's disk."""
        return None

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

    def download(self, key: str, dest: str | os.PathLike[str]) -> Path:
        dest = Path(dest)
        self.client.download(routes.DOWNLOAD_ARTIFACT.at(key=safe_name(key)), dest)
        return dest

    def get_bytes(self, key: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="trainyard-get-") as folder:
            return self.download(key, Path(folder) / "file").read_bytes()

    def _info(self, key: str) -> dict[str, bool]:
        return self.client.call(routes.ARTIFACT_INFO, params={"key": safe_name(key)})

    def exists(self, key: str) -> bool:
        return bool(self._info(key)["exists"])

    def is_file(self, key: str) -> bool:
        return bool(self._info(key)["is_file"])

    def list(self, prefix: str) -> list[str]:
        return list(self.client.call(routes.LIST_ARTIFACTS, params={"prefix": safe_name(prefix)})["files"])

    def delete(self, prefix: str) -> None:
        self.client.call(routes.DELETE_ARTIFACTS.at(key=safe_name(prefix)))

    def copy_tree_in(self, prefix: str, source: Path) -> list[str]:
        return upload_tree(self.put_file, prefix, source)
