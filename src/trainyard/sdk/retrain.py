"""Retraining: run a registered model's training job again on new data, and swap the endpoint
onto the new model only if it beats the one in production on the same holdout (or if forced).

This is the reference documents' "retrain a model and update the web service": the training
comes from the model's lineage (a command job's code snapshot, command and environment, an
AutoML job's settings, or a chain of component runs: ``sdk/retrain_origin.py``), the new data
goes in as its data, the comparison is logged on the new run, the new deployment scores as the
one it replaces did (entry script, environment), and the old deployment stays up with no
traffic so that ``trainyard endpoint rollback`` can bring it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainyard.errors import InvalidInputError
from trainyard.registry import Model
from trainyard.sdk.retrain_origin import origin_of
from trainyard.sdk.run import Run
from trainyard.workspace import Workspace


def _rmse(y: Any, p: Any) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - np.asarray(p, dtype=float)) ** 2)))


def _metric(name: str) -> tuple[Any, str]:
    from sklearn import metrics

    table = {
        "r2": (metrics.r2_score, "maximize"),
        "rmse": (_rmse, "minimize"),
        "mae": (metrics.mean_absolute_error, "minimize"),
        "accuracy": (metrics.accuracy_score, "maximize"),
        "f1_weighted": (lambda y, p: metrics.f1_score(y, p, average="weighted"), "maximize"),
    }
    if name not in table:
        raise InvalidInputError(f"unknown metric {name!r}; use one of {', '.join(table)}")
    return table[name]


@dataclass(frozen=True)
class RetrainResult:
    run_id: str
    previous: str
    candidate: str
    metric: str
    previous_score: float
    candidate_score: float
    promoted: bool
    deployment: str | None


def _score(ws: Workspace, model: Model, frame: pd.DataFrame, label: str, fn: Any) -> float:
    from trainyard.models import load

    loaded = load(f"models:/{model.name}/{model.version}", workspace=ws)
    return float(fn(frame[label], loaded.predict(frame.drop(columns=[label]))))


def deploy_like(ws: Workspace, endpoint: str, name: str, model: str) -> None:
    """Deploy ``model`` as the deployment taking most of the traffic is deployed: the same entry
    script, environment, workers and request timeout (its model is the only change)."""
    from trainyard.serving import endpoints

    traffic = ws.store.get_endpoint(endpoint).traffic
    serving = max(ws.store.list_deployments(endpoint), key=lambda d: traffic.get(d.name, 0), default=None)
    if serving is None:
        endpoints.create_deployment(ws, endpoint, name, model)
        return
    endpoints.create_deployment(
        ws,
        endpoint,
        name,
        model,
        serving.workers,
        request_timeout=serving.request_timeout,
        inference_config=endpoints.inference_config_of(ws, endpoint, serving.name),
    )


def retrain(
    ws: Workspace,
    model: str,
    data: str | Path,
    holdout: str | Path,
    label: str,
    metric: str = "r2",
    endpoint: str | None = None,
    input_name: str = "data",
    force: bool = False,
    show_output: bool = False,
) -> RetrainResult:
    """Retrain ``model`` (e.g. ``diabetes@production``) on ``data``; promote it if it does better."""
    fn, goal = _metric(metric)
    data, holdout = Path(data).resolve(), Path(holdout).resolve()
    for path in (data, holdout):
        if not path.is_file():
            raise InvalidInputError(f"{path} does not exist")
    frame = pd.read_parquet(holdout) if holdout.suffix == ".parquet" else pd.read_csv(holdout)
    if label not in frame.columns:
        raise InvalidInputError(f"the holdout has no column {label!r} (it has: {', '.join(frame.columns)})")
    current = Model(ws, model)
    origin = origin_of(ws, current, input_name)
    if endpoint is not None:
        ws.store.get_endpoint(endpoint)  # an unknown endpoint fails before training, not after
    run_id, candidate = origin.train(
        data, {"retrain.from_model": current.id, "retrain.data": str(data)}, show_output
    )
    run = Run(ws, run_id)
    before, after = _score(ws, current, frame, label, fn), _score(ws, candidate, frame, label, fn)
    better = after > before if goal == "maximize" else after < before
    promoted = better or force
    run.log_metrics({f"holdout_{metric}_previous": before, f"holdout_{metric}_candidate": after})
    deployment = None
    if promoted:
        candidate.set_alias("production")
        if endpoint is not None:
            from trainyard.serving import endpoints

            deployment = re.sub(r"[^A-Za-z0-9-]", "-", f"v{candidate.version}-{current.name}")[:32]
            deploy_like(ws, endpoint, deployment, candidate.id)
            endpoints.set_traffic(ws, endpoint, {deployment: 100})
    run.set_tags({"retrain.promoted": promoted, "retrain.forced": force and not better})
    run.flush()
    return RetrainResult(run.id, current.id, candidate.id, metric, before, after, promoted, deployment)
