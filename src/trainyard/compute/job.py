"""The job record: what a queued run executes, as ``start_run`` recorded it on the run.

The store keeps it as JSON (``RunInfo.job``: what a job holds is not the store's business);
everyone who acts on it reads it through :class:`JobRecord`. It lives here, in ``compute``, the
lowest layer that reads it (the worker, the reaper, the agent queue), so that every reader can
import it. The kinds above compute extend it with their own typed part, in their own package:
``SweepRecord`` (``sweep/record.py``), ``AutoMLRecord`` (``automl/record.py``) and
``PipelineRecord`` (``pipelines/record.py``). A reader that
only needs the common part reads any kind of record as a ``JobRecord``: unknown keys are left
out, so an agent or a server one version behind still reads a newer record.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from typing_extensions import Self

from trainyard.environments import Environment
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.numbers import Finite

if TYPE_CHECKING:
    from trainyard.store import RunInfo


class JobKind(str, Enum):
    COMMAND = "command"
    SWEEP = "sweep"  # a sweep's parent: its command is the sweep driver
    AUTOML = "automl"  # an AutoML parent: its command is the AutoML driver
    PIPELINE = "pipeline"  # a pipeline's parent: its command is the pipeline driver

    def __str__(self) -> str:
        return self.value


class JobRecordError(TrainyardError):
    """A run's job record is missing, of another kind than asked for, or malformed."""


MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)


class JobResources(BaseModel):
    """``resources: {cpu: 2, gpu: 1, memory: 4GiB}``: what one run of the job reserves on a
    cluster (a Ray target schedules it where they are free); local compute runs it in a slot.
    ``instance_count`` (Azure's key) is the machines a distributed job spans: 1 on local compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    instance_count: int = Field(default=1, ge=1)
    cpu: Finite | None = Field(default=None, gt=0)
    gpu: Finite | None = Field(default=None, ge=0)
    memory: int | None = Field(default=None, gt=0)  # bytes; the spec may say 512MiB, 4GB, 2G

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = MEMORY.match(value)
        if match is None:
            raise ValueError(f"memory must be bytes or a size like 512MiB, 4GB or 2G, got {value!r}")
        prefix = (match.group(2) or "").upper().rstrip("B")  # "", "K", "KI", "M", "MI", ...
        power = "KMGT".index(prefix[0]) + 1 if prefix else 0
        return int(float(match.group(1)) * (1024 if prefix.endswith("I") else 1000) ** power)


class Distribution(BaseModel):
    """``distribution: {type: pytorch, process_count_per_instance: 2}`` (Azure's keys): the
    command runs as that many processes per instance, with torchrun's environment (``worker.py``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["pytorch"] = "pytorch"
    process_count_per_instance: int = Field(default=1, ge=1, le=256)


class JobRecord(BaseModel):
    """A command job as it was started: its spec's fields, the argv with every reference
    substituted, and the environment resolved (not a name: the spec it had at submit time)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: ClassVar[JobKind | None] = None  # a subclass reads only records of its kind

    type: JobKind = JobKind.COMMAND
    experiment_name: str = "Default"
    display_name: str | None = None
    description: str | None = None
    code: str = "."
    command: str | list[str]
    inputs: dict[str, JsonValue] = Field(default_factory=dict)  # the spec's: CommandJob validates them
    outputs: dict[str, JsonValue] = Field(default_factory=dict)  # each one a folder under ./outputs
    compute: str = "local"
    timeout: float | None = Field(default=None, gt=0)
    max_retries: int = Field(default=0, ge=0)
    resources: JobResources = Field(default_factory=JobResources)
    distribution: Distribution | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    argv: list[str] = Field(min_length=1)
    environment: Environment = Field(default_factory=Environment)
    uses_slot: bool = True  # False for drivers that mostly wait on their children

    @classmethod
    def of_run(cls, info: RunInfo) -> Self:
        """The record of ``info``; ``JobRecordError`` saying what is wrong when it has none,
        is of another kind than this class reads, or does not parse."""
        if info.job is None:
            raise JobRecordError(
                f"run {info.id} has no job record: it was not submitted as a job "
                "(its own process logged it: a notebook, an MLflow client, an AutoML trial)"
            )
        kind = info.job.get("type", JobKind.COMMAND.value)
        if cls.kind is not None and kind != cls.kind.value:
            raise JobRecordError(f"run {info.id} is a {kind} job, not a {cls.kind.value} job")
        try:
            return cls.model_validate(info.job)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}" for err in exc.errors()
            )
            raise JobRecordError(_malformed(info.id, problems)) from None
        except InvalidInputError as exc:  # the environment's own validation says it in one line
            raise JobRecordError(_malformed(info.id, str(exc))) from None

    def to_json(self) -> dict[str, Any]:
        """The record as the store keeps it."""
        return self.model_dump(mode="json")


def recorded_job(info: RunInfo) -> JobRecord | None:
    """The common part of ``info``'s job record; None for a run that was not submitted as a job."""
    return None if info.job is None else JobRecord.of_run(info)


def takes_slot(info: RunInfo) -> bool:
    """Whether the run's worker waits for a local slot. A record that does not parse takes one:
    its worker fails the run, saying what is wrong with the record, so a claim never fails on it."""
    try:
        job = recorded_job(info)
    except JobRecordError:
        return True
    return job.uses_slot if job else True


def _malformed(run_id: str, problems: str) -> str:
    return (
        f"run {run_id} has a malformed job record ({problems}); it was not written by this "
        "version of trainyard's start_run: submit the job again"
    )
