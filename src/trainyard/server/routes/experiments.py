"""Experiments: create, get (by id or name), list, update (rename, delete, restore, tags), count runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from trainyard.api import routes
from trainyard.api.schemas import ExperimentCreate, ExperimentUpdate, to_json
from trainyard.deletion import RunView
from trainyard.errors import NotFoundError
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, create_once
from trainyard.server.routing import serve

router = APIRouter(tags=["experiments"])


@serve(router, routes.CREATE_EXPERIMENT)
def create_experiment(
    body: ExperimentCreate, request: Request, idempotency_key: IdempotencyKey = None
) -> Any:
    return create_once(request, idempotency_key, lambda keyed: keyed.create_experiment(body.name, body.tags))


@serve(router, routes.LIST_EXPERIMENTS)
def list_experiments(store: StoreDep, include_deleted: bool = False) -> Any:
    return {"experiments": to_json(store.list_experiments(include_deleted=include_deleted))}


@serve(router, routes.GET_EXPERIMENT_BY_NAME)
def get_experiment_by_name(name: Annotated[str, Query(min_length=1)], store: StoreDep) -> Any:
    found = store.get_experiment_by_name(name)
    if found is None:
        raise NotFoundError(f"no experiment named {name!r}")
    return to_json(found)


@serve(router, routes.GET_EXPERIMENT)
def get_experiment(experiment_id: str, store: StoreDep) -> Any:
    return to_json(store.get_experiment(experiment_id))


@serve(router, routes.COUNT_RUNS)
def count_runs(experiment_id: str, store: StoreDep, view: RunView = RunView.ACTIVE) -> Any:
    """The runs a search of the experiment shows: deleted ones left out unless asked for."""
    return {"count": store.count_runs(experiment_id, view=view)}


@serve(router, routes.UPDATE_EXPERIMENT)
def update_experiment(experiment_id: str, body: ExperimentUpdate, store: StoreDep) -> Any:
    return to_json(store.update_experiment(experiment_id, **body.model_dump()))
