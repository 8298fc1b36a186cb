"""Online endpoints whose processes run on the server: what a server workspace's clients call.

Each handler is ``serving/endpoints.py`` on the served workspace, so an endpoint made through
the server is the embedded kind, on the server's machine: its router listens where the server
does (``app.state.serving_host``) and outlives the client that made it. The URIs a caller is
shown name the host it reaches the server by: the server's ``--public-url``, else the request's
``Host``. Creates are idempotent with a key: a retry finds the endpoint, or deployment, that the
first try made and starts its process only if it is not running.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import (
    OnlineDeploymentCreate,
    OnlineEndpointCreate,
    SampleRequest,
    TrafficIn,
    to_json,
)
from trainyard.server.routes.deps import IdempotencyKey, WorkspaceDep, keyed_store
from trainyard.server.routes.endpoints import sees_keys, shown
from trainyard.server.routing import serve
from trainyard.serving import endpoints

router = APIRouter(tags=["online endpoints"])


def public_host(request: Request) -> str:
    """The host name this caller reaches the server by: ``--public-url``'s, else its ``Host``'s."""
    public_url: str | None = request.app.state.public_url
    given = public_url or f"//{request.headers.get('host', '')}"
    return urlsplit(given).hostname or endpoints.LOOPBACK


@serve(router, routes.START_ENDPOINT)
def start_endpoint(
    body: OnlineEndpointCreate, request: Request, ws: WorkspaceDep, idempotency_key: IdempotencyKey = None
) -> Any:
    """Make the endpoint and start its router on the server."""
    host: str = request.app.state.serving_host
    record = endpoints.create_endpoint(
        ws, body.name, body.port, host=host, store=keyed_store(request, idempotency_key)
    )
    return shown(request, record)


@serve(router, routes.DESCRIBE_ENDPOINT)
def describe_endpoint(name: str, request: Request, ws: WorkspaceDep) -> Any:
    """The endpoint as `endpoint show` prints it: URIs, router, traffic, deployments."""
    info = endpoints.describe(ws, name, public_host(request))
    if not sees_keys(request):
        info["keys"] = {"primary": "", "secondary": ""}
    return info


@serve(router, routes.STOP_ENDPOINT)
def stop_endpoint(name: str, ws: WorkspaceDep) -> Any:
    """Stop the endpoint's deployments and router, and remove it."""
    endpoints.delete_endpoint(ws, name)
    return {}


@serve(router, routes.ENDPOINT_LOG)
def endpoint_log(name: str, ws: WorkspaceDep, deployment: str | None = None) -> Any:
    """The router's log, or the deployment's."""
    return {"text": endpoints.endpoint_log(ws, name, deployment)}


@serve(router, routes.SET_ENDPOINT_TRAFFIC)
def set_endpoint_traffic(name: str, body: TrafficIn, request: Request, ws: WorkspaceDep) -> Any:
    """Move the endpoint's traffic, checked as `endpoint traffic` checks it (ready deployments, 100%)."""
    return shown(request, endpoints.set_traffic(ws, name, body.traffic))


@serve(router, routes.TEST_ENDPOINT)
def test_endpoint(name: str, body: SampleRequest, request: Request, ws: WorkspaceDep) -> Any:
    """Send one request to the endpoint from the server, with its key, so that a page (which
    neither holds the key nor may call another origin) can try it: the status and the reply."""
    host: str = request.app.state.serving_host
    reachable = endpoints.LOOPBACK if host in ("0.0.0.0", "::", "") else host
    payload = json.dumps(body.body).encode()
    status, reply = endpoints.invoke(ws, name, payload, body.deployment, host=reachable, timeout=30.0)
    return {"status": status, "reply": reply}


@serve(router, routes.START_DEPLOYMENT)
def start_deployment(
    endpoint: str,
    body: OnlineDeploymentCreate,
    request: Request,
    ws: WorkspaceDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Start a model version behind the endpoint, on the server; answers once it is ready."""
    with tempfile.TemporaryDirectory(prefix="trainyard-entry-") as folder:
        script = None
        if body.entry_script is not None:
            script = Path(folder) / "score.py"
            script.write_text(body.entry_script)
        record = endpoints.create_deployment(
            ws,
            endpoint,
            body.name,
            body.model,
            body.workers,
            entry_script=str(script) if script else None,
            request_timeout=body.request_timeout,
            environment=body.environment,
            many_models=body.max_models_in_memory is not None,
            max_models_in_memory=body.max_models_in_memory,
            store=keyed_store(request, idempotency_key),
        )
    return to_json(record)


@serve(router, routes.STOP_DEPLOYMENT)
def stop_deployment(endpoint: str, name: str, ws: WorkspaceDep) -> Any:
    """Stop a deployment that takes no traffic and remove it."""
    endpoints.delete_deployment(ws, endpoint, name)
    return {}
