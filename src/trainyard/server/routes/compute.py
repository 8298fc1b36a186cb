"""The queues of the server's compute names, with the agents seen serving each (``compute list``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import to_json
from trainyard.compute import check_target_name, queues
from trainyard.server.routes.deps import WorkspaceDep
from trainyard.server.routing import serve
from trainyard.store.server import ServerStore

router = APIRouter(tags=["compute"])


def _auth(request: Request) -> ServerStore:
    auth: ServerStore = request.app.state.auth
    return auth


@serve(router, routes.LIST_QUEUES)
def list_queues(request: Request, ws: WorkspaceDep) -> Any:
    """Every compute name with queued or running runs or agents seen in the last hour."""
    auth = _auth(request)
    timeout = ws.config.heartbeat_timeout_seconds
    return to_json(queues.build(auth.list_agents(), auth.queue_runs(), timeout))


@serve(router, routes.GET_QUEUE)
def get_queue(name: str, request: Request, ws: WorkspaceDep) -> Any:
    """One compute name's queue (any name is one, so an unused name is an empty queue)."""
    check_target_name(name)
    auth = _auth(request)
    agents = [a for a in auth.list_agents() if a.compute == name]
    timeout = ws.config.heartbeat_timeout_seconds
    return to_json(queues.build(agents, auth.queue_runs(name), timeout, (name,)))
