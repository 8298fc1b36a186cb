"""Data assets: versions per name (files in the artifact store or a reference), archive, lineage.

The server only records versions: the client copies the files into the artifact store first (the
artifact routes) and then creates the version naming their prefix, which must be a key inside it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from trainyard.api import routes
from trainyard.api.schemas import DataArchived, DataLineageIn, DataVersionCreate, Version, to_json
from trainyard.artifacts.paths import safe_name
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.routing import serve

router = APIRouter(tags=["data"])


@serve(router, routes.LIST_DATA)
def list_data(store: StoreDep) -> Any:
    return {"versions": to_json(store.list_data_versions())}


@serve(router, routes.CREATE_DATA_VERSION)
def create_data_version(
    name: str, body: DataVersionCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> Any:
    fields = body.model_dump()
    if fields["prefix"] is not None:
        fields["prefix"] = safe_name(fields["prefix"])  # a key inside the store
    return create_once(request, idempotency_key, lambda keyed: keyed.create_data_version(name, **fields))


@serve(router, routes.LIST_DATA_VERSIONS)
def list_data_versions(name: str, store: StoreDep) -> Any:
    return {"versions": to_json(store.list_data_versions(name))}


@serve(router, routes.GET_DATA_LATEST)
def get_data_latest(name: str, store: StoreDep) -> Any:
    return to_json(store.get_data_version(name))


@serve(router, routes.GET_DATA_VERSION)
def get_data_version(name: str, version: Version, store: StoreDep) -> Any:
    return to_json(store.get_data_version(name, version))


@serve(router, routes.SET_DATA_VERSION_ARCHIVED)
def set_data_version_archived(name: str, version: Version, body: DataArchived, store: StoreDep) -> Any:
    return to_json(store.set_data_version_archived(name, version, body.archived))


@serve(router, routes.RECORD_DATA_LINEAGE)
def record_data_lineage(body: DataLineageIn, store: StoreDep) -> Any:
    store.record_data_lineage(body.run_id, body.name, body.version, body.direction)
    return {}


@serve(router, routes.LIST_DATA_LINEAGE)
def list_data_lineage(
    store: StoreDep,
    run_id: str | None = None,
    name: str | None = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    return {"lineage": to_json(store.list_data_lineage(run_id=run_id, name=name, version=version))}
