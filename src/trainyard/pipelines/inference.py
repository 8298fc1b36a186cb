"""Create inference pipeline: a completed training pipeline run as a model version to deploy.

Studio's real-time inference pipeline is web service input → the transformations the training
data went through before Train Model, with the same parameters → Score Model → web service
output. Here it is one registered model (``components/replay.py``): the walk goes back from
Train Model's dataset port to the data source, skipping Split Data (it only picks training
rows), and keeps each transformation if it gives a request row what it gave that row in
training. A step that learnt from the whole table (a mean, a scale) is refused by name, since
its fitted state is not one of its outputs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from trainyard.artifacts import run_key
from trainyard.artifacts.paths import join
from trainyard.components.base import get_component
from trainyard.components.model import TrainedModel
from trainyard.components.replay import InferencePipeline, Transformation
from trainyard.errors import InvalidInputError
from trainyard.pipelines.record import STEP_TAG, PipelineRecord, StepRecord
from trainyard.status import RunStatus

if TYPE_CHECKING:
    from trainyard.registry import Model
    from trainyard.workspace import Workspace

TRAIN = "train-model"
SOURCES = {"import-data"}  # where the rows come from: a request replaces them
TRAINING_ONLY = {"split-data"}  # which rows to train on; a request row is scored whatever it is
ROW_WISE = {"select-columns", "edit-metadata", "clean-missing-data", "normalize-data"}
WHOLE_TABLE = {
    "clean-missing-data": {"mean", "median", "mode", "iterative", "remove_column"},
    "normalize-data": {"zscore", "minmax"},
}
MODE_PARAM = {"clean-missing-data": "cleaning_mode", "normalize-data": "method"}


def refusal(name: str, step: StepRecord, params: dict[str, Any]) -> str | None:
    """Why step ``name`` cannot be replayed on request rows, or ``None`` if it can."""
    what = step.what
    if what not in ROW_WISE:
        return f"step {name!r} ({what}) is not a row-wise transformation trainyard can replay on request rows"
    mode = params.get(MODE_PARAM.get(what, ""))
    if mode in WHOLE_TABLE.get(what, ()):
        return (
            f"step {name!r} ({what}, {MODE_PARAM[what]}={mode}) learns from the whole training table, "
            "and what it learnt is not one of its outputs, so a request row would not get what the "
            "training rows got"
        )
    if what == "clean-missing-data" and (params["min_missing_ratio"], params["max_missing_ratio"]) != (0, 1):
        return (
            f"step {name!r} (clean-missing-data) cleans a column by its share of missing values "
            "in the whole table (min/max_missing_ratio), which one request row does not have"
        )
    return None


def _params(step: StepRecord, inputs: dict[str, JsonValue]) -> dict[str, Any]:
    """The step's parameters as it ran: literals, pipeline inputs, then the component's defaults."""
    comp = get_component(step.what)
    given = dict(step.params)
    for port in step.param_wires:
        wire = step.wires[port]
        given[port] = inputs.get(wire.name or "") if wire.kind == "parent" else wire.value
    return comp.validate_params(given)


def _table_wire(name: str, step: StepRecord) -> str | None:
    """The step that step ``name``'s one table input reads, or ``None`` for a pipeline input."""
    comp = get_component(step.what)
    ports = [p.name for p in comp.inputs if p.kind == "table" and p.name in step.wires]
    if len(ports) != 1:
        raise InvalidInputError(
            f"step {name!r} ({step.what}) reads {len(ports)} tables; only one can be replayed"
        )
    wire = step.wires[ports[0]]
    return wire.step if wire.kind == "step" else None


def train_step(record: PipelineRecord) -> str:
    """The pipeline's one Train Model step."""
    found = [name for name, step in record.steps.items() if step.what == TRAIN]
    if len(found) != 1:
        what = "has no train-model step" if not found else f"has {len(found)} train-model steps"
        raise InvalidInputError(f"the pipeline {what}; an inference pipeline is made from exactly one")
    return found[0]


def transformations(record: PipelineRecord, train: str) -> list[Transformation]:
    """The row-wise steps from the data source to ``train``'s dataset, in the order they ran."""
    chain: list[Transformation] = []
    upstream = record.steps[train].wires.get("dataset")
    current = upstream.step if upstream is not None and upstream.kind == "step" else None
    while current is not None:
        step = record.steps[current]
        if step.component is None:
            raise InvalidInputError(
                f"step {current!r} is a {step.what} step, which cannot be replayed on request rows"
            )
        if step.what in SOURCES:
            break
        if step.what not in TRAINING_ONLY:
            params = _params(step, record.inputs) if step.what in ROW_WISE else {}
            if why := refusal(current, step, params):
                raise InvalidInputError(f"cannot make an inference pipeline: {why}")
            version = step.component.partition("@")[2] or get_component(step.what).version
            chain.append(Transformation(current, step.what, version, params))
        current = _table_wire(current, step)
    return chain[::-1]


def _score_append(record: PipelineRecord, train: str) -> bool:
    """Score Model's ``append_score_columns_to_output`` where it scores ``train``'s model."""
    for step in record.steps.values():
        wire = step.wires.get("trained_model")
        if step.what == "score-model" and wire is not None and wire.step == train:
            return bool(step.params.get("append_score_columns_to_output", True))
    return True


def _trained_model(ws: Workspace, run_id: str, train: str, folder: Path) -> TrainedModel:
    children = [c for c in ws.store.search_runs(parent_id=run_id) if c.tags.get(STEP_TAG) == train]
    done = [c for c in children if c.status is RunStatus.COMPLETED]
    if not done:
        raise InvalidInputError(f"step {train!r} of pipeline run {run_id} has no completed run")
    prefix = run_key(max(done, key=lambda c: c.created_at).id, "outputs/trained_model")
    for name in ws.artifacts.list(prefix):
        ws.artifacts.download(join(prefix, name), folder / name)
    return TrainedModel.load(folder, trust=True)  # this workspace's own run wrote it


def make_inference_model(ws: Workspace, pipeline_run_id: str, name: str) -> Model:
    """Register the real-time inference pipeline of a completed training pipeline run as the
    next version of model ``name``; its lineage is the pipeline run."""
    from trainyard import models
    from trainyard.registry import Model
    from trainyard.registry.model import check_model_name

    check_model_name(name)
    info = ws.store.get_run(pipeline_run_id)
    record = PipelineRecord.of_run(info)
    if info.status is not RunStatus.COMPLETED:
        raise InvalidInputError(f"pipeline run {info.id} is {info.status.value}; it must have completed")
    train = train_step(record)
    steps = transformations(record, train)
    with tempfile.TemporaryDirectory() as tmp:
        trained = _trained_model(ws, info.id, train, Path(tmp) / "trained")
        pipeline = InferencePipeline(steps, trained, _score_append(record, train))
        folder = models.save(pipeline, Path(tmp) / "model")
        tags = {"pipeline.inference_of": info.id, "learner": trained.learner, "task": trained.task}
        return Model.register(ws, folder, name, tags=tags, run_id=info.id)
