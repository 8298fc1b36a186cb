"""The model registry: names, versions per name, aliases, archive and restore, updates and deletes.

A version's ``source`` is lineage (where its files came from), never fetched; still, it is held
to what a source can be, so nothing that acts on it later is pointed at the server's own network:
a path on the registering machine, a ``runs:/``, ``models:/`` or ``mlflow-artifacts:/`` URI, or an
http(s) URL to a public address (``url_guard``; private ones with ``--allow-private-urls``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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
from trainyard.errors import InvalidInputError
from trainyard.registry.model import delete_model, delete_version
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, WorkspaceDep, create_once
from trainyard.server.routing import serve
from trainyard.url_guard import SCHEMES, check_url

router = APIRouter(tags=["models"])
STORE_SCHEMES = ("runs", "models", "mlflow-artifacts")


def check_source(source: str, *, allow_private: bool) -> str:
    """``source`` if it is one a version may have, else ``InvalidInputError`` saying what may be."""
    scheme = urlsplit(source).scheme.lower() if "://" in source or ":/" in source else ""
    if scheme in SCHEMES:
        check_url(source, allow_private=allow_private)
    elif scheme and scheme not in STORE_SCHEMES and len(scheme) > 1:  # one letter: a Windows drive
        raise InvalidInputError(
            f"source {source!r}: a version's source is a path, a runs:/, models:/ or "
            "mlflow-artifacts:/ URI, or an http(s) URL"
        )
    return source


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
    check_source(body.source, allow_private=request.app.state.allow_private_urls)
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
