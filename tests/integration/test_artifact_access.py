"""Who may change which artifacts on a team server, with real tokens of each role over real HTTP.

Deletes are scoped to one run the caller may write; a registered version's files change only with
the version; artifact names with ``.`` parts or over-long parts are 400 on every route.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.server_helpers import token_for_app
from trainyard.artifacts import run_key
from trainyard.limits import MAX_ARTIFACT_NAME_PART_BYTES
from trainyard.registry import Model
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace


class Server:
    """A server over ``ws`` on a loopback port, with a token per role."""

    def __init__(self, running: ThreadedServer, ws: Workspace) -> None:
        self.url, self.ws, self.app = running.url, ws, running.app
        self.tokens = {
            role: token_for_app(running.app, role, user=role) for role in ("reader", "contributor")
        }
        self.tokens["owner"] = token_for_app(running.app, "owner", user="owner")

    def call(self, method: str, path: str, role: str = "contributor", **kw: object) -> httpx.Response:
        return self.as_token(self.tokens[role], method, path, **kw)

    def as_token(self, token: str, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, **kw)  # type: ignore[arg-type]

    def raw(self, method: str, path: str, role: str = "contributor", body: bytes = b"") -> tuple[int, bytes]:
        """A request whose path is sent as written (httpx would drop a ``/.`` from it)."""
        conn = http.client.HTTPConnection(urlsplit(self.url).netloc, timeout=10)
        try:
            headers = {"Authorization": f"Bearer {self.tokens[role]}", "Content-Length": str(len(body))}
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()


@pytest.fixture
def server(ws: Workspace) -> Iterator[Server]:
    with ThreadedServer(create_app(ws)) as running:
        yield Server(running, ws)


def _run_with_files(ws: Workspace, *names: str) -> str:
    run = ws.store.create_run(ws.store.create_experiment(f"e{len(ws.store.list_experiments())}").id)
    for name in names:
        ws.artifacts.put_bytes(run_key(run.id, name), name.encode())
    return run.id


def _exp(ws: Workspace, run_id: str) -> str:
    return ws.store.get_run(run_id).experiment_id


def _files(ws: Workspace, prefix: str) -> dict[str, bytes]:
    return {k: ws.artifacts.get_bytes(f"{prefix}/{k}") for k in ws.artifacts.list(prefix)}


# -- defect 1: nobody deletes the store by prefix ---------------------------------------------------


def test_a_contributor_cannot_delete_every_run_or_model_by_prefix(server: Server) -> None:
    ws = server.ws
    run = _run_with_files(ws, "outputs/model.bin", "logs/std_log.txt")
    version = Model.register_from_run(ws, run, "churn", "outputs/model.bin")
    ws.artifacts.put_bytes("snapshots/abc.json", b"{}")
    before = _files(ws, "runs")
    for role in ("contributor", "owner"):
        for prefix in ("runs", "models", "snapshots", "models/churn", version._record.files[0]):
            reply = server.call("DELETE", f"/api/v1/artifacts/{prefix}", role)
            assert reply.status_code in (400, 403), (role, prefix, reply.text)
            assert set(reply.json()) == {"error_code", "message"}
    assert "one run (runs/<run id>/" in server.call("DELETE", "/api/v1/artifacts/runs").json()["message"]
    assert _files(ws, "runs") == before
    assert (
        Model(ws, "churn").download(ws.root / "dl").joinpath("model.bin").read_bytes() == b"outputs/model.bin"
    )
    assert ws.artifacts.get_bytes("snapshots/abc.json") == b"{}"

    reader = server.call("DELETE", f"/api/v1/artifacts/runs/{run}/outputs", "reader")
    assert reader.status_code == 403 and ws.artifacts.exists(run_key(run, "outputs/model.bin"))
    assert server.call("DELETE", "/api/v1/artifacts/runs/0123456789abcdef/x").status_code == 404
    assert server.call("DELETE", f"/api/v1/artifacts/runs/{run}/outputs").status_code == 200
    assert not ws.artifacts.exists(run_key(run, "outputs")) and ws.artifacts.exists(run_key(run, "logs"))
    assert server.call("DELETE", f"/api/v1/artifacts/runs/{run}").status_code == 200  # the run's own folder
    assert ws.artifacts.list(run_key(run)) == []


def test_a_registered_versions_files_change_only_with_the_version(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = server.ws
    run = _run_with_files(ws, "outputs/model.bin")
    first = Model.register_from_run(ws, run, "churn", "outputs/model.bin")
    ws.store.update_registered_model("churn", new_name="renamed")  # its files keep the old folder
    key = first._record.files[0]
    folder = key.rsplit("/", 1)[0]
    attempts = [
        ("PUT", f"/api/v1/artifacts/{key}", {"content": b"evil"}),
        ("PUT", f"/api/v1/artifacts/{folder}/extra.bin", {"content": b"evil"}),
        ("POST", "/api/v1/artifact-append", {"params": {"key": key}, "content": b"evil"}),
        (
            "POST",
            "/api/v1/artifact-copy",
            {"json": {"source": run_key(run, "outputs/model.bin"), "target": key}},
        ),
        ("DELETE", f"/api/v1/artifacts/{key}", {}),
    ]
    for method, path, kw in attempts:
        reply = server.call(method, path, **kw)
        assert reply.status_code == 403, (method, path, reply.text)
        assert reply.json()["error_code"] == "PERMISSION_DENIED"
    assert ws.artifacts.list(folder) == ["model.bin"] and ws.artifacts.get_bytes(key) == b"outputs/model.bin"

    # registering through the server (client side uploads under a fresh folder) still works
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"w")
    monkeypatch.setenv("TRAINYARD_TOKEN", server.tokens["contributor"])
    second = Model.register(Workspace.from_config(server.url), model_dir, "renamed")
    assert second.version == 2 and ws.artifacts.get_bytes(second._record.files[0]) == b"w"

    # through the registry, by a contributor: the version goes, and its files with it
    assert server.call("DELETE", "/api/v1/models/renamed/versions/1", "reader").status_code == 403
    assert server.call("DELETE", "/api/v1/models/renamed/versions/1").status_code == 200
    assert not ws.artifacts.exists(key) and ws.artifacts.exists(second._record.files[0])
    assert server.call("DELETE", "/api/v1/models/renamed").status_code == 200
    assert ws.artifacts.list("models") == []


def test_a_job_token_deletes_only_inside_its_own_run_and_the_runs_below_it(server: Server) -> None:
    ws = server.ws
    job = _run_with_files(ws, "outputs/a.txt")
    child = ws.store.create_run(_exp(ws, job), parent_id=job)
    ws.artifacts.put_bytes(run_key(child.id, "outputs/a.txt"), b"a")
    other = _run_with_files(ws, "outputs/a.txt")
    auth = server.app.state.auth
    token, _ = auth.create_token("contributor", kind="job", run_id=job)
    assert server.as_token(token, "DELETE", f"/api/v1/artifacts/runs/{other}/outputs").status_code == 403
    assert ws.artifacts.exists(run_key(other, "outputs/a.txt"))
    for mine in (job, child.id):
        assert server.as_token(token, "DELETE", f"/api/v1/artifacts/runs/{mine}/outputs").status_code == 200
        assert not ws.artifacts.exists(run_key(mine, "outputs/a.txt"))
    agent, _ = auth.create_token("contributor", kind="agent")
    assert server.as_token(agent, "DELETE", f"/api/v1/artifacts/runs/{other}/outputs").status_code == 403


def test_the_mlflow_proxy_deletes_only_inside_a_run_the_caller_may_write(server: Server) -> None:
    ws = server.ws
    job = _run_with_files(ws, "artifacts/a.txt")
    other = _run_with_files(ws, "artifacts/a.txt")
    token, _ = server.app.state.auth.create_token("contributor", kind="job", run_id=job)
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    assert server.call("DELETE", f"{proxy}/runs").status_code == 400
    assert server.as_token(token, "DELETE", f"{proxy}/runs/{other}/artifacts").status_code == 403
    assert ws.artifacts.exists(run_key(other, "artifacts/a.txt"))
    assert server.as_token(token, "DELETE", f"{proxy}/runs/{job}/artifacts/a.txt").status_code == 200


# -- defect 9: `.` never names a run's folder -------------------------------------------------------


@pytest.mark.parametrize("dot", [".", "%2e", "%252E", "sub/.", "./x", ".."])
def test_dot_parts_are_refused_by_every_route(server: Server, dot: str) -> None:
    ws = server.ws
    run = _run_with_files(ws, "outputs/a.txt")
    base = f"/api/v1/artifacts/runs/{run}/{dot}"
    for method, body in (("PUT", b"x"), ("GET", b""), ("DELETE", b"")):
        status, reply = server.raw(method, base, body=body)
        assert status == 400, (method, base, reply)
        assert b"INVALID_ARTIFACT_PATH" in reply
    for path in ("artifact-list?prefix=", "artifact-info?key="):
        status, reply = server.raw("GET", f"/api/v1/{path}runs/{run}/{dot}")
        assert status == 400, (path, reply)
    status, _ = server.raw("POST", f"/api/v1/artifact-append?key=runs/{run}/{dot}", body=b"x")
    assert status == 400
    status, _ = server.raw("PUT", f"/api/2.0/mlflow-artifacts/artifacts/runs/{run}/{dot}", body=b"x")
    assert status == 400
    assert ws.artifacts.list(run_key(run)) == ["outputs/a.txt"]  # the run's folder is intact
    assert server.call("PUT", f"/api/v1/artifacts/runs/{run}/outputs/b.txt", content=b"b").status_code == 200


# -- defect 6: a name part too long for the file system is a 400 that names the limit ---------------


def test_a_name_part_too_long_for_the_file_system_is_a_400_naming_the_limit(server: Server) -> None:
    ws = server.ws
    run = _run_with_files(ws)
    for part in ("x" * 250, "é" * (MAX_ARTIFACT_NAME_PART_BYTES // 2 + 1)):
        reply = server.call("PUT", f"/api/v1/artifacts/runs/{run}/{part}", content=b"x")
        assert reply.status_code == 400, reply.text
        assert f"at most {MAX_ARTIFACT_NAME_PART_BYTES} bytes" in reply.json()["message"]
        mlflow = server.call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/runs/{run}/{part}", content=b"x")
        assert mlflow.status_code == 400, mlflow.text
    longest = "y" * MAX_ARTIFACT_NAME_PART_BYTES
    assert server.call("PUT", f"/api/v1/artifacts/runs/{run}/{longest}", content=b"ok").status_code == 200
    assert server.call("GET", f"/api/v1/artifacts/runs/{run}/{longest}", "reader").content == b"ok"
    assert ws.artifacts.list(run_key(run)) == [longest]
