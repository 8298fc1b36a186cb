"""A pipeline parent's job record: every step as it will run, and how the steps are wired.

Written once at submit (each step's code snapshotted, environment resolved, pipeline inputs
pinned and hashed), read by the driver and by every driver restarted after it, by ``pipeline
show`` and ``pipeline rerun``, and stored as a published pipeline's version. A step's command
job is made from it when the step is ready (``step_job``): only then are the runs whose outputs
it reads known.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from trainyard.components.step import step_command
from trainyard.compute.job import JobKind, JobRecord
from trainyard.environments import Environment
from trainyard.jobs.run_outputs import output_hashes, output_uri
from trainyard.jobs.spec import CommandJob, PathInput
from trainyard.pipelines.spec import Settings

if TYPE_CHECKING:
    from trainyard.store import RunInfo, Store

STEP_TAG = "pipeline.step"
KEY_TAG = "pipeline.reuse_key"
REUSED_TAG = "pipeline.reused_from"
BEST_TRIAL_TAG = "sweep.best_run_id"  # a sweep step's outputs are its best trial's
# an output kind as the type of the input that reads it (a model or a table is a folder of files)
INPUT_TYPE = {"uri_file": "uri_file", "table": "uri_folder", "model": "uri_folder"}


def outputs_holder(store: Store, child: RunInfo) -> tuple[str, dict[str, str]]:
    """The run holding a finished step's outputs, and their hashes: the run it reused, a sweep's
    best trial, or the step's own run (the driver wires them on; the studio shows them)."""
    if REUSED_TAG in child.tags:  # the hashes were copied onto it
        return child.tags[REUSED_TAG], output_hashes(child.tags)
    if BEST_TRIAL_TAG in child.tags:
        best = store.get_run(child.tags[BEST_TRIAL_TAG])
        return best.id, output_hashes(best.tags)
    return child.id, output_hashes(child.tags)


class WireRecord(BaseModel):
    """A step input: a pipeline input (``name``), another step's output, or a literal ``value``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["parent", "step", "literal"]
    step: str | None = None
    name: str | None = None
    value: JsonValue = None


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    component: str | None = None  # "name@version" of a catalogue module; None for a command step
    command: str | list[str] | None = None  # a command step's, as written
    params: dict[str, JsonValue] = Field(default_factory=dict)  # a component's literal parameters
    param_wires: list[str] = Field(default_factory=list)  # its parameters given a pipeline input
    wires: dict[str, WireRecord] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)  # name -> kind
    output_specs: dict[str, JsonValue] = Field(default_factory=dict)  # a command step's OutputSpecs
    needs: list[str] = Field(default_factory=list)
    snapshot_id: str
    environment: Environment = Field(default_factory=Environment)
    compute: str = "local"
    timeout: float | None = None
    max_retries: int = 0
    tags: dict[str, str] = Field(default_factory=dict)
    display_name: str | None = None
    deterministic: bool = True
    force_rerun: bool = False
    sweep: dict[str, JsonValue] | None = None  # a sweep step's own keys (``sweep.spec.build_spec``'s)
    automl: dict[str, JsonValue] | None = None  # an AutoML step's ``AutoMLSettings``

    @property
    def what(self) -> str:
        """What the step runs, in a word: its component's name, or sweep, automl, command."""
        if self.component:
            return self.component.partition("@")[0]
        return "sweep" if self.sweep else "automl" if self.automl else "command"


class PipelineRecord(JobRecord):
    kind: ClassVar[JobKind | None] = JobKind.PIPELINE

    type: JobKind = JobKind.PIPELINE
    uses_slot: bool = False  # the driver waits on its steps: it takes no local slot from them
    settings: Settings = Field(default_factory=Settings)
    input_hashes: dict[str, str] = Field(default_factory=dict)  # a path input's content hash
    steps: dict[str, StepRecord]
    layers: list[list[str]]
    bound_outputs: dict[str, tuple[str, str]] = Field(default_factory=dict)  # output -> (step, output)

    def downstream(self, step: str) -> set[str]:
        """``step`` and every step that needs it, directly or not."""
        found = {step}
        for layer in self.layers:
            found.update(name for name in layer if found.intersection(self.steps[name].needs))
        return found

    def step_inputs(self, name: str, sources: dict[str, str]) -> dict[str, Any]:
        """Step ``name``'s inputs, with ``sources`` the run holding each finished step's outputs."""
        step = self.steps[name]
        inputs: dict[str, Any] = {}
        for port, wire in step.wires.items():
            if wire.kind == "parent":
                inputs[port] = self.inputs[wire.name or ""]
            elif wire.kind == "step":
                run_id = sources[wire.step or ""]
                kind = self.steps[wire.step or ""].outputs[wire.name or ""]
                if step.component:  # read by the component runner from the store, kind-checked
                    inputs[port] = f"runs:{run_id}/{wire.name}"
                else:
                    path = output_uri(run_id, wire.name or "")
                    inputs[port] = {"type": INPUT_TYPE.get(kind, "uri_folder"), "path": path}
            else:
                inputs[port] = wire.value
        return inputs

    def step_job(self, name: str, sources: dict[str, str]) -> CommandJob:
        """The command job of step ``name``, once the steps it needs have finished."""
        step = self.steps[name]
        inputs = self.step_inputs(name, sources)
        params = dict(step.params)
        if step.component:
            component = step.component.partition("@")[0]
            for port in step.param_wires:
                if isinstance(inputs[port], dict):  # a file for a path parameter: the worker's path
                    params[port] = f"${{{{inputs.{port}}}}}"
                else:  # a pipeline input given to a parameter
                    params[port] = inputs.pop(port)
            refs = {p: f"${{{{inputs.{p}}}}}" for p in inputs if p not in step.param_wires}
            command: str | list[str] = step_command(component, refs, params)
        else:
            command = step.command or []
        return CommandJob.model_validate(
            {
                "experiment_name": self.experiment_name,
                "display_name": step.display_name or name,
                "command": command,
                "inputs": inputs,
                "outputs": step.output_specs,
                "environment": step.environment,
                "compute": step.compute,
                "timeout": step.timeout,
                "max_retries": step.max_retries,
                "tags": step.tags,
            }
        )

    def reuse_key(self, name: str, job: CommandJob, output_hashes: dict[str, dict[str, str]]) -> str:
        """What a step's result depends on: its code, command, environment, component and the
        content of its inputs. ``output_hashes``: each finished step's outputs' hashes."""
        step = self.steps[name]
        content: dict[str, JsonValue] = {}
        for port, wire in step.wires.items():
            if wire.kind == "parent" and wire.name in self.input_hashes:
                content[port] = self.input_hashes[wire.name]
            elif wire.kind == "step":
                produced = output_hashes.get(wire.step or "", {})
                content[port] = produced.get(wire.name or "") or f"{wire.step}.{wire.name}: no hash"
            elif port in job.inputs:  # a literal (a component's parameters are in its command)
                value = job.inputs[port]
                content[port] = value.model_dump(mode="json") if isinstance(value, PathInput) else value
        doc = {
            "component": step.component,
            "snapshot": step.snapshot_id,
            "command": job.command,  # a component's holds its parameters
            "environment": step.environment.model_dump(mode="json"),
            "inputs": content,
            "outputs": {k: step.outputs[k] for k in sorted(step.outputs)},
            "sweep": step.sweep,
        }
        if step.automl is not None:  # only then: the keys of every other step stay as they were
            doc["automl"] = step.automl
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


__all__ = ["KEY_TAG", "REUSED_TAG", "STEP_TAG", "PipelineRecord", "StepRecord", "WireRecord"]
