"""Metrics, params and tags of a run: batched writes, metric history (whole, or one key cut to a
chart's width, for one run or several at once), tag removal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from trainyard.api import routes
from trainyard.api.schemas import LogBatch, from_json, to_json
from trainyard.limits import MAX_SERIES_POINTS, MAX_SERIES_RUNS, MIN_SERIES_POINTS
from trainyard.server.routes.deps import IdempotencyKey, StoreDep, refuse_user_tag, scoped_key
from trainyard.server.routing import serve
from trainyard.store import Metric

router = APIRouter(tags=["metrics, params and tags"])


@serve(router, routes.LOG_BATCH)
def log_batch(
    run_id: str, body: LogBatch, request: Request, store: StoreDep, idempotency_key: IdempotencyKey = None
) -> Any:
    """Metrics append, params are write-once, tags overwrite; all of it or nothing.

    The ``Idempotency-Key`` is the batch's id (scoped to the caller): a batch sent again after
    its reply was lost is stored once.
    """
    refuse_user_tag(body.tags)
    metrics = [from_json(Metric, m.model_dump()) for m in body.metrics]
    batch_id = scoped_key(request, idempotency_key) if idempotency_key else None
    store.log_batch(run_id, metrics, body.params, body.tags, batch_id=batch_id, attempt=body.attempt)
    return {}


@serve(router, routes.GET_METRIC_HISTORY)
def get_metric_history(
    run_id: str,
    store: StoreDep,
    key: str | None = None,
    attempt: Annotated[int | None, Query(description="An earlier attempt; the last by default.")] = None,
) -> Any:
    return {"metrics": to_json(store.get_metric_history(run_id, key, attempt=attempt))}


Points = Annotated[
    int, Query(ge=MIN_SERIES_POINTS, le=MAX_SERIES_POINTS, description="The chart's width in pixels.")
]
MinStep = Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1, description="Only steps from this one.")]
MaxStep = Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1, description="Only steps up to this one.")]


@serve(router, routes.GET_METRIC_SERIES)
def get_metric_series(
    run_id: str,
    key: Annotated[str, Query(min_length=1)],
    store: StoreDep,
    points: Points = 1000,
    min_step: MinStep = None,
    max_step: MaxStep = None,
    attempt: Annotated[int | None, Query(description="An earlier attempt; the last by default.")] = None,
) -> Any:
    """The series ``key`` as columns (``Store.get_metric_series``): exact when it has at most
    ``points`` values between the steps asked, else each step range's min and max."""
    series = store.get_metric_series(
        run_id, key, points, min_step=min_step, max_step=max_step, attempt=attempt
    )
    return JSONResponse(to_json(series))


@serve(router, routes.GET_METRIC_SERIES_BATCH)
def get_metric_series_batch(
    run_id: Annotated[
        list[str],
        Query(min_length=1, max_length=MAX_SERIES_RUNS, description="The runs, one `run_id=` each."),
    ],
    key: Annotated[str, Query(min_length=1)],
    store: StoreDep,
    points: Points = 1000,
    min_step: MinStep = None,
    max_step: MaxStep = None,
) -> Any:
    """The series ``key`` of each run (its last attempt), cut as ``metric-series`` cuts one, in
    the order asked: what a compare chart draws, in one request rather than one per run, and in a
    few queries rather than a few per run (``Store.get_metric_series_of_runs``). A run that never
    logged ``key`` has an empty series; an unknown run is a 404 naming it."""
    asked = list(dict.fromkeys(run_id))
    cut = store.get_metric_series_of_runs(asked, key, points, min_step=min_step, max_step=max_step)
    body = {"series": [{"run_id": rid, **to_json(series)} for rid, series in zip(asked, cut, strict=True)]}
    return JSONResponse(body)  # plain JSON already: FastAPI's encoder would walk every value again


@serve(router, routes.DELETE_TAG)
def delete_tag(run_id: str, key: Annotated[str, Query(min_length=1)], store: StoreDep) -> Any:
    refuse_user_tag([key])
    store.delete_tag(run_id, key)
    return {}
