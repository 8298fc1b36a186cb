"""Pipeline job specs in Azure ML CLI v2's shape, read with one-line errors.

::

    type: pipeline
    experiment_name: retrain
    inputs: {data: {type: uri_file, path: ./data.csv}, alpha: 0.5}
    outputs: {model: {type: uri_folder}}
    settings: {default_compute: local, continue_on_step_failure: false, force_rerun: false}
    jobs:
      prep:
        command: python prep.py --data ${{inputs.raw}} --out ${{outputs.train}}
        inputs: {raw: ${{parent.inputs.data}}}
        outputs: {train: {type: uri_folder}}
      train:
        component: azureml:train-model        # a catalogue module, optionally @version
        inputs: {dataset: ${{parent.jobs.prep.outputs.train}}, label_column: y}
        outputs: {trained_model: ${{parent.outputs.model}}}
      tune:
        type: automl                          # an AutoML job: automl_step.py reads its keys
        task: classification
        target_column_name: y
        training_data: ${{parent.jobs.prep.outputs.train}}

This module only parses; ``graph.py`` checks the wiring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import (
    DATA_REF,
    OUTPUT_TYPES,
    REFERENCE,
    InputValue,
    OutputSpec,
    PathInput,
    data_refs_as_inputs,
    problems,
    resolve_paths,
)
from trainyard.parallel.settings import SETTINGS_KEYS, ParallelSettings, command_fields
from trainyard.pipelines.automl_step import automl_step_fields
from trainyard.yamlfile import parse_yaml_mapping, read_yaml_mapping


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_compute: str = "local"
    continue_on_step_failure: bool = False
    force_rerun: bool = False


class Ports(BaseModel):
    """The typed interface of a command step made from a command component
    (``pipelines/components.py``), so the graph checks its wires as it checks a catalogue module's."""

    model_config = ConfigDict(extra="forbid")
    component: str  # name:version, or the component's file
    inputs: dict[str, str] = Field(default_factory=dict)  # input -> kind (or scalar type)
    outputs: dict[str, str] = Field(default_factory=dict)  # output -> kind


class Step(BaseModel):
    """One entry of ``jobs:``: a command (``command:``), a catalogue component (``component:``),
    a sweep of a command (``type: sweep`` with the sweep's keys; its outputs are the best
    trial's), or an AutoML job (``type: automl``, read by ``automl_step.py``)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="command", pattern="^(command|sweep|automl)$")
    display_name: str | None = None
    description: str | None = None
    component: str | None = None
    command: str | list[str] | None = None
    code: str = "."
    environment: Any = "default"
    compute: str | None = None
    timeout: int | None = None
    max_retries: int = Field(default=0, ge=0, le=10)
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    # an output is declared (command steps), or bound to a pipeline output: ${{parent.outputs.x}}
    outputs: dict[str, OutputSpec | str | None] = Field(default_factory=dict)
    force_rerun: bool = False
    is_deterministic: bool = True
    tags: dict[str, str] = Field(default_factory=dict)
    ports: Ports | None = None  # set by expand_component_steps, never written by hand
    # type: sweep (as in `trainyard sweep submit`'s YAML)
    search_space: dict[str, Any] | None = None
    sampling_algorithm: str | None = None
    objective: dict[str, Any] | None = None
    early_termination: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    seed: int | None = None
    # type: automl: its AutoMLSettings, made from its Azure keys when the YAML is read
    automl: dict[str, Any] | None = None

    def sweep_fields(self) -> dict[str, Any] | None:
        """The sweep's own keys (``build_spec``'s), None for a step that is not a sweep."""
        if self.type != "sweep":
            return None
        fields = {
            "search_space": self.search_space,
            "sampling": self.sampling_algorithm,
            "objective": self.objective,
            "early_termination": self.early_termination,
            "limits": self.limits,
            "seed": self.seed,
        }
        return {k: v for k, v in fields.items() if v is not None}


class PipelineJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^pipeline$")
    experiment_name: str = "Default"
    display_name: str | None = None
    description: str | None = None
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    outputs: dict[str, OutputSpec | None] = Field(default_factory=dict)
    settings: Settings = Field(default_factory=Settings)
    jobs: dict[str, Step] = Field(min_length=1)
    tags: dict[str, str] = Field(default_factory=dict)


def load_pipeline(path: str | Path, overrides: dict[str, str] | None = None) -> PipelineJob:
    """Read a pipeline YAML; ``overrides`` are ``--set inputs.x=v``; relative paths follow the file."""
    path = Path(path)
    raw = read_yaml_mapping(path, "pipeline")
    for key, given in (overrides or {}).items():
        kind, _, name = key.partition(".")
        if kind != "inputs" or not name:
            raise InvalidInputError(
                f"--set {key}={given}: only pipeline inputs can be set (inputs.NAME=VALUE)"
            )
        inputs = raw.setdefault("inputs", {})
        current = inputs.get(name)
        if isinstance(current, dict):  # a path typed on the command line is relative to the shell
            inputs[name] = {**current, "path": given_path(given)}
        else:
            inputs[name] = yaml.safe_load(given) if given else given
    job = _validated(raw, str(path))
    base = path.parent.resolve()
    resolve_paths(job.inputs, base, f"{path}: pipeline input")
    for name, step in job.jobs.items():
        step.code = str((base / step.code).resolve())
        resolve_paths(step.inputs, base, f"{path}: step {name!r} input")
        if step.component and is_component_file(step.component):  # relative to this file
            step.component = str((base / step.component.strip().removeprefix("file:")).resolve())
    return job


def _validated(raw: dict[str, Any], source: str) -> PipelineJob:
    """The spec read from ``raw``; ``source`` (the file) names it in the one-line error."""
    data_refs_as_inputs(raw)
    _parallel_steps_as_commands(raw)
    _automl_steps(raw)
    try:
        return PipelineJob.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"{source} is not a valid pipeline spec: {problems(exc)}") from None


def parse_pipeline(text: str, source: str = "the pipeline") -> PipelineJob:
    """A pipeline sent as YAML text (the studio's designer, ``POST /api/v1/pipeline-jobs``), read
    with the file's checks and messages. It comes with no folder, so nothing in it may be a
    local file: a command step's code, a component file, a local path input. Catalogue modules,
    registered components, data assets and URLs are what such a pipeline is made of."""
    job = _validated(parse_yaml_mapping(text, source, "pipeline", aliases=False), source)
    _no_local_paths(job.inputs, "pipeline input")
    for name, step in job.jobs.items():
        if step.command is not None:
            raise InvalidInputError(
                f"step {name!r} is a command step: its code is on your machine, so submit this "
                "pipeline with `trainyard pipeline submit -f FILE` (or register the step as a "
                "component: `trainyard component register FILE`)"
            )
        if step.component and is_component_file(step.component):
            raise InvalidInputError(
                f"step {name!r}: component {step.component!r} is a file on your machine; register it "
                "(`trainyard component register FILE`) and name it azureml:NAME:VERSION"
            )
        _no_local_paths(step.inputs, f"step {name!r} input")
    return job


def _no_local_paths(inputs: dict[str, InputValue], where: str) -> None:
    for name, value in inputs.items():
        if isinstance(value, PathInput) and "://" not in value.path and not value.is_data_ref:
            raise InvalidInputError(
                f"{where} {name!r}: {value.path!r} is a local path; give a data asset "
                "(azureml:NAME:VERSION) or a URL"
            )


def _parallel_steps_as_commands(raw: dict[str, Any]) -> None:
    """Each ``type: parallel`` step becomes the command step that runs the parallel runner over
    its ``input_data``, whose type (files or a table) comes from what it is wired to."""
    jobs, inputs = raw.get("jobs"), raw.get("inputs") or {}
    if not isinstance(jobs, dict):
        return
    for name, step in jobs.items():
        if not isinstance(step, dict) or step.get("type") != "parallel":
            continue
        typed = {port: _wired_type(value, inputs, jobs) for port, value in (step.get("inputs") or {}).items()}
        try:
            settings = ParallelSettings.model_validate({k: v for k, v in step.items() if k in SETTINGS_KEYS})
            fields = command_fields(settings, typed, step.get("outputs") or {})
        except ValidationError as exc:
            raise InvalidInputError(f"step {name!r} is not a valid parallel step: {problems(exc)}") from None
        except InvalidInputError as exc:
            raise InvalidInputError(f"step {name!r}: {exc}") from None
        kept = {k: v for k, v in step.items() if k not in SETTINGS_KEYS and k != "type"}
        base = Path(str(kept.pop("code", ".")))
        jobs[name] = {
            **kept,
            **fields,
            "code": str(base / fields["code"]) if fields.get("code") else str(base),
        }


def _automl_steps(raw: dict[str, Any]) -> None:
    """Each ``type: automl`` step's Azure keys become the step's inputs, output and settings."""
    jobs = raw.get("jobs")
    if not isinstance(jobs, dict):
        return
    for name, step in jobs.items():
        if isinstance(step, dict) and step.get("type") == "automl":
            jobs[name] = automl_step_fields(name, step)


def _wired_type(value: Any, inputs: dict[str, Any], jobs: dict[str, Any]) -> Any:
    """A parallel step's input as its type: a file, folder or table input, or the output it reads."""
    ref = REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    if ref is None:
        return value
    parts = ref.group(1).split(".")
    if parts[:2] == ["parent", "inputs"] and len(parts) == 3:
        return inputs.get(parts[2], value)
    if parts[:2] == ["parent", "jobs"] and len(parts) == 5 and parts[3] == "outputs":
        declared = ((jobs.get(parts[2]) or {}).get("outputs") or {}).get(parts[4])
        return declared if isinstance(declared, dict) else {"type": "uri_folder"}
    return value


def given_path(text: str) -> str:
    """A file or folder input given by a user: a URL or a data asset (``azureml:churn:3``) as
    written, a local path made absolute (relative to the working folder)."""
    if "://" in text or DATA_REF.match(text) is not None:
        return text
    return str(Path(text).resolve())


def is_component_file(ref: str) -> bool:
    """A step's ``component:`` that names a command component's YAML file (not a module's name)."""
    text = ref.strip()
    return text.startswith(("file:", ".", "/")) or "/" in text or text.endswith((".yml", ".yaml"))


__all__ = [
    "OUTPUT_TYPES",
    "OutputSpec",
    "PipelineJob",
    "Ports",
    "Settings",
    "Step",
    "load_pipeline",
    "parse_pipeline",
]
