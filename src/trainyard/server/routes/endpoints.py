"""Records of online endpoints and their deployments (the processes run where the server runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import DeploymentCreate, EndpointCreate, FieldsUpdate, to_json
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.routing import serve
from trainyard.store import DeploymentUpdate, EndpointRecord, EndpointUpdate

router = APIRouter(tags=["endpoints"])


def _shown(request: Request, record: EndpointRecord) -> dict[str, Any]:
    """An endpoint as the caller may see it: its scoring keys are secrets for writers only."""
    data = to_json(record)
    principal = getattr(request.state, "principal", None)
    if principal is not None and not principal.has_role("contributor"):
        data.update(primary_key="", secondary_key="")
    return data


@serve(router, routes.CREATE_ENDPOINT)
def create_endpoint(body: EndpointCreate, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    return create_once(request, idempotency_key, lambda keyed: keyed.create_endpoint(**body.model_dump()))


@serve(router, routes.LIST_ENDPOINTS)
def list_endpoints(store: StoreDep, request: Request) -> Any:
    return {"endpoints": [_shown(request, record) for record in store.list_endpoints()]}


@serve(router, routes.GET_ENDPOINT)
def get_endpoint(name: str, store: StoreDep, request: Request) -> Any:
    return _shown(request, store.get_endpoint(name))


@serve(router, routes.UPDATE_ENDPOINT)
def update_endpoint(name: str, body: FieldsUpdate, store: StoreDep) -> Any:
    return to_json(store.update_endpoint(name, EndpointUpdate.of(body.fields)))


@serve(router, routes.DELETE_ENDPOINT)
def delete_endpoint(name: str, store: StoreDep) -> Any:
    store.delete_endpoint(name)
    return {}


@serve(router, routes.CREATE_DEPLOYMENT)
def create_deployment(
    endpoint: str,
    body: DeploymentCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return create_once(
        request, idempotency_key, lambda keyed: keyed.create_deployment(endpoint, **body.model_dump())
    )


@serve(router, routes.LIST_DEPLOYMENTS)
def list_deployments(endpoint: str, store: StoreDep) -> Any:
    return {"deployments": to_json(store.list_deployments(endpoint))}


@serve(router, routes.GET_DEPLOYMENT)
def get_deployment(endpoint: str, name: str, store: StoreDep) -> Any:
    return to_json(store.get_deployment(endpoint, name))


@serve(router, routes.UPDATE_DEPLOYMENT)
def update_deployment(endpoint: str, name: str, body: FieldsUpdate, store: StoreDep) -> Any:
    return to_json(store.update_deployment(endpoint, name, DeploymentUpdate.of(body.fields)))


@serve(router, routes.DELETE_DEPLOYMENT)
def delete_deployment(endpoint: str, name: str, store: StoreDep) -> Any:
    store.delete_deployment(endpoint, name)
    return {}
