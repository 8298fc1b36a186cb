"""RELIABILITY row 26, disk full: an upload or a metric batch that fails for lack of space leaves no
partial or phantom artifact and no partial batch, answers 507/503 with a message that says so,
and succeeds when retried after space is freed.

The small disk is a real 4 MB tmpfs (mounting needs root; skipped otherwise); the file size limit
(``RLIMIT_FSIZE`` through ``prlimit``, EFBIG instead of ENOSPC) needs nothing special.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server_helpers import ServerProcess, token_for_app
from trainyard.api.errors import ServerError
from trainyard.artifacts import run_key
from trainyard.artifacts.http import HttpArtifactStore
from trainyard.limits import TEMP_MARK
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.store.server import server_part
from trainyard.workspace import Workspace

MB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.fixture
def served(small_disk: Path) -> Iterator[tuple[str, dict[str, str], Workspace]]:
    """A server whose workspace (SQLite store and artifacts) lives on the small disk."""
    ws = Workspace.create(small_disk / "ws")
    with ThreadedServer(create_app(ws)) as running:
        headers = {"Authorization": f"Bearer {token_for_app(running.app, 'contributor')}"}
        yield running.url, headers, ws
    ws.close()


def _fill(disk: Path, leave: int) -> Path:
    """A file taking all of ``disk``'s free space but ``leave`` bytes."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):  # ENOSPC: as full as it gets
        fh.write(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))
    return filler


def _temporaries(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if TEMP_MARK in p.name]


def test_an_upload_to_a_full_disk_is_a_507_leaves_nothing_and_a_retry_after_freeing_space_works(
    served: tuple[str, dict[str, str], Workspace], small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, headers, ws = served
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    key = run_key(run.id, "outputs/model.bin")
    payload = os.urandom(MB)
    filler = _fill(small_disk, leave=200 * 1024)
    reply = httpx.put(f"{url}/api/v1/artifacts/{key}", content=payload, headers=headers)
    assert reply.status_code == 507, reply.text
    assert reply.json()["error_code"] == "INSUFFICIENT_STORAGE"
    assert "out of disk space" in reply.json()["message"]
    assert not ws.artifacts.exists(key) and ws.artifacts.list(run_key(run.id)) == []  # no phantom
    assert _temporaries(small_disk / "ws") == []  # and no half-written temporary file

    monkeypatch.setenv("TRAINYARD_TOKEN", headers["Authorization"].removeprefix("Bearer "))
    client = HttpArtifactStore(url)  # a client is told, and does not retry what retrying cannot fix
    with pytest.raises(ServerError, match="out of disk space"):
        client.put_bytes(key, payload)

    filler.unlink()
    client.put_bytes(key, payload)  # the same upload, retried once there is room
    assert ws.artifacts.get_bytes(key) == payload and ws.artifacts.list(run_key(run.id)) == [
        "outputs/model.bin"
    ]


def test_a_metric_batch_on_a_full_disk_fails_whole_and_a_retry_after_freeing_space_stores_it_once(
    served: tuple[str, dict[str, str], Workspace], small_disk: Path
) -> None:
    url, headers, ws = served
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    batch = {"metrics": [{"key": f"m{i % 10}", "value": i, "step": i, "timestamp": 1} for i in range(1000)]}
    filler = _fill(small_disk, leave=0)
    reply = httpx.post(f"{url}/api/v1/runs/{run.id}/batch", json=batch, headers=headers)
    assert reply.status_code in (503, 507), reply.text  # the store refused: retry, or free space first
    assert set(reply.json()) == {"error_code", "message"} and "Traceback" not in reply.text
    filler.unlink()
    assert ws.store.get_metric_history(run.id) == []  # rolled back whole
    retried = httpx.post(f"{url}/api/v1/runs/{run.id}/batch", json=batch, headers=headers)
    assert retried.status_code == 200, retried.text
    assert len(ws.store.get_metric_history(run.id)) == 1000


def test_an_upload_over_the_file_size_limit_is_a_507_and_the_server_keeps_serving(tmp_path: Path) -> None:
    """``RLIMIT_FSIZE`` (EFBIG, like a quota): what a non-root test can do to the disk."""
    server = ServerProcess(tmp_path / "served")
    server.args = ["prlimit", f"--fsize={8 * MB}", *server.args]
    ws = Workspace.create(tmp_path / "served")  # the same folder the server serves: for its users
    auth = server_part(ws.store)
    auth.add_user("carl", "contributor")
    headers = {"Authorization": f"Bearer {auth.create_token('carl')[0]}"}
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    server.start()
    try:
        big = httpx.put(
            f"{server.url}/api/v1/artifacts/runs/{run.id}/big.bin", content=b"x" * (9 * MB), headers=headers
        )
        assert big.status_code == 507 and "out of disk space" in big.json()["message"], big.text
        assert ws.artifacts.list(run_key(run.id)) == [] and _temporaries(tmp_path / "served") == []
        small = httpx.put(
            f"{server.url}/api/v1/artifacts/runs/{run.id}/small.bin", content=b"x", headers=headers
        )
        assert small.status_code == 200 and ws.artifacts.list(run_key(run.id)) == ["small.bin"]
    finally:
        server.stop()
        ws.close()
