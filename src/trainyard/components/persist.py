"""Save as Trained Model and Load Trained Model: components over the model registry.

Save writes the model into its own run's ``outputs/model`` and registers it from there, so the
version's lineage leads to the run (and, through its ``component.source.model`` tag, to the run
that trained it). Load reads ``name``, ``name:3`` or ``name@alias`` back as a ``model`` value.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from trainyard.artifacts import run_key
from trainyard.components.base import Context, Param, Port, component
from trainyard.components.model import TrainedModel
from trainyard.components.report import Report

MODEL_DIR = "outputs/model"


@component(
    name="save-trained-model",
    display_name="Save as Trained Model",
    category="Model",
    description="Register a trained model in the model registry as the next version of a name.",
    inputs=[Port("model", "model", "The trained model to register.")],
    outputs=[Port("registration", "report", "The registered name and version.")],
    params=[
        Param("model_name", "string", description="Registry name; each save is its next version."),
        Param("alias", "string", None, "Also point this alias (e.g. staging) at the version.", optional=True),
        Param("description", "string", None, "A line about this version.", optional=True),
    ],
)
def save_trained_model(
    ctx: Context, model: TrainedModel, model_name: str, alias: str | None, description: str | None
) -> dict[str, Any]:
    from trainyard.registry import Model
    from trainyard.registry.model import check_model_name

    ws = ctx.require_workspace("save-trained-model")
    check_model_name(model_name)
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / "model")
        ws.artifacts.copy_tree_in(run_key(str(ctx.run_id), MODEL_DIR), folder)
    version = Model.register_from_run(
        ws,
        str(ctx.run_id),
        model_name,
        MODEL_DIR,
        tags={"learner": model.learner, "task": model.task},
        description=description,
    )
    if alias:
        version.set_alias(alias)
    ctx.log("model_version", version.version)
    data = {"name": version.name, "version": version.version, "alias": alias}
    return {"registration": Report(metrics={"model_version": float(version.version)}, data=data)}


@component(
    name="load-trained-model",
    display_name="Load Trained Model",
    category="Model",
    description="Read a registered model (name, name:version or name@alias) for scoring or evaluation.",
    inputs=[],
    outputs=[Port("model", "model", "The registered model.")],
    params=[Param("model", "model_ref", description="name, name:3 or name@alias.")],
)
def load_trained_model(ctx: Context, model: str) -> dict[str, Any]:
    from trainyard.registry import Model

    ws = ctx.require_workspace("load-trained-model")
    version = Model(ws, model)
    ctx.log("model_version", version.version)
    with tempfile.TemporaryDirectory() as tmp:
        return {"model": TrainedModel.load(version.download(tmp))}
