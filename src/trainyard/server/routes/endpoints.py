"""Records of online endpoints and their deployments; ``online_endpoints.py`` runs their processes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import DeploymentCreate, EndpointCreate, FieldsUpdate, to_json
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.routing import serve
from trainyard.store import DeploymentUpdate, EndpointRecord, EndpointUpdate

router = APIRouter(tags=["endpoints"])


def sees_keys(request: Request) -> bool:
    """Whether the caller may see endpoints' scoring keys: secrets for writers only."""
    principal = getattr(request.state, "principal", None)
    return principal is None or principal.has_role("contributor")


def shown(request: Request, record: EndpointRecord) -> dict[str, Any]:
    """An endpoint as the caller may see it (``sees_keys``)."""
    data = to_json(record)
    if not sees_keys(request):
        data.update(primary_key="", secondary_key="")
    return data


@serve(router, routes.CREATE_ENDPOINT)
def create_endpoint(body: EndpointCreate, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    return create_once(request, idempotency_key, lambda keyed: keyed.create_endpoint(**body.model_dump()))


@serve(router, routes.LIST_ENDPOINTS)
def list_endpoints(store: StoreDep, request: Request) -> Any:
    return {"endpoints": [shown(request, record) for record in store.list_endpoints()]}


@serve(router, routes.GET_ENDPOINT)
def get_endpoint(name: str, store: StoreDep, request: Request) -> Any:
    return shown(request, store.get_endpoint(name))


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
