"""A parallel job's settings in Azure ML CLI v2's shape, and the command job fields they become.

::

    type: parallel
    inputs:
      images: {type: uri_folder, path: ./images}
    outputs:
      scores: {type: uri_folder}
    input_data: ${{inputs.images}}          # the input split into mini-batches
    mini_batch_size: 10                     # files per batch; a table: rows ("100") or a size ("1mb")
    mini_batch_error_threshold: 2           # failed mini-batches tolerated; -1: any
    max_concurrency_per_instance: 4         # worker processes
    retry_settings: {max_retries: 2, timeout: 60}
    task:
      type: run_function
      code: ./src
      entry_script: score.py
      program_arguments: --threshold 0.5
      append_row_to: ${{outputs.scores}}

This module reads only dictionaries (``jobs/spec.py`` calls it for a ``type: parallel`` file, and
``parallel/spec.py`` builds the ``CommandJob`` from the same fields), so it imports nothing of
``jobs/``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trainyard.errors import InvalidInputError
from trainyard.numbers import Count, Duration

RUNNER = "trainyard.parallel.runner"
OUTPUT_FILE = "parallel_run_step.txt"  # Azure's default append_row file name
DEFAULT_FILES_PER_BATCH = 10  # Azure's default for a folder of files
DEFAULT_TABLE_BATCH_BYTES = 1024 * 1024  # and for a table: about 1 MB of it
TABLE_TYPES = ("table", "mltable")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$", re.IGNORECASE)
UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def _reference(value: str, kind: str, field: str) -> str:
    """``name`` from ``${{kind.name}}`` (or a bare ``name``)."""
    match = re.fullmatch(r"\s*\$\{\{\s*" + kind + r"\.([\w.-]+)\s*\}\}\s*", value)
    if match:
        return match.group(1)
    if re.fullmatch(r"[\w.-]+", value):
        return value
    raise ValueError(f"give ${{{{{kind}.NAME}}}} (or the {field} name), not {value!r}")


class RetrySettings(BaseModel):
    """Per mini-batch: how many more tries after a failure, and how long one ``run()`` may take."""

    model_config = ConfigDict(extra="forbid")
    max_retries: Count = Field(default=3, ge=0, le=100)
    timeout: Duration = 60.0  # seconds


class RunFunctionTask(BaseModel):
    """``task:``: the entry script with ``init()`` and ``run(mini_batch)``, and where rows go."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["run_function"] = "run_function"
    code: str = "."
    entry_script: str
    program_arguments: str | list[str] | None = None
    append_row_to: str | None = None  # the name of an output (``${{outputs.x}}`` in the YAML)
    environment: Any = "default"  # what a command job's ``environment`` takes

    @field_validator("entry_script")
    @classmethod
    def _python_file(cls, value: str) -> str:
        if not value.endswith(".py"):
            raise ValueError("give the Python file with init() and run(mini_batch), e.g. score.py")
        return value

    @field_validator("append_row_to")
    @classmethod
    def _output_name(cls, value: str | None) -> str | None:
        return None if value is None else _reference(value, "outputs", "output")

    def arguments(self) -> list[str]:
        """``program_arguments`` as argv items (a string is split like a shell would)."""
        if self.program_arguments is None:
            return []
        if isinstance(self.program_arguments, list):
            return [str(a) for a in self.program_arguments]
        try:
            return shlex.split(self.program_arguments)
        except ValueError as exc:
            raise InvalidInputError(
                f"task.program_arguments: cannot parse {self.program_arguments!r}: {exc}"
            ) from None


class Resources(BaseModel):
    """``resources:``: on local compute a parallel job runs on one instance, its workers
    processes; on a Ray target ``instance_count`` x ``max_concurrency_per_instance`` Ray actors."""

    model_config = ConfigDict(extra="forbid")
    instance_count: Count = Field(default=1, ge=1, le=256)


class ParallelSettings(BaseModel):
    """How a parallel job splits its input and runs the entry script over the mini-batches."""

    model_config = ConfigDict(extra="forbid")
    input_data: str | None = None  # the name of the input to split (``${{inputs.x}}`` in the YAML)
    mini_batch_size: Count | str | None = None
    partition_keys: list[str] | None = None
    mini_batch_error_threshold: Count = Field(default=-1, ge=-1)
    max_concurrency_per_instance: Count = Field(default=1, ge=1, le=256)
    retry_settings: RetrySettings = Field(default_factory=RetrySettings)
    logging_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    resources: Resources | None = None
    task: RunFunctionTask

    @field_validator("input_data")
    @classmethod
    def _input_name(cls, value: str | None) -> str | None:
        return None if value is None else _reference(value, "inputs", "input")

    @field_validator("logging_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("mini_batch_size")
    @classmethod
    def _size(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and value < 1:
            raise ValueError("give at least 1 (files or rows per mini-batch)")
        if isinstance(value, str) and not SIZE.match(value):
            raise ValueError('give a count of files or rows ("100") or a size of table ("10kb", "1mb")')
        return value

    @field_validator("partition_keys")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("give at least one column, or leave partition_keys out")
        return value

    @model_validator(mode="after")
    def _one_way_to_split(self) -> ParallelSettings:
        if self.partition_keys and self.mini_batch_size is not None:
            raise ValueError(
                "give mini_batch_size or partition_keys, not both (with partition_keys each "
                "distinct key combination is one mini-batch)"
            )
        return self

    def batch_count(self) -> int | None:
        """Files or rows per mini-batch when ``mini_batch_size`` is a count."""
        return self.mini_batch_size if isinstance(self.mini_batch_size, int) else None

    def batch_bytes(self) -> int | None:
        """Bytes of table per mini-batch when ``mini_batch_size`` is a size (``1mb``)."""
        if not isinstance(self.mini_batch_size, str):
            return None
        match = SIZE.match(self.mini_batch_size)
        assert match is not None  # checked by the validator
        return max(1, int(float(match.group(1)) * UNITS[match.group(2).lower()]))

    def runner_json(self) -> str:
        """What the runner reads from ``--settings``: no paths and no ``${{…}}``, so the command
        job's reference substitution leaves it alone."""
        return json.dumps(
            self.model_dump(
                mode="json",
                exclude={"task": {"code", "program_arguments", "append_row_to", "environment"}},
                exclude_defaults=True,
            ),
            separators=(",", ":"),
        )


SETTINGS_KEYS = frozenset(ParallelSettings.model_fields)


def _input_type(value: Any) -> str | None:
    """An input's ``type`` (a dict from YAML or a ``PathInput``); None for a literal value."""
    if isinstance(value, Mapping):
        return str(value.get("type", "uri_folder"))
    return getattr(value, "type", None)


def command_fields(
    settings: ParallelSettings, inputs: Mapping[str, Any], outputs: Mapping[str, Any]
) -> dict[str, Any]:
    """``code``, ``command`` and ``environment`` of the command job that runs ``settings``.

    ``input_data`` must name one of ``inputs`` that is a file or folder, and ``append_row_to``
    one of ``outputs``; the command passes them to the runner as ``${{inputs.x}}`` and
    ``${{outputs.x}}``, so the worker materialises the one and uploads the other as usual.
    """
    name = settings.input_data
    if name is None:
        raise InvalidInputError(
            "input_data: give the input to split into mini-batches, e.g. ${{inputs.images}}"
        )
    if name not in inputs:
        known = ", ".join(sorted(inputs)) or "none"
        raise InvalidInputError(
            f"input_data names input {name!r}, which the job does not have (inputs: {known})"
        )
    kind = _input_type(inputs[name])
    if kind is None:
        raise InvalidInputError(f"input_data: input {name!r} is a value, not a file, folder or table")
    command = [
        "python",
        "-m",
        RUNNER,
        "--settings",
        settings.runner_json(),
        "--input",
        f"${{{{inputs.{name}}}}}",
    ]
    if kind in TABLE_TYPES:
        command += ["--kind", "table"]
    out = settings.task.append_row_to
    if out is not None:
        if out not in outputs:
            known = ", ".join(sorted(outputs)) or "none"
            raise InvalidInputError(
                f"task.append_row_to names output {out!r}, which the job does not have (outputs: {known})"
            )
        command += ["--output", f"${{{{outputs.{out}}}}}"]
    arguments = settings.task.arguments()
    if arguments:
        command += ["--", *arguments]
    return {"code": settings.task.code, "command": command, "environment": settings.task.environment}


def as_command_job(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``type: parallel`` YAML mapping as the fields of the command job that runs it.

    The parallel keys are checked here (a ``pydantic.ValidationError`` the caller words); the
    rest (``experiment_name``, ``inputs``, ``outputs``, ``compute``, ``timeout``…) are the command
    job's own and are checked with it.
    """
    settings = ParallelSettings.model_validate({k: v for k, v in raw.items() if k in SETTINGS_KEYS})
    job = {k: v for k, v in raw.items() if k not in SETTINGS_KEYS and k != "type"}
    inputs = job.get("inputs") or {}
    outputs = job.get("outputs") or {}
    if not isinstance(inputs, Mapping) or not isinstance(outputs, Mapping):
        raise InvalidInputError("inputs and outputs must be mappings of NAME: {type, path}")
    return {**job, **command_fields(settings, inputs, outputs)}
