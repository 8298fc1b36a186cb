"""Metrics, params and tags of a run: batched writes, metric history, tag removal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from trainyard.api import routes
from trainyard.api.schemas import LogBatch, from_json, to_json
from trainyard.server.routes.deps import StoreDep
from trainyard.server.routing import serve
from trainyard.store import Metric

router = APIRouter(tags=["metrics, params and tags"])


@serve(router, routes.LOG_BATCH)
def log_batch(run_id: str, body: LogBatch, store: StoreDep) -> Any:
    """Metrics append, params are write-once, tags overwrite; all of it or nothing."""
    store.log_batch(run_id, [from_json(Metric, m.model_dump()) for m in body.metrics], body.params, body.tags)
    return {}


@serve(router, routes.GET_METRIC_HISTORY)
def get_metric_history(run_id: str, store: StoreDep, key: str | None = None) -> Any:
    return {"metrics": to_json(store.get_metric_history(run_id, key))}


@serve(router, routes.DELETE_TAG)
def delete_tag(run_id: str, key: Annotated[str, Query(min_length=1)], store: StoreDep) -> Any:
    store.delete_tag(run_id, key)
    return {}
