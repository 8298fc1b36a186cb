"""Metrics, params and tags of a run: batched writes, metric history, tag removal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from trainyard.server.routes.deps import StoreDep
from trainyard.server.schemas import LogBatch, to_json

router = APIRouter(prefix="/api/v1/runs/{run_id}", tags=["metrics, params and tags"])


@router.post("/batch")
def log_batch(run_id: str, body: LogBatch, store: StoreDep) -> Any:
    """Metrics append, params are write-once, tags overwrite; all of it or nothing."""
    store.log_batch(run_id, [m.to_metric() for m in body.metrics], body.params, body.tags)
    return {}


@router.get("/metrics")
def get_metric_history(run_id: str, store: StoreDep, key: str | None = None) -> Any:
    return {"metrics": to_json(store.get_metric_history(run_id, key))}


@router.delete("/tags")
def delete_tag(run_id: str, key: Annotated[str, Query(min_length=1)], store: StoreDep) -> Any:
    store.delete_tag(run_id, key)
    return {}
