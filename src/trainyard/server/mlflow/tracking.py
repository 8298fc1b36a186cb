"""MLflow's experiments, runs, params, metrics and tags, answered from trainyard's Store.

Experiments are trainyard experiments (MLflow's experiment ``"0"`` is the one named
``Default``); runs are trainyard runs, their MLflow statuses mapped onto trainyard's. What the
Store has no column for is kept in run tags: the models a run used and produced
(``trainyard.mlflow.inputs`` and ``trainyard.mlflow.outputs``). A run's lifecycle is trainyard's
soft delete (``trainyard.deletion``), which MLflow's ``run_view_type`` maps onto.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends

from trainyard.api.schemas import encode_float
from trainyard.compute.external import EXTERNAL
from trainyard.deletion import RunView, is_deleted
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.server.mlflow.artifacts import run_artifact_uri
from trainyard.server.mlflow.datasets import RunDatasets
from trainyard.server.mlflow.protocol import (
    Args,
    MlflowRoute,
    entity_filter,
    ms,
    ordered,
    page,
    pairs_out,
    read_args,
    run_id_of,
)
from trainyard.server.routes.deps import PrincipalDep, refuse_user_tag
from trainyard.status import RunStatus
from trainyard.store.base import Store
from trainyard.store.records import USER_TAG, Experiment, Metric, RunInfo
from trainyard.store.search import Clause, parse_filter

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

DEFAULT_EXPERIMENT = "Default"
# the models a run used and produced (MLflow 3's LoggedModelInput / LoggedModelOutput)
MODEL_LINK_TAGS = {"inputs": "trainyard.mlflow.inputs", "outputs": "trainyard.mlflow.outputs"}
RUN_NAME_TAG = "mlflow.runName"
LOG_MODEL_TAG = "mlflow.log-model.history"
STATUS_OUT = {
    RunStatus.QUEUED: "SCHEDULED",
    RunStatus.PREPARING: "SCHEDULED",
    RunStatus.RUNNING: "RUNNING",
    RunStatus.COMPLETED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELED: "KILLED",
}
STATUS_IN = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.QUEUED,
    "FINISHED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELED,
}
# log-batch limits of MLflow's service.proto
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_ITEMS = 1000
MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}
VIEW_TYPES = {"ACTIVE_ONLY": RunView.ACTIVE, "DELETED_ONLY": RunView.DELETED, "ALL": RunView.ALL}
MS_ATTRIBUTES = ("start_time", "end_time")  # what MLflow clients compare in milliseconds


def experiment_json(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": exp.id,
        "name": exp.name,
        "artifact_location": "mlflow-artifacts:/runs",
        "lifecycle_stage": "deleted" if exp.deleted else "active",
        "creation_time": ms(exp.created_at),
        "last_update_time": ms(exp.created_at),
        "tags": pairs_out(exp.tags),
    }


def run_json(run: RunInfo, datasets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The run as MLflow writes it; dataset inputs only where given (``runs/get``)."""
    info = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.tags.get(RUN_NAME_TAG, run.name),
        "experiment_id": run.experiment_id,
        "user_id": run.tags.get(USER_TAG, ""),
        "status": STATUS_OUT[run.status],
        "start_time": ms(run.start_time or run.created_at),
        "end_time": ms(run.end_time),
        "artifact_uri": run_artifact_uri(run.id),
        "lifecycle_stage": "deleted" if is_deleted(run.tags) else "active",
    }
    links = {side: json.loads(run.tags.get(tag, "[]")) for side, tag in MODEL_LINK_TAGS.items()}
    return {
        "info": {k: v for k, v in info.items() if v is not None},
        "data": {
            "metrics": [{"key": k, "value": encode_float(v)} for k, v in sorted(run.metrics.items())],
            "params": pairs_out(run.params),
            "tags": pairs_out(run.tags),
        },
        "inputs": {
            "model_inputs": [{"model_id": m["model_id"]} for m in links["inputs"]],
            "dataset_inputs": datasets or [],
        },
        "outputs": {"model_outputs": links["outputs"]},
    }


def metric_json(m: Metric) -> dict[str, Any]:
    return {"key": m.key, "value": encode_float(m.value), "timestamp": ms(m.timestamp), "step": m.step}


def experiment_id_of(store: Store, given: str) -> str:
    """MLflow's experiment ``"0"`` is the one named ``Default``."""
    return store.get_or_create_experiment(DEFAULT_EXPERIMENT).id if given == "0" else given


def tracking_router(workspace: Workspace) -> APIRouter:
    """Experiments, runs and their data under ``/api/2.0/mlflow``."""
    router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])
    store = workspace.store
    datasets = RunDatasets(workspace)

    def experiment_id(args: Args) -> str:
        return experiment_id_of(store, args.need("experiment_id"))

    def run_of(args: Args) -> RunInfo:
        return store.get_run(run_id_of(args))

    # experiments -------------------------------------------------------------------------
    @router.post("/experiments/create")
    def create_experiment(args: Args = Depends(read_args)) -> dict[str, Any]:
        if args.str("artifact_location"):
            raise InvalidInputError(
                "artifact_location: the server keeps every run's files in its artifact store"
            )
        exp = store.create_experiment(args.need("name"), tags=args.pairs("tags"))
        return {"experiment_id": exp.id}

    @router.get("/experiments/get")
    def get_experiment(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"experiment": experiment_json(store.get_experiment(experiment_id(args)))}

    @router.get("/experiments/get-by-name")
    def get_experiment_by_name(args: Args = Depends(read_args)) -> dict[str, Any]:
        name = args.need("experiment_name")
        exp = store.get_experiment_by_name(name)
        if exp is None:
            raise NotFoundError(f"no experiment named {name!r}")
        return {"experiment": experiment_json(exp)}

    @router.get("/experiments/search")
    @router.post("/experiments/search")
    def search_experiments(args: Args = Depends(read_args)) -> dict[str, Any]:
        view = args.str("view_type", "ACTIVE_ONLY")
        if view not in VIEW_TYPES:
            raise InvalidInputError(f"view_type {view!r}: use one of {', '.join(VIEW_TYPES)}")
        keep = entity_filter(args.str("filter"))
        found = [
            e
            for e in store.list_experiments(include_deleted=view != "ACTIVE_ONLY")
            if keep({"name": e.name}, e.tags) and (view != "DELETED_ONLY" or e.deleted)
        ]
        rows = ordered(
            [experiment_json(e) for e in found],
            args.list("order_by") or ["creation_time DESC"],
            ("name", "experiment_id", "creation_time", "last_update_time"),
        )
        items, token = page(rows, args)
        return {"experiments": items, "next_page_token": token}

    @router.post("/experiments/delete")
    def delete_experiment(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.update_experiment(experiment_id(args), deleted=True)
        return {}

    @router.post("/experiments/restore")
    def restore_experiment(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.update_experiment(experiment_id(args), deleted=False)
        return {}

    @router.post("/experiments/update")
    def rename_experiment(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.update_experiment(experiment_id(args), name=args.need("new_name"))
        return {}

    @router.post("/experiments/set-experiment-tag")
    def set_experiment_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.update_experiment(experiment_id(args), tags={args.need("key"): args.str("value") or ""})
        return {}

    @router.post("/experiments/delete-experiment-tag")
    def delete_experiment_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        exp = store.get_experiment(experiment_id(args))
        key = args.need("key")
        if key not in exp.tags:
            raise NotFoundError(f"experiment {exp.id} has no tag {key!r}")
        store.update_experiment(exp.id, tags={key: None})
        return {}

    # runs ----------------------------------------------------------------------------------
    @router.post("/runs/create")
    def create_run(principal: PrincipalDep, args: Args = Depends(read_args)) -> dict[str, Any]:
        """The run's user (``user_id``, the tag ``mlflow.user``) is the caller the server
        authenticated, as v1's ``POST /runs`` records it: MLflow clients send the login name of
        the machine they run on (``getpass.getuser()``) in both, which is ignored, so a run is never
        recorded as someone else's and an unmodified client still works."""
        tags = {k: v for k, v in args.pairs("tags").items() if k != USER_TAG}
        args.str("user_id")  # still checked as a string, as MLflow's proto has it
        tags[USER_TAG] = principal.user
        name = args.str("run_name") or tags.get(RUN_NAME_TAG)
        if name:
            tags[RUN_NAME_TAG] = name
        exp = store.get_experiment(experiment_id(args))
        if exp.deleted:
            raise InvalidInputError(f"experiment {exp.id} is deleted; restore it before creating runs in it")
        run = store.create_run(exp.id, name=name, status=RunStatus.RUNNING, compute=EXTERNAL, tags=tags)
        return {"run": run_json(run)}

    @router.get("/runs/get")
    def get_run(args: Args = Depends(read_args)) -> dict[str, Any]:
        run = run_of(args)
        return {"run": run_json(run, datasets.get(run))}

    @router.post("/runs/update")
    def update_run(args: Args = Depends(read_args)) -> dict[str, Any]:
        run = run_of(args)
        if args.str("run_name"):
            store.log_batch(run.id, tags={RUN_NAME_TAG: args.need("run_name")})
        status = args.str("status")
        if status is not None:
            if status not in STATUS_IN:
                raise InvalidInputError(f"status {status!r}: use one of {', '.join(STATUS_IN)}")
            if STATUS_IN[status] != run.status:
                store.set_status(run.id, STATUS_IN[status])
        info = run_json(store.get_run(run.id))["info"]
        return {"run_info": info}

    @router.post("/runs/delete")
    def delete_run(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.delete_runs([run_id_of(args)])
        return {}

    @router.post("/runs/restore")
    def restore_run(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.restore_runs([run_id_of(args)])
        return {}

    @router.post("/runs/search")
    def search_runs(args: Args = Depends(read_args)) -> dict[str, Any]:
        view = args.str("run_view_type", "ACTIVE_ONLY")
        if view not in VIEW_TYPES:
            raise InvalidInputError(f"run_view_type {view!r}: use one of {', '.join(VIEW_TYPES)}")
        found = store.search_runs(
            [experiment_id_of(store, str(e)) for e in args.list("experiment_ids")] or None,
            filter_string=in_seconds(args.str("filter")),
            order_by=[str(o) for o in args.list("order_by")] or None,
            max_results=args.int("max_results", 1000),
            page_token=args.str("page_token"),
            view=VIEW_TYPES[view],
        )
        return {"runs": [run_json(r) for r in found], "next_page_token": found.next_page_token}

    # params, metrics, tags -------------------------------------------------------------------
    @router.post("/runs/log-metric")
    def log_metric(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.log_metric(run_id_of(args), metric_of(args))
        return {}

    @router.post("/runs/log-parameter")
    def log_param(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.log_batch(run_id_of(args), params={args.need("key"): args.str("value") or ""})
        return {}

    @router.post("/runs/set-tag")
    def set_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        refuse_user_tag([args.need("key")])
        store.log_batch(run_id_of(args), tags={args.need("key"): args.str("value") or ""})
        return {}

    @router.post("/runs/delete-tag")
    def delete_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        run = run_of(args)
        key = args.need("key")
        refuse_user_tag([key])
        if key not in run.tags:
            raise NotFoundError(f"run {run.id} has no tag {key!r}")
        store.delete_tag(run.id, key)
        return {}

    @router.post("/runs/log-batch")
    def log_batch(args: Args = Depends(read_args)) -> dict[str, Any]:
        """The hot path of MLflow clients: no run read, the store's write checks that the run exists."""
        run_id = run_id_of(args)
        check_batch_limits(args)
        tags = args.pairs("tags")
        refuse_user_tag(tags)
        raw = args.items("metrics")
        metrics = [metric_of(m) for m in raw]
        linked = {m for m, given in zip(metrics, raw, strict=True) if given.str("model_id")}
        if linked:  # MLflow 3's log_model re-sends the run's metrics to link them to the model
            seen = {m for key in {m.key for m in linked} for m in store.get_metric_history(run_id, key)}
            metrics = [m for m in metrics if m not in linked or m not in seen]
        store.log_batch(run_id, metrics=metrics, params=args.pairs("params"), tags=tags)
        return {}

    def link_models(args: Args, side: str) -> None:
        if not args.list("models"):
            return
        run = run_of(args)
        links = json.loads(run.tags.get(MODEL_LINK_TAGS[side], "[]"))
        for model in args.items("models"):
            entry = {"model_id": model.need("model_id"), "step": model.int("step", 0)}
            if entry not in links:
                links.append(entry)
        store.log_batch(run.id, tags={MODEL_LINK_TAGS[side]: json.dumps(links)})

    @router.post("/runs/log-model")
    def log_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        """MLflow 2 clients record each logged model's MLmodel here; MLflow keeps them in this tag too."""
        run = run_of(args)
        try:
            model = json.loads(args.need("model_json"))
        except json.JSONDecodeError:
            raise InvalidInputError("model_json must hold the model's MLmodel as JSON") from None
        history = json.loads(run.tags.get(LOG_MODEL_TAG, "[]"))
        store.log_batch(run.id, tags={LOG_MODEL_TAG: json.dumps([*history, model])})
        return {}

    @router.post("/runs/outputs")
    def log_outputs(args: Args = Depends(read_args)) -> dict[str, Any]:
        link_models(args, "outputs")
        return {}

    @router.post("/runs/log-inputs")
    def log_inputs(args: Args = Depends(read_args)) -> dict[str, Any]:
        run = run_of(args)
        if args.list("datasets"):
            datasets.add(run, args.items("datasets"))
        link_models(args, "inputs")
        return {}

    @router.get("/metrics/get-history")
    def metric_history(args: Args = Depends(read_args)) -> dict[str, Any]:
        history = store.get_metric_history(run_of(args).id, args.need("metric_key"))
        items, token = page(history, args, default=25_000)
        return {"metrics": [metric_json(m) for m in items], "next_page_token": token}

    return router


def metric_of(args: Args) -> Metric:
    """A metric as MLflow sends it: milliseconds, step 0 when left out."""
    timestamp = args.int("timestamp")
    if timestamp is None:
        raise InvalidInputError("missing value for parameter 'timestamp' (milliseconds since the epoch)")
    return Metric(args.need("key"), args.number("value"), args.int("step", 0) or 0, timestamp / 1000)


def in_seconds(filter_string: str | None) -> str | None:
    """The filter with MLflow's millisecond times (``attributes.start_time > 1732500000000``) in seconds."""
    clauses = parse_filter(filter_string)
    if not any(c.entity == "attribute" and c.key in MS_ATTRIBUTES for c in clauses):
        return filter_string
    return " and ".join(_clause_text(_in_seconds(c)) for c in clauses)


def _in_seconds(clause: Clause) -> Clause:
    if clause.entity == "attribute" and clause.key in MS_ATTRIBUTES and isinstance(clause.value, float | int):
        return replace(clause, value=clause.value / 1000)
    return clause


def _clause_text(clause: Clause) -> str:
    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    value = clause.value
    if isinstance(value, tuple):
        text = "(" + ", ".join(quoted(v) for v in value) + ")"
    else:
        text = repr(value) if isinstance(value, float) else quoted(value)
    return f"{clause.entity}s.`{clause.key}` {clause.op} {text}"


def check_batch_limits(args: Args) -> None:
    """MLflow's per-request limits, so a client gets the same answer here as from MLflow."""
    if args.size > MAX_BATCH_BYTES:
        raise InvalidInputError(
            f"log-batch: the request is {args.size} bytes; the limit is {MAX_BATCH_BYTES}"
        )
    total = 0
    for field, limit in MAX_BATCH.items():
        count = len(args.list(field))
        total += count
        if count > limit:
            raise InvalidInputError(f"log-batch: {count} {field} in one request; the limit is {limit}")
    if total > MAX_BATCH_ITEMS:
        raise InvalidInputError(f"log-batch: {total} items in one request; the limit is {MAX_BATCH_ITEMS}")
