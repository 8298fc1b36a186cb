"""RELIABILITY rows 3 and 7 on the server: a model version's ``source`` never points the server at
loopback, link-local or private addresses (unless the server allows them), nor at other schemes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.workspace import Workspace

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:5000/m",
    "https://10.1.2.3/m",
    "file:///etc/passwd",
    "s3://bucket/m",
]


def _client(ws: Workspace, **options: bool) -> TestClient:
    app = create_app(ws, **options)
    client = TestClient(app, base_url="http://localhost")
    client.headers["Authorization"] = f"Bearer {token_for_app(app, role='contributor')}"
    return client


def _version(client: TestClient, source: str):  # noqa: ANN202 - httpx.Response
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    ws.artifacts.put_bytes("models/m/upload/model.bin", b"w")
    return client.post(
        "/api/v1/models/m/versions", json={"source": source, "files": ["models/m/upload/model.bin"]}
    )


@pytest.mark.parametrize("source", REFUSED)
def test_a_model_source_aimed_at_the_servers_network_or_another_scheme_is_a_400(
    ws: Workspace, source: str
) -> None:
    client = _client(ws)
    reply = _version(client, source)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "source" in reply.json()["message"] or "--allow-private-urls" in reply.json()["message"]
    assert ws.store.list_models() == []  # nothing written
    mlflow = client.post("/api/2.0/mlflow/model-versions/create", json={"name": "m", "source": source})
    assert mlflow.status_code == 400, mlflow.text


def test_lineage_sources_and_public_urls_are_accepted_and_private_ones_when_the_server_allows(
    ws: Workspace,
) -> None:
    client = _client(ws)
    for n, source in enumerate(["/home/ada/model", "C:/models/m", "runs:/abc/model", "https://8.8.8.8/m"], 1):
        reply = _version(client, source)
        assert reply.status_code == 200, (source, reply.text)
        assert reply.json()["version"] == n
    allowing = _client(ws, allow_private_urls=True)
    assert _version(allowing, "http://169.254.169.254/m").status_code == 200
    assert _version(allowing, "file:///etc/passwd").status_code == 400  # a scheme, not an address
