"""Shared by the MLflow route tests: a workspace per backend for a whole module, and a request log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request

from tests.conftest import _fresh_pg_database
from trainyard.workspace import Workspace


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


class Recorder:
    """Every request a client makes, as ``(method, path, status)``: a ``create_app`` setup hook."""

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
