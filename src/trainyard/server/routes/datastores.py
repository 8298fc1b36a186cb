"""Datastores: named storage locations (an fsspec URL and the names of its credentials' variables).

The server opens no datastore itself (clients and agents do, with credentials from their own
environment), but what it records is what every reader will reach: an endpoint is checked by
``url_guard`` here, so a user cannot point the team's readers at a loopback or private address
(``--allow-private-urls`` allows it, for a MinIO on the server's network).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import DatastoreCreate, to_json
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.routing import serve
from trainyard.url_guard import check_url

router = APIRouter(tags=["datastores"])


@serve(router, routes.LIST_DATASTORES)
def list_datastores(store: StoreDep) -> Any:
    return {"datastores": to_json(store.list_datastores())}


@serve(router, routes.CREATE_DATASTORE)
def create_datastore(body: DatastoreCreate, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    if body.endpoint is not None:
        check_url(body.endpoint, allow_private=request.app.state.allow_private_urls)
    fields = body.model_dump()
    return create_once(request, idempotency_key, lambda keyed: keyed.create_datastore(**fields))


@serve(router, routes.GET_DATASTORE)
def get_datastore(name: str, store: StoreDep) -> Any:
    return to_json(store.get_datastore(name))


@serve(router, routes.DELETE_DATASTORE)
def delete_datastore(name: str, store: StoreDep) -> Any:
    store.delete_datastore(name)
    return {}
