"""The shipped ArtifactStore conformance suite against a local folder, an fsspec memory filesystem
(no local path: the object-store code paths) and ``HttpArtifactStore`` -> real HTTP -> server ->
a folder; and the wire details of ranged reads and appends that the suite cannot see.

One server per module on a loopback port; each test swaps a fresh workspace in behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server_helpers import threaded_server, token_for_app
from trainyard.artifacts import ArtifactStore, run_key
from trainyard.artifacts.fsspec_store import FsspecArtifactStore
from trainyard.artifacts.http import HttpArtifactStore
from trainyard.server.running import ThreadedServer
from trainyard.testing.artifact_suite import ArtifactSuite
from trainyard.workspace import Workspace


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from threaded_server(tmp_path_factory)


@pytest.fixture
def served(server: ThreadedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh workspace behind the server, and this process's token for it."""
    ws = Workspace.create(tmp_path / "served")
    server.app.state.workspace = ws
    monkeypatch.setenv("TRAINYARD_TOKEN", server.token)  # type: ignore[attr-defined]
    yield ws
    ws.close()


@pytest.fixture(params=["local", "memory", "http"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield FsspecArtifactStore(tmp_path / "artifacts")
    elif request.param == "memory":
        store = FsspecArtifactStore(f"memory://suite-{uuid.uuid4().hex}")
        yield store
        if store.fs.exists(store.root):  # the memory filesystem is the process's: leave it empty
            store.fs.rm(store.root, recursive=True)
    else:
        request.getfixturevalue("served")
        yield HttpArtifactStore(request.getfixturevalue("server").url)


class TestArtifactStores(ArtifactSuite):
    @pytest.fixture
    def run_folder(self, request: pytest.FixtureRequest, artifacts: ArtifactStore) -> str:
        """A server deletes only inside a run that exists: make one there."""
        if not isinstance(artifacts, HttpArtifactStore):
            return "runs/r"
        store = request.getfixturevalue("served").store
        return run_key(store.create_run(store.create_experiment("suite").id).id)


def _get(server: ThreadedServer, key: str, range_: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token}"}  # type: ignore[attr-defined]
    if range_ is not None:
        headers["Range"] = range_
    return httpx.get(f"{server.url}/api/v1/artifacts/{key}", headers=headers)


def test_ranged_downloads_answer_206_or_416_with_content_range(
    server: ThreadedServer, served: Workspace
) -> None:
    served.artifacts.put_bytes("runs/r/logs/std_log.txt", b"0123456789")
    whole = _get(server, "runs/r/logs/std_log.txt")
    assert (whole.status_code, whole.content) == (200, b"0123456789")
    tail = _get(server, "runs/r/logs/std_log.txt", "bytes=4-")
    assert (tail.status_code, tail.content, tail.headers["content-range"]) == (206, b"456789", "bytes 4-9/10")
    middle = _get(server, "runs/r/logs/std_log.txt", "bytes=2-4")
    assert (middle.status_code, middle.content, middle.headers["content-range"]) == (
        206,
        b"234",
        "bytes 2-4/10",
    )
    clipped = _get(server, "runs/r/logs/std_log.txt", "bytes=8-100")
    assert (clipped.content, clipped.headers["content-range"]) == (b"89", "bytes 8-9/10")
    past = _get(server, "runs/r/logs/std_log.txt", "bytes=10-")
    assert (past.status_code, past.content, past.headers["content-range"]) == (416, b"", "bytes */10")
    for ignored in ("bytes=-3", "bytes=0-1,4-5", "bytes=5-2", "lines=1-"):  # answered with the whole file
        assert _get(server, "runs/r/logs/std_log.txt", ignored).content == b"0123456789", ignored
    assert _get(server, "runs/none", "bytes=0-").status_code == 404
    assert _get(server, "..%2f..%2fetc/passwd", "bytes=0-").status_code == 400


def test_a_retried_append_at_its_offset_is_applied_once(server: ThreadedServer, served: Workspace) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}  # type: ignore[attr-defined]
    url = f"{server.url}/api/v1/artifact-append"
    key = "runs/r/logs/std_log.txt"
    for _ in range(2):  # the second is a retry whose first reply was lost
        reply = httpx.post(url, params={"key": key, "offset": 0}, content=b"once\n", headers=headers)
        assert reply.json() == {"key": key, "size": 5}
    stale = httpx.post(url, params={"key": key, "offset": 2}, content=b"x", headers=headers)
    assert stale.status_code == 400 and "is 5 bytes, not the 2" in stale.json()["message"]
    assert served.artifacts.get_bytes(key) == b"once\n"


def test_appends_need_a_contributor(server: ThreadedServer, served: Workspace) -> None:
    reader = token_for_app(server.app, role="reader", user="rita")
    reply = httpx.post(
        f"{server.url}/api/v1/artifact-append",
        params={"key": "runs/r/logs/std_log.txt"},
        content=b"x",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert reply.status_code == 403
    assert not served.artifacts.exists("runs/r/logs/std_log.txt")


def test_run_log_text_reads_from_its_offset_through_the_server(
    server: ThreadedServer, served: Workspace
) -> None:
    """What a follower of a server workspace's log gets each poll: the new bytes only, and a
    character the log's end cuts in two only once its last byte is there."""
    from trainyard.sdk.run import Run

    run = Run(
        Workspace.from_config(server.url), served.store.create_run(served.store.create_experiment("e").id).id
    )
    assert run.log_text(0) == ("", 0)  # no log yet
    log = f"runs/{run.id}/logs/std_log.txt"
    served.artifacts.append(log, "step 1 \u2713\n".encode())
    text, offset = run.log_text(0)
    assert (text, offset) == ("step 1 \u2713\n", 11)
    served.artifacts.append(log, "step 2 \u2713".encode()[:-1])  # the check mark's last byte not written yet
    assert run.log_text(offset) == ("step 2 ", 18)
    served.artifacts.append(log, "\u2713".encode()[-1:] + b"\n")
    assert run.log_text(18) == ("\u2713\n", 22)
    assert run.log_text(22) == ("", 22)
