"""Endpoints of a server workspace live on the server: made by one client, scored by every client at
the URI each is shown, serving while the server is down, adopted again when it comes back (what
died meanwhile started again), stopped on delete."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import trainyard as ty
from tests.integration.scoring_helpers import saved_iris
from tests.integration.server_helpers import ServerProcess, token_for_app
from tests.integration.test_jobs import wait_for
from trainyard.liveness import worker_alive
from trainyard.server.app import create_app
from trainyard.serving import endpoints
from trainyard.store.server import server_part
from trainyard.workspace import Workspace

ROW = {"data": [[5.1, 3.5, 1.4, 0.2]]}
CREATE = """
from trainyard.environments import Environment
from trainyard.serving import endpoints
from trainyard.workspace import Workspace
ws = Workspace.from_config()
endpoints.create_endpoint(ws, "iris-ep")
scoring = Environment(name="scoring", env_vars={"IRIS_MARK": "on-the-server"})
endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1", environment=scoring)
endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
"""


def _pid(worker: str | None) -> int:
    assert worker is not None
    return int(worker.rsplit(":", 2)[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _client(url: str, token: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A client of ``url`` with ``token`` (read when its stores open, here)."""
    monkeypatch.setenv("TRAINYARD_TOKEN", token)
    ws = Workspace.from_config(url)
    ws.store, ws.artifacts  # noqa: B018 - opened with this token
    return ws


def _answers(url: str, **post: object) -> httpx.Response | None:
    """The reply to a GET (a POST with ``post``'s arguments), None while nothing answers."""
    try:
        return httpx.post(url, **post) if post else httpx.get(url)  # type: ignore[arg-type]
    except httpx.TransportError:
        return None


def _scores(info: dict) -> bool:
    key = info["keys"]["primary"]
    reply = _answers(info["scoring_uri"], json=ROW, headers={"Authorization": f"Bearer {key}"})
    return reply is not None and reply.status_code == 200 and reply.json() == [0]


def test_an_endpoint_made_by_one_client_is_served_by_the_server_to_every_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    served = Workspace.create(tmp_path / "srv")
    auth = server_part(served.store)
    tokens = {}
    for user in ("alice", "bob"):
        auth.add_user(user, "contributor")
        tokens[user] = auth.create_token(user)[0]
    ty.Model.register(served, saved_iris(tmp_path)[0], "iris")
    server = ServerProcess(served.root)
    server.start()
    try:
        # alice makes it from a process of her own, then goes away with her machine's cache
        laptop = tmp_path / "alice-laptop"
        env = {**os.environ, "TRAINYARD_WORKSPACE": server.url, "TRAINYARD_TOKEN": tokens["alice"]}
        env["TRAINYARD_CACHE_DIR"] = str(laptop)
        made = subprocess.run([sys.executable, "-c", CREATE], env=env, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        shutil.rmtree(laptop)

        bob = _client(f"http://localhost:{server.port}", tokens["bob"], monkeypatch)
        alice = _client(server.url, tokens["alice"], monkeypatch)
        record = served.store.get_endpoint("iris-ep")
        for who, host in ((bob, "localhost"), (alice, "127.0.0.1")):
            info = endpoints.describe(who, "iris-ep")
            assert info["scoring_uri"] == f"http://{host}:{record.port}/score"
            assert info["router"] == "up" and info["deployments"][0]["status"] == "ready"
            assert _scores(info)
        assert endpoints.invoke(bob, "iris-ep", b'{"data": [[5.1, 3.5, 1.4, 0.2]]}') == (200, [0])
        router = record.worker
        # the server's processes, on the server's workspace
        cmdline = Path(f"/proc/{_pid(router)}/cmdline").read_bytes().split(b"\0")
        assert str(served.root).encode() in cmdline
        # the deployment's environment went to the server with it, and its scoring server runs in it
        blue = served.store.get_deployment("iris-ep", "blue")
        assert blue.environment == "scoring:1"
        scoring = [
            Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") for pid in _children(_pid(blue.worker))
        ]
        assert any(b"IRIS_MARK=on-the-server" in environ for environ in scoring)

        server.stop(kill=True)  # what the server started serves on without it
        assert _scores(info)
        deployment = served.store.get_deployment("iris-ep", "blue").worker
        for pid in (_pid(deployment), *_children(_pid(deployment))):  # and the deployment dies meanwhile
            os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not worker_alive(deployment))
        server.start()  # adopts the router as it is, starts the deployment again
        wait_for(lambda: _scores(endpoints.describe(alice, "iris-ep")), timeout=120)
        assert served.store.get_endpoint("iris-ep").worker == router
        revived = served.store.get_deployment("iris-ep", "blue").worker
        assert revived != deployment and worker_alive(revived)

        endpoints.delete_endpoint(bob, "iris-ep")
        assert served.store.list_endpoints() == [] and served.store.list_deployments("iris-ep") == []
        assert not worker_alive(router) and not worker_alive(revived)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{record.port}/ping")
    finally:
        for endpoint in served.store.list_endpoints():  # nothing left running if an assertion failed
            endpoints.delete_endpoint(served, endpoint.name)
        server.stop()
        served.close()


def test_scoring_uris_name_the_public_url_or_the_callers_host_and_keys_are_for_writers(
    tmp_path: Path,
) -> None:
    served = Workspace.create(tmp_path / "srv")
    served.store.create_endpoint("uri-ep", 5555, "first-key", "second-key")
    for public_url, host, shown in (
        ("http://ml.example.test:8080", "localhost", "ml.example.test"),
        (None, "gpu-box:8080", "gpu-box"),
        (None, "[::1]:8080", "[::1]"),
    ):
        app = create_app(served, allowed_hosts=["localhost", "gpu-box", "::1"], public_url=public_url)
        for role, keys in (("contributor", "first-key"), ("reader", "")):
            token = token_for_app(app, role, user=role)
            http = TestClient(app, base_url=f"http://{host}", headers={"Authorization": f"Bearer {token}"})
            info = http.get("/api/v1/online-endpoints/uri-ep").json()
            assert info["scoring_uri"] == f"http://{shown}:5555/score", info
            assert info["keys"]["primary"] == keys and info["router"] == "down"
    served.close()


def test_revive_starts_again_a_router_that_died_and_leaves_a_running_one(ws: Workspace) -> None:
    endpoints.create_endpoint(ws, "revived")
    try:
        before = ws.store.get_endpoint("revived")
        assert endpoints.revive(ws) == []
        os.killpg(_pid(before.worker), signal.SIGKILL)  # the supervisor and its router
        wait_for(lambda: not worker_alive(before.worker))
        assert endpoints.revive(ws) == ["revived"]
        wait_for(lambda: worker_alive(ws.store.get_endpoint("revived").worker))
        wait_for(lambda: _answers(f"http://127.0.0.1:{before.port}/ping"))
        assert endpoints.revive(ws) == []
    finally:
        endpoints.delete_endpoint(ws, "revived")
