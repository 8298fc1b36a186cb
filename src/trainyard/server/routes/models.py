"""The model registry: names, versions per name, aliases, archive and restore, updates and deletes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.api import routes
from trainyard.api.schemas import (
    AliasIn,
    ModelStatus,
    ModelVersionCreate,
    ModelVersionUpdate,
    RegisteredModelCreate,
    RegisteredModelUpdate,
    Version,
    to_json,
)
from trainyard.artifacts.paths import safe_name
from trainyard.registry.model import delete_model, delete_version
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, WorkspaceDep, create_once
from trainyard.server.routing import serve

router = APIRouter(tags=["models"])


@serve(router, routes.LIST_MODELS)
def list_models(store: StoreDep) -> Any:
    return {"models": to_json(store.list_models())}


@serve(router, routes.CREATE_REGISTERED_MODEL)
def create_registered_model(
    body: RegisteredModelCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> Any:
    return create_once(
        request,
        idempotency_key,
        lambda keyed: keyed.create_registered_model(body.name, description=body.description, tags=body.tags),
    )


@serve(router, routes.GET_REGISTERED_MODEL)
def get_registered_model(name: str, store: StoreDep) -> Any:
    return to_json(store.get_registered_model(name))


@serve(router, routes.UPDATE_REGISTERED_MODEL)
def update_registered_model(name: str, body: RegisteredModelUpdate, store: StoreDep) -> Any:
    return to_json(store.update_registered_model(name, **body.model_dump()))


@serve(router, routes.DELETE_REGISTERED_MODEL)
def delete_registered_model(name: str, workspace: WorkspaceDep) -> Any:
    delete_model(workspace, name)  # its versions' files too
    return {}


@serve(router, routes.CREATE_MODEL_VERSION)
def create_model_version(
    name: str,
    body: ModelVersionCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    fields = {**body.model_dump(), "files": [safe_name(f) for f in body.files]}  # keys inside the store
    return create_once(request, idempotency_key, lambda keyed: keyed.create_model_version(name, **fields))


@serve(router, routes.LIST_MODEL_VERSIONS)
def list_model_versions(name: str, store: StoreDep) -> Any:
    return {"versions": to_json(store.list_model_versions(name))}


@serve(router, routes.GET_MODEL_VERSION)
def get_model_version(name: str, version: Version, store: StoreDep) -> Any:
    return to_json(store.get_model_version(name, version))


@serve(router, routes.UPDATE_MODEL_VERSION)
def update_model_version(name: str, version: Version, body: ModelVersionUpdate, store: StoreDep) -> Any:
    return to_json(store.update_model_version(name, version, **body.model_dump()))


@serve(router, routes.DELETE_MODEL_VERSION)
def delete_model_version(name: str, version: Version, workspace: WorkspaceDep) -> Any:
    delete_version(workspace, name, version)  # its files too
    return {}


@serve(router, routes.SET_MODEL_VERSION_STATUS)
def set_model_version_status(name: str, version: Version, body: ModelStatus, store: StoreDep) -> Any:
    return to_json(store.set_model_version_status(name, version, body.status))


@serve(router, routes.GET_MODEL_VERSION_BY_ALIAS)
def get_model_version_by_alias(name: str, alias: str, store: StoreDep) -> Any:
    return to_json(store.get_model_version_by_alias(name, alias))


@serve(router, routes.SET_MODEL_ALIAS)
def set_model_alias(name: str, alias: str, body: AliasIn, store: StoreDep) -> Any:
    store.set_model_alias(name, alias, body.version)
    return {}


@serve(router, routes.DELETE_MODEL_ALIAS)
def delete_model_alias(name: str, alias: str, store: StoreDep) -> Any:
    store.delete_model_alias(name, alias)
    return {}
