"""Environments: register a spec (the same spec again is the same version), get, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from trainyard.api import routes
from trainyard.api.schemas import EnvironmentIn, to_json
from trainyard.server.routes.deps import StoreDep
from trainyard.server.routing import serve

router = APIRouter(tags=["environments"])


@serve(router, routes.REGISTER_ENVIRONMENT)
def register_environment(body: EnvironmentIn, store: StoreDep) -> Any:
    return to_json(store.register_environment(body.name, body.spec, body.spec_hash))


@serve(router, routes.LIST_ENVIRONMENTS)
def list_environments(store: StoreDep) -> Any:
    return {"environments": to_json(store.list_environments())}


@serve(router, routes.GET_ENVIRONMENT)
def get_environment(name: str, store: StoreDep, version: Annotated[int | None, Query(ge=1)] = None) -> Any:
    return to_json(store.get_environment(name, version))
