"""Job specs: what is submitted. A command job is code + a command + inputs + environment + compute.

YAML follows Azure ML's v2 command job shape::

    experiment_name: diabetes
    code: ./src
    command: python train.py --alpha ${{inputs.alpha}} --data ${{inputs.data}}
    outputs:
      model: {type: uri_folder}   # the command writes ${{outputs.model}}; uploaded as outputs/model/
    inputs:
      alpha: 0.5
      data: {type: uri_file, path: ./diabetes.csv}
    environment: {requirements: [scikit-learn]}   # or the name of a registered one; default: this Python
    compute: local        # or a target of `trainyard compute create` (a Ray cluster)
    resources: {cpu: 1, memory: 2GiB}   # what a run reserves on a Ray target
    distribution: {type: pytorch, process_count_per_instance: 2}   # DDP: 2 ranks (instance_count: 1)
    timeout: 3600
    max_retries: 1        # run again (up to once) if the worker is lost

The command is split into an argv list first and ``${{inputs.x}}`` is substituted inside each
argument, so an input value is always exactly one argument: never parsed by a shell.

A ``type: parallel`` file (``parallel/settings.py``) is read as the command job that runs the
parallel runner over its ``input_data``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trainyard.compute.job import Distribution, JobResources
from trainyard.environments import Environment
from trainyard.environments.spec import read_requirements
from trainyard.errors import InvalidInputError
from trainyard.numbers import Count, Duration
from trainyard.parallel.settings import as_command_job
from trainyard.yamlfile import read_yaml_mapping

REFERENCE = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


DATA_REF = re.compile(r"^(?:data|azureml):[\w.-]+(?::\d+|@latest)?$")


class PathInput(BaseModel):
    """A file or folder; ``path`` may name a data asset (``azureml:churn:3``, ``data:churn@latest``).

    A data asset input is pinned at submit: ``asset`` holds ``name:version`` and ``path`` the
    local path (or on a server workspace ``data://name/version``, fetched by the worker).
    """

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="uri_folder", pattern="^(uri_file|uri_folder|table)$")
    path: str
    mode: str | None = Field(default=None, pattern="^(ro_mount|download)$")
    asset: str | None = None

    @property
    def is_data_ref(self) -> bool:
        return self.asset is None and DATA_REF.match(self.path) is not None


InputValue = str | int | float | bool | PathInput

# Azure's output types, and the port kind each one carries (a component port's kind is its own).
OUTPUT_TYPES = {
    "uri_folder": "uri_folder",
    "uri_file": "uri_file",
    "mltable": "table",
    "mlflow_model": "model",
    "custom_model": "model",
}


class OutputSpec(BaseModel):
    """A named output: a folder the step writes. ``name``/``version`` name a data asset to register."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="uri_folder", pattern="^(" + "|".join(OUTPUT_TYPES) + ")$")
    name: str | None = None
    version: str | None = None
    description: str | None = None

    @property
    def kind(self) -> str:
        return OUTPUT_TYPES[self.type]


class CommandJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="command", pattern="^command$")
    experiment_name: str = "Default"
    display_name: str | None = None
    description: str | None = None
    code: str = "."
    command: str | list[str]
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    # each output is a folder the command writes, given as ${{outputs.x}}: ./outputs/x, uploaded
    outputs: dict[str, OutputSpec | None] = Field(default_factory=dict)
    environment: Environment | str = "default"
    compute: str = "local"
    timeout: Duration | None = None  # seconds
    max_retries: Count = Field(default=0, ge=0, le=10)
    resources: JobResources = Field(default_factory=JobResources)  # what a Ray target reserves
    distribution: Distribution | None = None  # PyTorch: N processes per instance, as torchrun starts them
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not (value.strip() if isinstance(value, str) else value):
            raise ValueError("the command is empty; give the program to run, e.g. 'python train.py'")
        return value

    def argv(self, search_space: Mapping[str, object] | None = None) -> list[str]:
        """The command as an argv list with every ``${{inputs.x}}`` replaced.

        ``${{search_space.x}}`` is allowed in a sweep's trial command, with the trial's values.
        """
        try:
            parts = (
                shlex.split(self.command) if isinstance(self.command, str) else [str(p) for p in self.command]
            )
        except ValueError as exc:
            raise InvalidInputError(f"cannot parse the command {self.command!r}: {exc}") from None
        namespaces: dict[str, Mapping[str, object]] = {
            "inputs": {k: v.path if isinstance(v, PathInput) else v for k, v in self.inputs.items()},
            "outputs": {k: f"outputs/{k}" for k in self.outputs},
        }
        if search_space is not None:
            namespaces["search_space"] = search_space
        return [REFERENCE.sub(lambda m: _substitute(m.group(1), namespaces), part) for part in parts]

    def references(self, kind: str) -> set[str]:
        """Names used as ``${{kind.NAME}}`` in the command."""
        text = self.command if isinstance(self.command, str) else " ".join(self.command)
        return {ref.partition(".")[2] for ref in REFERENCE.findall(text) if ref.partition(".")[0] == kind}


def _substitute(ref: str, namespaces: Mapping[str, Mapping[str, object]]) -> str:
    kind, _, name = ref.partition(".")
    if kind not in namespaces or not name:
        allowed = " or ".join(f"${{{{{k}.NAME}}}}" for k in namespaces)
        raise InvalidInputError(f"unknown reference ${{{{{ref}}}}} in the command; use {allowed}")
    values = namespaces[kind]
    if name not in values:
        known = ", ".join(sorted(values)) or "none"
        what = {"inputs": "input", "outputs": "output"}.get(kind, "search space parameter")
        raise InvalidInputError(
            f"the command uses ${{{{{ref}}}}} but there is no {what} {name!r} ({kind}: {known})"
        )
    value = values[name]
    return str(value).lower() if isinstance(value, bool) else str(value)


def problems(exc: ValidationError, what: str = "spec") -> str:
    """Each error as ``field: what is wrong (got the value)``, joined in one line."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg'].removeprefix('Value error, ')}"
        + (f" (got {err['input']!r})" if isinstance(err.get("input"), str | int | float) else "")
        for err in exc.errors()
    )


def _one_line(exc: ValidationError, where: str) -> InvalidInputError:
    return InvalidInputError(f"{where} is not a valid job spec: {problems(exc)}")


def load_job(path: str | Path) -> CommandJob:
    """Read a YAML job spec; relative paths in it are relative to the file."""
    return load_job_dict(read_yaml_mapping(path, "job"), Path(path))


def load_job_dict(raw: dict[str, Any], path: Path, allow_search_space: bool = False) -> CommandJob:
    """A job from a YAML mapping read from ``path``; a sweep's trial may use ``${{search_space.x}}``.

    A ``type: parallel`` mapping becomes the command job that runs the parallel runner.
    """
    data_refs_as_inputs(raw)
    if raw.get("type") == "parallel":
        try:
            raw = as_command_job(raw)
        except ValidationError as exc:
            raise _one_line(exc, str(path)) from None
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: {exc}") from None
    inline_requirements_file(raw, path.parent)
    try:
        job = CommandJob.model_validate(raw)
    except ValidationError as exc:
        raise _one_line(exc, str(path)) from None
    base = path.parent.resolve()
    job.code = str((base / job.code).resolve())
    resolve_paths(job.inputs, base, f"{path}: input")
    if not allow_search_space:
        job.argv()  # bad references fail now, before anything is queued
    return job


def inline_requirements_file(raw: dict[str, Any], base: Path) -> None:
    """An environment's ``requirements_file`` (relative to ``base``) read into its ``requirements``."""
    env = raw.get("environment")
    if isinstance(env, dict) and "requirements_file" in env:
        extra = read_requirements((base / str(env.pop("requirements_file"))).resolve())
        env["requirements"] = [*env.get("requirements", []), *extra]


def data_refs_as_inputs(raw: dict[str, Any]) -> None:
    """A bare data reference among a spec's ``inputs`` (``azureml:churn:3``) is a data input."""
    inputs = raw.get("inputs")
    if isinstance(inputs, dict):
        raw["inputs"] = {
            k: {"path": v} if isinstance(v, str) and DATA_REF.match(v) else v for k, v in inputs.items()
        }


def resolve_paths(inputs: Mapping[str, InputValue], base: Path, where: str) -> None:
    """Make each local path input absolute (relative to ``base``); a missing one is an error."""
    for name, value in inputs.items():
        if isinstance(value, PathInput) and "://" not in value.path and not value.is_data_ref:
            value.path = str((base / value.path).resolve())
            if not Path(value.path).exists():
                raise InvalidInputError(f"{where} {name!r} points at {value.path}, which does not exist")


def make_job(**fields: Any) -> CommandJob:
    try:
        return CommandJob.model_validate(fields)
    except ValidationError as exc:
        raise _one_line(exc, "the job") from None


def with_fields(job: CommandJob, where: str, **fields: Any) -> CommandJob:
    """``job`` with ``fields`` replaced, validated like the spec (options given on the command line)."""
    try:
        return CommandJob.model_validate({**dict(job), **fields})
    except ValidationError as exc:
        raise _one_line(exc, where) from None
