"""The model registry: names, versions per name, aliases, archive and restore, updates and deletes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from trainyard.artifacts.paths import safe_name
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.schemas import (
    AliasIn,
    ModelStatus,
    ModelVersionCreate,
    ModelVersionUpdate,
    RegisteredModelCreate,
    RegisteredModelUpdate,
    Version,
    to_json,
)

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("")
def list_models(store: StoreDep) -> Any:
    return {"models": to_json(store.list_models())}


@router.post("")
def create_registered_model(
    body: RegisteredModelCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> Any:
    return create_once(
        request,
        idempotency_key,
        lambda keyed: keyed.create_registered_model(body.name, description=body.description, tags=body.tags),
    )


@router.get("/{name}")
def get_registered_model(name: str, store: StoreDep) -> Any:
    return to_json(store.get_registered_model(name))


@router.patch("/{name}")
def update_registered_model(name: str, body: RegisteredModelUpdate, store: StoreDep) -> Any:
    return to_json(store.update_registered_model(name, **body.model_dump()))


@router.delete("/{name}")
def delete_registered_model(name: str, store: StoreDep) -> Any:
    store.delete_registered_model(name)
    return {}


@router.post("/{name}/versions")
def create_model_version(
    name: str,
    body: ModelVersionCreate,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    fields = {**body.model_dump(), "files": [safe_name(f) for f in body.files]}  # keys inside the store
    return create_once(request, idempotency_key, lambda keyed: keyed.create_model_version(name, **fields))


@router.get("/{name}/versions")
def list_model_versions(name: str, store: StoreDep) -> Any:
    return {"versions": to_json(store.list_model_versions(name))}


@router.get("/{name}/versions/{version}")
def get_model_version(name: str, version: Version, store: StoreDep) -> Any:
    return to_json(store.get_model_version(name, version))


@router.patch("/{name}/versions/{version}")
def update_model_version(name: str, version: Version, body: ModelVersionUpdate, store: StoreDep) -> Any:
    return to_json(store.update_model_version(name, version, **body.model_dump()))


@router.delete("/{name}/versions/{version}")
def delete_model_version(name: str, version: Version, store: StoreDep) -> Any:
    store.delete_model_version(name, version)
    return {}


@router.put("/{name}/versions/{version}/status")
def set_model_version_status(name: str, version: Version, body: ModelStatus, store: StoreDep) -> Any:
    return to_json(store.set_model_version_status(name, version, body.status))


@router.get("/{name}/aliases/{alias}")
def get_model_version_by_alias(name: str, alias: str, store: StoreDep) -> Any:
    return to_json(store.get_model_version_by_alias(name, alias))


@router.put("/{name}/aliases/{alias}")
def set_model_alias(name: str, alias: str, body: AliasIn, store: StoreDep) -> Any:
    store.set_model_alias(name, alias, body.version)
    return {}


@router.delete("/{name}/aliases/{alias}")
def delete_model_alias(name: str, alias: str, store: StoreDep) -> Any:
    store.delete_model_alias(name, alias)
    return {}
