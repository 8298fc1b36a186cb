"""The team server over real HTTP: errors as JSON, the body cap, OpenAPI, idempotent creates,
artifact paths that try to escape (RELIABILITY rows 1, 16, 21), and a workspace opened by URL
doing SDK work with large artifacts streamed both ways.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import trainyard as ty
from tests.integration.server_helpers import token_for_app
from trainyard.errors import ArtifactPathError
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedServer, Workspace]]:
    ws = Workspace.create(tmp_path_factory.mktemp("served"))
    with ThreadedServer(create_app(ws)) as server:
        yield server, ws
    ws.close()


@pytest.fixture(scope="module")
def client(served: tuple[ThreadedServer, Workspace]) -> Iterator[httpx.Client]:
    server, _ = served
    headers = {"Authorization": f"Bearer {token_for_app(server.app)}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
        yield c


def _json_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code, body
    assert "Traceback" not in body["message"] and 'File "' not in body["message"]
    return body["message"]


def test_health_openapi_and_docs(client: httpx.Client) -> None:
    assert httpx.get(f"{client.base_url}/api/v1/health").json() == {"status": "ok"}  # no token needed
    doc = client.get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for path in (
        "/api/v1/runs",
        "/api/v1/runs/search",
        "/api/v1/runs/{run_id}/batch",
        "/api/v1/artifacts/{key}",
    ):
        assert path in paths, path
    assert "swagger" in client.get("/api/docs").text.lower()


def test_errors_are_json_with_a_message(client: httpx.Client) -> None:
    assert "no run with id" in _json_error(
        client.get("/api/v1/runs/" + "0" * 32), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    message = _json_error(
        client.post("/api/v1/runs", json={"experiment_id": 5}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "experiment_id" in message
    bad_json = client.post(
        "/api/v1/experiments", content=b"{not json", headers={"content-type": "application/json"}
    )
    _json_error(bad_json, 400, "INVALID_PARAMETER_VALUE")
    exp = client.post("/api/v1/experiments", json={"name": "errors"}).json()
    _json_error(client.post("/api/v1/experiments", json={"name": "errors"}), 409, "RESOURCE_ALREADY_EXISTS")
    run = client.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
    client.post(f"/api/v1/runs/{run['id']}/cancel")
    again = client.post(f"/api/v1/runs/{run['id']}/status", json={"status": "running"})
    _json_error(again, 409, "INVALID_STATE")
    flt = client.post("/api/v1/runs/search", json={"filter_string": "metrics.x CONTAINS 1"})
    assert "operator" in _json_error(flt, 400, "INVALID_PARAMETER_VALUE")
    _json_error(client.get("/api/v1/no-such-route"), 404, "ENDPOINT_NOT_FOUND")


def test_json_bodies_are_capped(client: httpx.Client) -> None:
    exp = client.post("/api/v1/experiments", json={"name": "big"}).json()
    run = client.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
    huge = b'{"tags": {"t": "' + b"x" * (9 * 1024 * 1024) + b'"}}'
    response = client.post(
        f"/api/v1/runs/{run['id']}/batch", content=huge, headers={"content-type": "application/json"}
    )
    assert "8 MB" in _json_error(response, 413, "REQUEST_TOO_LARGE")

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield huge

    response = client.post(
        f"/api/v1/runs/{run['id']}/batch", content=chunked(), headers={"content-type": "application/json"}
    )
    _json_error(response, 413, "REQUEST_TOO_LARGE")
    assert client.get(f"/api/v1/runs/{run['id']}").json()["tags"] == {"mlflow.user": "tester"}


def test_a_run_is_its_callers_and_a_child_its_parents_whatever_the_body_says(client: httpx.Client) -> None:
    exp = client.post("/api/v1/experiments", json={"name": "whose"}).json()
    spoofed = {"mlflow.user": "mallory", "team": "a"}
    root = client.post("/api/v1/runs", json={"experiment_id": exp["id"], "tags": spoofed}).json()
    assert root["tags"] == {"mlflow.user": "tester", "team": "a"}  # the token's user
    child = {"experiment_id": exp["id"], "parent_id": root["id"], "tags": spoofed}
    assert client.post("/api/v1/runs", json=child).json()["tags"] == root["tags"]  # the parent's


def test_a_runs_user_cannot_be_changed_afterwards(client: httpx.Client) -> None:
    """Every tag write that names ``mlflow.user`` is refused, ours and MLflow's, and nothing is
    written: not the batch's other tags, not its metrics."""
    exp = client.post("/api/v1/experiments", json={"name": "owned"}).json()
    run = client.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
    mlflow = "/api/2.0/mlflow/runs"
    metric = {"key": "m", "value": 1.0, "timestamp": 1.0, "step": 0}
    pairs = [{"key": "mlflow.user", "value": "mallory"}, {"key": "team", "value": "a"}]
    writes = [
        ("POST", f"/api/v1/runs/{run['id']}/batch",
         {"tags": {"mlflow.user": "mallory", "team": "a"}, "metrics": [metric]}),
        ("POST", "/api/v1/runs/tags", {"run_ids": [run["id"]], "set": {"mlflow.user": "mallory"}}),
        ("POST", "/api/v1/runs/tags", {"run_ids": [run["id"]], "remove": ["mlflow.user"]}),
        ("POST", f"{mlflow}/set-tag", {"run_id": run["id"], "key": "mlflow.user", "value": "mallory"}),
        ("POST", f"{mlflow}/delete-tag", {"run_id": run["id"], "key": "mlflow.user"}),
        ("POST", f"{mlflow}/log-batch",
         {"run_id": run["id"], "tags": pairs}),
    ]  # fmt: skip
    for method, path, body in writes:
        response = client.request(method, path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert (
            "'mlflow.user'" in response.json()["message"]
            and "cannot be set or removed" in response.json()["message"]
        )
    response = client.delete(f"/api/v1/runs/{run['id']}/tags", params={"key": "mlflow.user"})
    assert "'mlflow.user'" in _json_error(response, 400, "INVALID_PARAMETER_VALUE")
    after = client.get(f"/api/v1/runs/{run['id']}").json()
    assert after["tags"] == {"mlflow.user": "tester"} and after["metrics"] == {}
    ok = client.post(f"/api/v1/runs/{run['id']}/batch", json={"tags": {"team": "a"}})
    assert ok.status_code == 200 and client.get(f"/api/v1/runs/{run['id']}").json()["tags"]["team"] == "a"


def test_a_retried_create_with_the_same_key_creates_once(client: httpx.Client) -> None:
    exp = client.post("/api/v1/experiments", json={"name": "retries"}).json()
    key = {"Idempotency-Key": "k-123"}
    first = client.post("/api/v1/runs", json={"experiment_id": exp["id"]}, headers=key).json()
    second = client.post("/api/v1/runs", json={"experiment_id": exp["id"]}, headers=key).json()
    other = client.post(
        "/api/v1/runs", json={"experiment_id": exp["id"]}, headers={"Idempotency-Key": "k-124"}
    ).json()
    assert first["id"] == second["id"] != other["id"]
    assert client.get(f"/api/v1/experiments/{exp['id']}/run-count").json() == {"count": 2}


ESCAPES = [
    "../outside.txt",
    "runs/../../outside.txt",
    "..%2foutside.txt",
    "%2e%2e/outside.txt",
    "%252e%252e/outside.txt",
    "a;/../../outside.txt",
    "a\\..\\outside.txt",
    "C:\\outside.txt",
    "a%00b",
    "a\x01b",
    "a#b",
    "%2Fetc/passwd",
]


def _raw(server: ThreadedServer, token: str, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """A request with the path sent byte for byte (no client-side normalising of '..')."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_artifact_paths_cannot_escape_the_root(
    served: tuple[ThreadedServer, Workspace], tmp_path: Path
) -> None:
    server, ws = served
    token = token_for_app(server.app)
    root = Path(ws.artifacts.root)
    outside = root.parent / "outside.txt"
    outside.write_text("secret")
    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    (secret_dir / "key.txt").write_text("secret")
    (root / "runs" / "linked").mkdir(parents=True)
    os.symlink(secret_dir, root / "runs" / "linked" / "out")
    before = sorted(p.relative_to(root.parent).as_posix() for p in root.parent.rglob("*"))

    for name in ESCAPES:
        quoted = name.replace("\\", "%5C").replace("\x01", "%01").replace("#", "%23").replace(";", "%3B")
        for method, path in (
            ("PUT", f"/api/v1/artifacts/{quoted}"),
            ("GET", f"/api/v1/artifacts/{quoted}"),
            ("DELETE", f"/api/v1/artifacts/{quoted}"),
            ("GET", f"/api/v1/artifact-list?prefix={quoted}"),
            ("GET", f"/api/v1/artifact-info?key={quoted}"),
        ):
            status, body = _raw(server, token, method, path, b"overwritten" if method == "PUT" else b"")
            assert status == 400, (method, path, status, body)
            assert body["error_code"] == "INVALID_ARTIFACT_PATH", body
    for method in ("PUT", "GET", "DELETE"):
        status, body = _raw(
            server, token, method, "/api/v1/artifacts//etc/passwd", b"x" if method == "PUT" else b""
        )
        assert status == 400 and body["error_code"] == "INVALID_ARTIFACT_PATH", (method, body)
    for method in ("PUT", "GET"):  # through a symlink inside the store that points out of it
        status, body = _raw(server, token, method, "/api/v1/artifacts/runs/linked/out/key.txt", b"new")
        assert status == 400 and "outside" in body["message"], (method, body)
    status, body = _raw(server, token, "GET", "/api/v1/artifact-list?prefix=runs/linked/out")
    assert status == 400, body

    assert outside.read_text() == "secret" and (secret_dir / "key.txt").read_text() == "secret"
    assert sorted(p.relative_to(root.parent).as_posix() for p in root.parent.rglob("*")) == before
    with pytest.raises(ArtifactPathError):  # the client refuses before sending
        Workspace.for_server(server.url).artifacts.put_bytes("../x", b"")


def test_folders_are_not_files(client: httpx.Client) -> None:
    assert client.put("/api/v1/artifacts/runs/f/a/b.txt", content=b"x").status_code == 200
    _json_error(client.get("/api/v1/artifacts/runs/f/a"), 404, "RESOURCE_DOES_NOT_EXIST")
    _json_error(client.put("/api/v1/artifacts/runs/f/a", content=b"y"), 400, "INVALID_PARAMETER_VALUE")
    copy = {"source": "runs/f/a/b.txt", "target": "runs/f/a"}
    _json_error(client.post("/api/v1/artifact-copy", json=copy), 400, "INVALID_PARAMETER_VALUE")
    assert client.get("/api/v1/artifact-list", params={"prefix": "runs/f"}).json() == {"files": ["a/b.txt"]}
    below_a_file = client.put("/api/v1/artifacts/runs/f/a/b.txt/c", content=b"z")
    _json_error(below_a_file, 400, "INVALID_ARTIFACT_PATH")
    copy_below = {"source": "runs/f/a/b.txt", "target": "runs/f/a/b.txt/d"}
    _json_error(client.post("/api/v1/artifact-copy", json=copy_below), 400, "INVALID_ARTIFACT_PATH")
    _json_error(
        client.put(f"/api/v1/artifacts/runs/f/{'n' * 300}", content=b"z"), 400, "INVALID_ARTIFACT_PATH"
    )
    metadata = {"source": "http://169.254.169.254/latest", "files": ["model.pkl"]}
    _json_error(client.post("/api/v1/models/m/versions", json=metadata), 400, "INVALID_PARAMETER_VALUE")
    version = {"source": "runs/f", "files": ["../../etc/passwd"]}
    _json_error(client.post("/api/v1/models/m/versions", json=version), 400, "INVALID_ARTIFACT_PATH")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_server_workspace_runs_the_sdk_and_streams_large_files(
    served: tuple[ThreadedServer, Workspace], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, local = served
    monkeypatch.setenv("TRAINYARD_TOKEN", token_for_app(server.app))
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRAINYARD_WORKSPACE", server.url)
    ws = Workspace.from_config()
    assert ws.is_server and ws.uri == server.url

    run = ty.Experiment(ws, "remote").start_logging(display_name="over-http")
    run.log("loss", 0.5)
    run.log("loss", float("nan"))
    run.log_params({"alpha": "0.1"})
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        for i in range(24):
            fh.write(hashlib.sha256(str(i).encode()).digest() * 32768)  # 24 MB, not compressible
    tracemalloc.start()
    try:
        run.upload_file("outputs/big.bin", str(big))
        fetched = run.download_file("outputs/big.bin", tmp_path / "back.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    run.complete()
    assert _sha(Path(fetched)) == _sha(big)
    assert peak < big.stat().st_size / 3, f"peak {peak} bytes: the file went through memory whole"

    # what the client wrote is what the server's own store holds
    stored = local.store.get_run(run.id)
    assert stored.status.value == "completed" and stored.name == "over-http"
    history = [m.value for m in local.store.get_metric_history(run.id, "loss")]
    assert history[0] == 0.5 and history[1] != history[1]
    assert _sha(local.artifacts.local_path(f"runs/{run.id}/outputs/big.bin")) == _sha(big)
    assert "outputs/big.bin" in ws.artifacts.list(f"runs/{run.id}")
    assert [r.id for r in ws.store.search_runs(filter_string="attributes.run_name = 'over-http'")] == [run.id]


def test_a_client_gives_up_on_a_server_that_stays_down() -> None:
    from trainyard.api.errors import ServerUnavailableError
    from trainyard.server.running import free_port
    from trainyard.store.rest import RestStore

    store = RestStore(f"http://127.0.0.1:{free_port()}", token="t", retry_seconds=1.0)
    start = time.monotonic()
    with pytest.raises(ServerUnavailableError, match="unavailable for 1 s"):
        store.get_run("0" * 32)
    assert 0.5 < time.monotonic() - start < 10, "retried with backoff, then stopped"
    store.close()
