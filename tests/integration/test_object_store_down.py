"""RELIABILITY row 26, object store down: a server whose artifacts are in an S3-compatible store on
127.0.0.1 (moto's real server, through s3fs) that stops mid-upload answers 503 saying the store
cannot be reached, records no phantom artifact or model version, and a retry once it is back
succeeds, including a client's own retries that straddle the restart.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.object_store import ObjectStore
from tests.integration.server_helpers import token_for_app
from trainyard.api.errors import ServerUnavailableError
from trainyard.artifacts import run_key
from trainyard.artifacts.http import HttpArtifactStore
from trainyard.registry import Model
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace

MB = 1024 * 1024


@pytest.fixture
def served(
    s3: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Workspace]]:
    ws = Workspace.create(tmp_path / "served", artifacts=f"s3://{s3.bucket}/artifacts")
    with ThreadedServer(create_app(ws)) as running:
        monkeypatch.setenv("TRAINYARD_TOKEN", token_for_app(running.app, "contributor"))
        monkeypatch.setenv("TRAINYARD_RETRY_SECONDS", "1")  # a client gives up quickly unless a test says
        yield running.url, ws
    ws.close()


def test_the_store_going_down_mid_upload_is_a_503_leaves_nothing_and_a_retry_after_it_is_back_works(
    s3: ObjectStore, served: tuple[str, Workspace], tmp_path: Path
) -> None:
    url, ws = served
    headers = {"Authorization": f"Bearer {os.environ['TRAINYARD_TOKEN']}"}
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    client = HttpArtifactStore(url)
    client.put_bytes(run_key(run.id, "outputs/first.bin"), b"first")
    payload = os.urandom(3 * MB)
    key = run_key(run.id, "outputs/model.bin")

    def body() -> Iterator[bytes]:
        yield payload[:MB]
        s3.stop()  # the object store goes away while the upload is on the wire
        yield payload[MB:]

    reply = httpx.put(f"{url}/api/v1/artifacts/{key}", content=body(), headers=headers, timeout=60)
    assert reply.status_code == 503, reply.text
    assert reply.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "cannot be reached" in reply.json()["message"]
    down = httpx.get(f"{url}/api/v1/artifacts/{run_key(run.id, 'outputs/first.bin')}", headers=headers)
    assert down.status_code == 503, down.text  # not a 404: the file is there, the store is not

    # a registration while it is down fails whole: no version row without its files
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"w" * 1000)
    (folder / "MLmodel").write_text("flavors: {}\n")
    client_ws = Workspace.from_config(url)
    with pytest.raises(ServerUnavailableError, match="cannot be reached"):
        Model.register(client_ws, folder, "churn")
    assert ws.store.list_models() == []

    s3.start()
    assert ws.artifacts.list(run_key(run.id)) == ["outputs/first.bin"]  # no phantom, no temporary name
    client.put_bytes(key, payload)  # the same upload, retried
    assert ws.artifacts.get_bytes(key) == payload
    model = Model.register(client_ws, folder, "churn")
    assert model.version == 1 and sorted(model.file_names) == ["MLmodel", "weights.bin"]
    assert ws.artifacts.list(run_key(run.id)) == ["outputs/first.bin", "outputs/model.bin"]


def test_a_clients_retries_ride_out_a_short_object_store_outage(
    s3: ObjectStore, served: tuple[str, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ws = served
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    monkeypatch.setenv("TRAINYARD_RETRY_SECONDS", "60")
    client = HttpArtifactStore(url)
    s3.stop()
    back = threading.Thread(target=lambda: (time.sleep(1.5), s3.start()))
    back.start()
    try:
        client.put_bytes(run_key(run.id, "outputs/a.bin"), b"a")  # 503s, retried, then stored
    finally:
        back.join()
    assert ws.artifacts.get_bytes(run_key(run.id, "outputs/a.bin")) == b"a"
