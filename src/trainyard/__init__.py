"""trainyard: tracked runs, script jobs, environments and compute on your own machines.

    import trainyard as ty
    ws = ty.Workspace.from_config()
    run = ty.Experiment(ws, "diabetes").submit(ty.ScriptRunConfig("examples/diabetes", "train.py"))
    run.wait_for_completion(show_output=True)

Names are imported on first use, so ``from trainyard import Run`` in a training script does not
pay for the parts of trainyard it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CommandJob": "trainyard.jobs.spec",
    "Environment": "trainyard.environments",
    "InferenceConfig": "trainyard.serving.inference_config",
    "Experiment": "trainyard.sdk.run",
    "Run": "trainyard.sdk.run",
    "RunFailedError": "trainyard.sdk.run",
    "RunStatus": "trainyard.status",
    "ScriptRunConfig": "trainyard.sdk.script_run_config",
    "TrainyardError": "trainyard.errors",
    "Workspace": "trainyard.workspace",
    "load_job": "trainyard.jobs.spec",
    "Model": "trainyard.registry",
    "Data": "trainyard.data.assets",
    "PipelineJob": "trainyard.pipelines.spec",
    "load_pipeline": "trainyard.pipelines.spec",
    **{
        name: "trainyard.pipelines.dsl"
        for name in ("pipeline", "command", "Input", "Output", "load_component")
    },
    "SweepConfig": "trainyard.sdk.sweep",
    "AutoMLConfig": "trainyard.sdk.automl",
    "AutoMLRun": "trainyard.sdk.automl",
    "ManyModelsConfig": "trainyard.sdk.many_models",
    "ManyModelsRun": "trainyard.sdk.many_models",
    "submit_many_models": "trainyard.sdk.many_models",
    "SweepRun": "trainyard.sdk.sweep",
    "BanditPolicy": "trainyard.sweep.policy",
    "MedianStoppingPolicy": "trainyard.sweep.policy",
    "TruncationSelectionPolicy": "trainyard.sweep.policy",
    **{
        name: "trainyard.sweep.space"
        for name in (
            "choice",
            "randint",
            "uniform",
            "quniform",
            "loguniform",
            "qloguniform",
            "normal",
            "qnormal",
            "lognormal",
            "qlognormal",
        )
    },
}

__all__ = [
    "AutoMLConfig",
    "AutoMLRun",
    "BanditPolicy",
    "CommandJob",
    "Data",
    "Environment",
    "Experiment",
    "InferenceConfig",
    "Input",
    "ManyModelsConfig",
    "ManyModelsRun",
    "Output",
    "PipelineJob",
    "Run",
    "RunFailedError",
    "RunStatus",
    "ScriptRunConfig",
    "TrainyardError",
    "Workspace",
    "MedianStoppingPolicy",
    "Model",
    "SweepConfig",
    "SweepRun",
    "TruncationSelectionPolicy",
    "choice",
    "command",
    "load_component",
    "load_job",
    "load_pipeline",
    "loguniform",
    "models",
    "lognormal",
    "normal",
    "pipeline",
    "qloguniform",
    "qlognormal",
    "qnormal",
    "quniform",
    "randint",
    "submit_many_models",
    "uniform",
]

if TYPE_CHECKING:
    from trainyard.data.assets import Data
    from trainyard.environments import Environment
    from trainyard.errors import TrainyardError
    from trainyard.jobs.spec import CommandJob, load_job
    from trainyard.pipelines.dsl import Input, Output, command, load_component, pipeline
    from trainyard.pipelines.spec import PipelineJob, load_pipeline
    from trainyard.registry import Model
    from trainyard.sdk.automl import AutoMLConfig, AutoMLRun
    from trainyard.sdk.many_models import ManyModelsConfig, ManyModelsRun, submit_many_models
    from trainyard.sdk.run import Experiment, Run, RunFailedError
    from trainyard.sdk.script_run_config import ScriptRunConfig
    from trainyard.sdk.sweep import SweepConfig, SweepRun
    from trainyard.serving.inference_config import InferenceConfig
    from trainyard.status import RunStatus
    from trainyard.sweep.policy import BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy
    from trainyard.sweep.space import (
        choice,
        lognormal,
        loguniform,
        normal,
        qlognormal,
        qloguniform,
        qnormal,
        quniform,
        randint,
        uniform,
    )
    from trainyard.workspace import Workspace


_SUBMODULES = ("models",)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:  # ty.models.save(...), ty.models.load(...)
        return importlib.import_module(f"trainyard.{name}")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'trainyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
