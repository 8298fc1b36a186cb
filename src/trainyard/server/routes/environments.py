"""Environments: register a spec (the same spec again is the same version), get, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from trainyard.server.routes.deps import StoreDep
from trainyard.server.schemas import EnvironmentIn, to_json

router = APIRouter(prefix="/api/v1/environments", tags=["environments"])


@router.post("")
def register_environment(body: EnvironmentIn, store: StoreDep) -> Any:
    return to_json(store.register_environment(body.name, body.spec, body.spec_hash))


@router.get("")
def list_environments(store: StoreDep) -> Any:
    return {"environments": to_json(store.list_environments())}


@router.get("/{name}")
def get_environment(name: str, store: StoreDep, version: Annotated[int | None, Query(ge=1)] = None) -> Any:
    return to_json(store.get_environment(name, version))
