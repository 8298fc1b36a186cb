"""Shared by the MLflow route tests: a workspace per backend for a whole module, a client with a
token, MLflow error checks, and a request log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from tests.conftest import _fresh_pg_database
from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace

API = "/api/2.0/mlflow"


def module_workspace(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace on ``request.param`` (``sqlite`` or ``postgresql``), kept for the module."""
    folder = factory.mktemp(f"mlflow-{request.param}")
    if request.param == "sqlite":
        workspace = Workspace.create(folder)
        yield workspace
        workspace.close()
        return
    admin, template = request.getfixturevalue("pg_admin"), request.getfixturevalue("pg_template")
    for uri in _fresh_pg_database(admin, template):
        workspace = Workspace.create(folder, store=uri)
        yield workspace
        workspace.close()


def contributor_client(ws: Workspace) -> Iterator[TestClient]:
    """The server's app in process, with a contributor's token on every request."""
    app = create_app(ws)
    with TestClient(app, base_url="http://localhost") as http:
        http.headers["Authorization"] = f"Bearer {token_for_app(app, role='contributor')}"
        yield http


def new_run(client: TestClient, experiment: str) -> str:
    """A run (in a new experiment) created the way MLflow clients do."""
    exp = client.post(f"{API}/experiments/create", json={"name": experiment}).json()["experiment_id"]
    reply = client.post(f"{API}/runs/create", json={"experiment_id": exp, "run_name": "r"})
    return reply.json()["run"]["info"]["run_id"]


def error(reply: httpx.Response, status: int, code: str) -> str:
    """The message of an MLflow error reply, after checking its status and code."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error_code"] == code
    return body["message"]


class Recorder:
    """Every request a client makes, as ``(method, path, status)``: ``recorder(app)`` before serving."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []

    def __call__(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
            response = await call_next(request)
            self.requests.append((request.method, request.url.path, response.status_code))
            return response

    def routes(self, since: int = 0) -> list[str]:
        return [f"{m} {p}" for m, p, _ in self.requests[since:]]


def mlflow_server(ws: Workspace) -> Iterator[Recorder]:
    """The team server's app with a contributor's token in ``MLFLOW_TRACKING_TOKEN``, as a user sets it."""
    import mlflow

    recorder = Recorder()
    app = create_app(ws)
    recorder(app)
    with ThreadedServer(app) as running, pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", running.url)
        mp.setenv("MLFLOW_TRACKING_TOKEN", token_for_app(app, role="contributor"))
        mlflow.set_tracking_uri(running.url)
        yield recorder
        mlflow.set_tracking_uri(None)
