"""The routes the studio's endpoint page writes through: a traffic move checked on the server as
``endpoint traffic`` checks it, and one test request the server sends with the endpoint's key;
both for writers only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import trainyard as ty
from tests.integration.scoring_helpers import saved_iris
from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.serving import endpoints
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentUpdate, EndpointUpdate
from trainyard.workspace import Workspace


def _clients(ws: Workspace) -> dict[str, TestClient]:
    app = create_app(ws)
    return {
        role: TestClient(
            app,
            base_url="http://127.0.0.1",
            headers={"Authorization": f"Bearer {token_for_app(app, role, user=role)}"},
        )
        for role in ("contributor", "reader")
    }


def test_traffic_moves_only_as_the_cli_allows_and_only_for_writers(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    ws.store.create_endpoint("web-ep", 5555, "k1", "k2")
    for name in ("blue", "green", "cold"):
        ws.store.create_deployment("web-ep", name, "iris", 1, 1)
    for name in ("blue", "green"):
        ws.store.update_deployment("web-ep", name, DeploymentUpdate(status=DeploymentStatus.READY))
    ws.store.update_endpoint("web-ep", EndpointUpdate(traffic={"blue": 100}))
    http = _clients(ws)
    path = "/api/v1/online-endpoints/web-ep/traffic"

    moved = http["contributor"].put(path, json={"traffic": {"blue": 70, "green": 30}})
    assert moved.status_code == 200 and moved.json()["traffic"] == {"blue": 70, "green": 30}
    record = ws.store.get_endpoint("web-ep")
    assert record.traffic == {"blue": 70, "green": 30} and record.previous_traffic == {"blue": 100}
    for weights, message in (
        ({"blue": 90}, "add up to 100"),
        ({"blue": 50, "cold": 50}, "cold is not ready"),
        ({"nope": 100}, "no deployment nope"),
    ):
        refused = http["contributor"].put(path, json={"traffic": weights})
        assert refused.status_code == 400 and message in refused.json()["message"]
    assert http["reader"].put(path, json={"traffic": {"blue": 100}}).status_code == 403
    assert ws.store.get_endpoint("web-ep").traffic == {"blue": 70, "green": 30}
    ws.close()


def test_a_test_request_is_scored_through_the_router_for_a_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    ws = Workspace.create(tmp_path / "ws")
    ty.Model.register(ws, saved_iris(tmp_path)[0], "iris")
    http = _clients(ws)
    path = "/api/v1/online-endpoints/iris-ep/test"
    row = {"data": [[5.1, 3.5, 1.4, 0.2]]}
    endpoints.create_endpoint(ws, "iris-ep")
    try:
        down = http["contributor"].post(path, json={"body": row})  # nothing deployed: the router says so
        assert down.status_code == 200 and down.json()["status"] != 200
        endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
        endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
        scored = http["contributor"].post(path, json={"body": row, "deployment": "blue"})
        assert scored.status_code == 200 and scored.json() == {"status": 200, "reply": [0]}
        assert http["reader"].post(path, json={"body": row}).status_code == 403
    finally:
        endpoints.delete_endpoint(ws, "iris-ep")
        ws.close()
    gone = http["contributor"].post("/api/v1/online-endpoints/nowhere/test", json={"body": row})
    assert gone.status_code == 404
