"""The wire contract (``trainyard.api``): the server serves exactly the declared routes, paths are
built with each segment quoted, records survive the JSON round trip, and every row of the error
table comes back to the client as the class the server raised."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from trainyard.api import errors, routes
from trainyard.api.client import raise_for
from trainyard.api.schemas import from_json, to_json
from trainyard.server.app import create_app
from trainyard.status import RunStatus
from trainyard.store import Metric, ModelVersion, RunInfo
from trainyard.workspace import Workspace


def _flat_routes(app: FastAPI) -> list[Any]:
    """Every route of the app, those of included routers too (FastAPI 0.16x includes them lazily)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(flatten(app.routes)) if flatten is not None else list(app.routes)


def test_the_server_serves_exactly_the_declared_routes(tmp_path: Path) -> None:
    app = create_app(Workspace.create(tmp_path / "ws"))
    served: dict[tuple[str, str], Any] = {}
    for route in _flat_routes(app):
        if route.path and route.path.startswith(routes.V1):
            for method in (route.methods or set()) - {"HEAD"}:
                assert (method, route.path) not in served, f"{method} {route.path} is served twice"
                served[(method, route.path)] = getattr(route, "original_route", route)
    declared = {(r.method, r.template): r for r in routes.ROUTES}
    assert len(declared) == len(routes.ROUTES), "a route is declared twice"
    assert sorted(declared.keys() - served.keys()) == [], "declared but not served"
    assert sorted(served.keys() - declared.keys()) == [], "served but not declared in trainyard.api.routes"
    for key, route in served.items():
        if isinstance(route, APIRoute):  # the OpenAPI document is Starlette's own route
            takes_key = any(p.alias == routes.IDEMPOTENCY_HEADER for p in route.dependant.header_params)
            assert takes_key == declared[key].idempotent, key
            assert route.status_code == declared[key].status, key


def test_paths_quote_each_segment_and_keep_slashes_of_path_segments() -> None:
    target = routes.GET_MODEL_VERSION.at(name="a/b?c%", version=3)
    assert (target.method, target.path) == ("GET", "/api/v1/models/a%2Fb%3Fc%25/versions/3")
    assert routes.DOWNLOAD_ARTIFACT.at(key="runs/r1/a b.txt").path == "/api/v1/artifacts/runs/r1/a%20b.txt"
    assert routes.LIST_MODELS.at().path == "/api/v1/models"
    with pytest.raises(TypeError, match="run_id"):
        routes.GET_RUN.at()
    with pytest.raises(TypeError, match="run"):
        routes.GET_RUN.at(run="x")


def test_records_survive_the_json_round_trip() -> None:
    run = RunInfo(
        "r1",
        "e1",
        "name",
        RunStatus.RUNNING,
        1.5,
        job={"argv": ["python", "x.py"]},
        metrics={"loss": math.inf, "acc": 0.5, "nan": math.nan},
    )
    back = from_json(RunInfo, to_json(run))
    assert back.status is RunStatus.RUNNING
    assert back.metrics["loss"] == math.inf and math.isnan(back.metrics["nan"]) and back.metrics["acc"] == 0.5
    assert back.job == run.job and back.name == run.name and back.end_time is None
    assert from_json(Metric, to_json(Metric("m", -math.inf, 3, 2.0))) == Metric("m", -math.inf, 3, 2.0)
    version = ModelVersion("m", 2, "runs:/r1/model", ["a.txt"], "ready", 1.0, aliases=["prod"])
    assert from_json(ModelVersion, to_json(version)) == version
    with pytest.raises(TypeError, match="not a record"):
        from_json(dict, {})


@pytest.mark.parametrize("row", errors.ERRORS, ids=lambda row: row.code)
def test_each_error_comes_back_as_the_class_the_server_raised(row: errors.ErrorCode) -> None:
    assert errors.for_class(row.error) is row  # most specific first: no row hides a later one
    reply = httpx.Response(
        row.status,
        json={"error_code": row.code, "message": "what went wrong"},
        request=httpx.Request("GET", "http://server/api/v1/runs/x"),
    )
    with pytest.raises(row.error, match="what went wrong") as raised:
        raise_for(reply)
    assert type(raised.value) is row.error


def test_protocol_answers_come_back_as_their_classes() -> None:
    request = httpx.Request("GET", "http://server/api/v1/nowhere")
    for row in (errors.UNAUTHENTICATED, errors.PERMISSION_DENIED, errors.INTERNAL_ERROR):
        with pytest.raises(row.error):
            raise_for(
                httpx.Response(row.status, json={"error_code": row.code, "message": "m"}, request=request)
            )
    with pytest.raises(errors.ENDPOINT_NOT_FOUND.error, match="GET /api/v1/nowhere: not found"):
        raise_for(
            httpx.Response(404, json={"error_code": "ENDPOINT_NOT_FOUND", "message": "m"}, request=request)
        )
