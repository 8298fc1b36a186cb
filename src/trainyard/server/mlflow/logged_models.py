"""MLflow 3's logged models (``/api/2.0/mlflow/logged-models``): what ``log_model`` creates.

The Store has no table for them, so each one is a small JSON document in the artifact store
(``mlflow/logged-models/<id>.json``, written atomically, out of the proxy's reach). A model
logged inside a run keeps its files among the run's artifacts (``runs/<run>/models/<id>/``),
so ``trainyard run`` shows them and the registry can take them from there.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends

from trainyard.artifacts import run_key
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.server.mlflow.artifacts import SCHEME
from trainyard.server.mlflow.protocol import (
    Args,
    MlflowRoute,
    entity_filter,
    ordered,
    page,
    pairs_out,
    read_args,
)
from trainyard.server.mlflow.tracking import experiment_id_of

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

PREFIX = "mlflow/logged-models"
STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


class LoggedModels:
    """Read and write the JSON documents; ids are MLflow's ``m-<hex>``."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.artifacts = workspace.artifacts

    def _key(self, model_id: str) -> str:
        if not model_id.startswith("m-") or not model_id[2:].isalnum():
            raise NotFoundError(f"no logged model {model_id!r}")
        return f"{PREFIX}/{model_id}.json"

    def get(self, model_id: str) -> dict[str, Any]:
        try:
            return json.loads(self.artifacts.get_bytes(self._key(model_id)))
        except NotFoundError:
            raise NotFoundError(f"no logged model {model_id!r}") from None

    def save(self, info: dict[str, Any]) -> dict[str, Any]:
        info["last_updated_timestamp_ms"] = int(time.time() * 1000)
        self.artifacts.put_bytes(self._key(info["model_id"]), json.dumps(info).encode())
        return info

    def create(self, args: Args) -> dict[str, Any]:
        model_id = f"m-{uuid.uuid4().hex}"
        run_id = args.str("source_run_id")
        if run_id:
            self.workspace.store.get_run(run_id)
            location = run_key(run_id, f"models/{model_id}")
        else:
            location = f"mlflow-models/{model_id}"
        experiment = self.workspace.store.get_experiment(
            experiment_id_of(self.workspace.store, args.need("experiment_id"))
        )
        now = int(time.time() * 1000)
        return self.save(
            {
                "model_id": model_id,
                "experiment_id": experiment.id,
                "name": args.str("name") or model_id,
                "model_type": args.str("model_type", ""),
                "source_run_id": run_id,
                "artifact_uri": SCHEME + location,
                "status": "LOGGED_MODEL_PENDING",
                "creation_timestamp_ms": now,
                "tags": args.pairs("tags"),
                "params": args.pairs("params"),
            }
        )

    def all(self) -> list[dict[str, Any]]:
        return [self.get(name.removesuffix(".json")) for name in self.artifacts.list(PREFIX)]


def model_json(info: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in info.items() if k not in ("tags", "params") and v is not None}
    return {
        "info": {**fields, "tags": pairs_out(info["tags"])},
        "data": {"params": pairs_out(info["params"]), "metrics": []},
    }


def _field_alias(order: Any) -> Any:
    """MLflow names the timestamps ``creation_timestamp``; the documents keep milliseconds in ``…_ms``."""
    if isinstance(order, dict) and order.get("field_name") in (
        "creation_timestamp",
        "last_updated_timestamp",
    ):
        return {**order, "field_name": f"{order['field_name']}_ms"}
    return order


def logged_models_router(workspace: Workspace) -> APIRouter:
    router = APIRouter(prefix="/api/2.0/mlflow/logged-models", route_class=MlflowRoute, tags=["mlflow"])
    models = LoggedModels(workspace)

    @router.post("")
    def create(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"model": model_json(models.create(args))}

    @router.get("/{model_id}")
    def get(model_id: str) -> dict[str, Any]:
        return {"model": model_json(models.get(model_id))}

    @router.patch("/{model_id}")
    def finalize(model_id: str, args: Args = Depends(read_args)) -> dict[str, Any]:
        info = models.get(model_id)
        status = args.need("status")
        if status not in STATUSES:
            raise InvalidInputError(f"status {status!r}: use one of {', '.join(STATUSES)}")
        info["status"] = status
        return {"model": model_json(models.save(info))}

    def update(model_id: str, field: str, args: Args) -> dict[str, Any]:
        info = models.get(model_id)
        info[field].update(args.pairs(field))
        models.save(info)
        return {}

    @router.patch("/{model_id}/tags")
    def set_tags(model_id: str, args: Args = Depends(read_args)) -> dict[str, Any]:
        return update(model_id, "tags", args)

    @router.post("/{model_id}/params")
    def log_params(model_id: str, args: Args = Depends(read_args)) -> dict[str, Any]:
        return update(model_id, "params", args)

    @router.post("/search")
    def search(args: Args = Depends(read_args)) -> dict[str, Any]:
        keep = entity_filter(args.str("filter"))
        wanted = {experiment_id_of(workspace.store, str(e)) for e in args.list("experiment_ids")}
        found = [
            m
            for m in models.all()
            if (not wanted or m["experiment_id"] in wanted) and keep({"name": m["name"]}, m["tags"])
        ]
        found = ordered(
            found,
            [_field_alias(o) for o in args.list("order_by")]
            or [{"field_name": "creation_timestamp_ms", "ascending": False}],
            ("name", "model_id", "creation_timestamp_ms", "last_updated_timestamp_ms"),
        )
        items, token = page(found, args, default=100)
        return {"models": [model_json(m) for m in items], "next_page_token": token}

    return router
