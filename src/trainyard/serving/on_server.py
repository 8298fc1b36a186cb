"""A server workspace's endpoints, from a client: the server starts, keeps and stops their processes.

``serving/endpoints.py`` hands these calls the ones whose processes must run where every client
can reach them (create, delete, describe, logs); the server answers each by calling
``serving/endpoints.py`` on its own workspace (``server/routes/online_endpoints.py``). The
scoring URI in what it describes names the host this client reaches the server by.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.api import routes
from trainyard.api.schemas import from_json
from trainyard.store import DeploymentRecord, EndpointRecord

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


def create_endpoint(ws: Workspace, name: str, port: int | None) -> EndpointRecord:
    reply = ws.server.call(routes.START_ENDPOINT, json={"name": name, "port": port})
    return from_json(EndpointRecord, reply)


def create_deployment(
    ws: Workspace,
    endpoint: str,
    name: str,
    model_ref: str,
    workers: int,
    entry_script: str | os.PathLike[str] | None,
    request_timeout: float | None,
    environment: str | None,
    max_models_in_memory: int | None = None,
) -> DeploymentRecord:
    """The entry script travels as text: the server keeps it with the deployment. The
    environment is one registered in the server's workspace (``name:version``). With
    ``max_models_in_memory``, ``model_ref`` names a many-models group."""
    body = {
        "name": name,
        "model": model_ref,
        "workers": workers,
        "request_timeout": request_timeout,
        "entry_script": Path(entry_script).read_text() if entry_script is not None else None,
        "environment": environment,
        "max_models_in_memory": max_models_in_memory,
    }
    reply = ws.server.call(routes.START_DEPLOYMENT.at(endpoint=endpoint), json=body)
    return from_json(DeploymentRecord, reply)


def delete_deployment(ws: Workspace, endpoint: str, name: str) -> None:
    ws.server.call(routes.STOP_DEPLOYMENT.at(endpoint=endpoint, name=name))


def delete_endpoint(ws: Workspace, name: str) -> None:
    ws.server.call(routes.STOP_ENDPOINT.at(name=name))


def describe(ws: Workspace, name: str) -> dict[str, Any]:
    info: dict[str, Any] = ws.server.call(routes.DESCRIBE_ENDPOINT.at(name=name))
    return info


def endpoint_log(ws: Workspace, name: str, deployment: str | None) -> str:
    reply = ws.server.call(routes.ENDPOINT_LOG.at(name=name), params={"deployment": deployment})
    return str(reply["text"])
