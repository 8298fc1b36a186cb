"""What travels over REST API v1: request bodies (pydantic, for validation and the OpenAPI
document) and the JSON form of records, shared by the server and its clients.

Records are frozen dataclasses (the Store's ``RunInfo``, ``Metric``, ...); ``to_json`` and
``from_json`` encode and decode any of them by its fields' types, so this module needs no import
of the store. Floats that JSON cannot hold (NaN, +/-inf) travel as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, as MLflow's protobuf JSON does, so metrics come back exactly.
It needs pydantic only: clients import it without FastAPI.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from trainyard.deletion import RunView
from trainyard.limits import MAX_BULK_RUNS, MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH
from trainyard.status import RunStatus

T = TypeVar("T")
# Per request (more is refused with a message naming the limit); RestStore splits larger batches.
MAX_BATCH_METRICS = 10_000
MAX_BATCH_PARAMS = 1000
MAX_BATCH_TAGS = 1000
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FIELD_TYPES: dict[type, dict[str, Any]] = {}  # per record class, resolved once


def encode_float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_float(value: float | str) -> float:
    if isinstance(value, str):
        return _SPECIAL[value] if value in _SPECIAL else float(value)
    return float(value)


def to_json(value: Any) -> Any:
    """A record (dataclass), list or dict as plain JSON values, non-finite floats as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(cls: type[T], data: Any) -> T:
    """The record of dataclass ``cls`` that ``to_json`` made, each field decoded by its type."""
    hints = _FIELD_TYPES.get(cls)
    if hints is None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a record (a dataclass)")
        hints = _FIELD_TYPES[cls] = typing.get_type_hints(cls)
    return cls(**{name: _decode(hints.get(name, Any), value) for name, value in data.items()})


def _decode(kind: Any, value: Any) -> Any:
    """``value`` as JSON holds it, as the type ``kind`` (floats, enums, records, their containers)."""
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return _decode(next(a for a in args if a is not type(None)), value) if len(args) == 2 else value
    if kind is float:
        return decode_float(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_json(kind, value)
    if origin is dict and args:
        return {k: _decode(args[1], v) for k, v in value.items()}
    if origin in (list, tuple) and args:
        return origin(_decode(args[0], v) for v in value)
    return value


# request bodies ---------------------------------------------------------------------------------
Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
JsonFloat = float | Annotated[str, Field(pattern="^(NaN|Infinity|-Infinity)$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentCreate(Body):
    name: Key
    tags: dict[str, str] | None = None


class RunCreate(Body):
    experiment_id: str
    name: str | None = Field(default=None, max_length=256)
    parent_id: str | None = None
    status: RunStatus = RunStatus.QUEUED
    compute: str | None = Field(default=None, max_length=64)
    job: dict[str, Any] | None = None
    snapshot_id: str | None = Field(default=None, max_length=64)
    environment: str | None = Field(default=None, max_length=256)
    tags: dict[str, str] | None = None


class RunSearch(Body):
    experiment_ids: list[str] | None = None
    statuses: list[RunStatus] | None = None
    parent_id: str | None = None
    max_results: int | None = None
    filter_string: str | None = None
    order_by: list[str] | None = None
    page_token: str | None = None
    view: RunView = Field(
        default=RunView.ACTIVE, description="Deleted runs are left out unless asked for: `deleted` or `all`."
    )


RunId = Annotated[str, Field(min_length=1, max_length=64)]
RunIds = Annotated[list[RunId], Field(min_length=1, max_length=MAX_BULK_RUNS)]


class RunSelection(Body):
    """The runs of a bulk delete or restore; an unknown id changes nothing (404 naming it)."""

    run_ids: RunIds


class RunTagChange(Body):
    """Tags set on (``set``) and removed from (``remove``) every run named, all or nothing."""

    run_ids: RunIds
    set: dict[Key, Annotated[str, Field(max_length=MAX_TAG_VALUE_LENGTH)]] = Field(
        default_factory=dict, max_length=MAX_BATCH_TAGS
    )
    remove: list[Key] = Field(default_factory=list, max_length=MAX_BATCH_TAGS)


class StatusChange(Body):
    status: RunStatus
    error: str | None = None
    exit_code: Int32 | None = None
    worker: str | None = Field(default=None, max_length=256)
    expected: RunStatus | None = None


class Requeue(Body):
    expected: RunStatus
    error: str


class Heartbeat(Body):
    worker: str | None = Field(default=None, max_length=256)


class CancelRequest(Body):
    reason: str | None = None


class RunError(Body):
    error: str | None = None


class MetricIn(Body):
    key: Key
    value: JsonFloat
    step: Int64 = 0
    timestamp: Finite


class LogBatch(Body):
    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_BATCH_METRICS)
    attempt: int | None = None  # the writer's attempt; the run's current one when absent
    params: dict[str, str] = Field(default_factory=dict, max_length=MAX_BATCH_PARAMS)
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_BATCH_TAGS)


class EnvironmentIn(Body):
    name: Key
    spec: dict[str, Any]
    spec_hash: str = Field(min_length=1, max_length=64)


class ModelVersionCreate(Body):
    source: str
    files: list[str]
    run_id: str | None = None
    description: str | None = None
    tags: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


class DataVersionCreate(Body):
    type: str
    content_hash: str = Field(max_length=64)
    size_bytes: int = Field(ge=0)
    file_count: int = Field(ge=0)
    prefix: str | None = None
    uri: str | None = None
    datastore: str | None = None
    description: str | None = None
    tags: dict[str, Any] | None = None
    table: dict[str, Any] | None = None
    created_by_run: str | None = None


class ComponentVersionCreate(Body):
    version: str | None = Field(default=None, max_length=64)
    spec: dict[str, Any]
    content_hash: str = Field(max_length=64)
    snapshot_id: str | None = Field(default=None, max_length=64)


class DatastoreCreate(Body):
    name: str
    url: str
    endpoint: str | None = None
    credentials: dict[str, str] | None = None
    description: str | None = None


class DataArchived(Body):
    archived: bool


class DataLineageIn(Body):
    run_id: str
    name: str
    version: Version
    direction: str


class PipelinePublish(Body):
    pipeline: dict[str, Any]
    description: str | None = Field(default=None, max_length=5000)
    make_default: bool = False


class PipelineSubmit(Body):
    """A pipeline job's YAML text, the schema `trainyard pipeline submit -f` reads."""

    yaml: str = Field(min_length=1, max_length=1_000_000)


class InferenceModelCreate(Body):
    """The model name a training pipeline run's inference pipeline is registered under."""

    name: Key


class PipelineTrigger(BaseModel):
    """A published pipeline's run: Azure's body (``ExperimentName``, ``ParameterAssignments``)
    or trainyard's (``inputs``, ``experiment_name``, ``version``); inputs are
    strings as ``--set inputs.x=`` takes them, numbers and booleans as their JSON."""

    model_config = ConfigDict(extra="forbid")
    ExperimentName: str | None = Field(default=None, max_length=MAX_KEY_LENGTH)
    ParameterAssignments: dict[str, str | int | float | bool] | None = None
    experiment_name: str | None = Field(default=None, max_length=MAX_KEY_LENGTH)
    inputs: dict[str, str | int | float | bool] | None = None
    version: Version | None = None


class ScheduleCreate(Body):
    name: str
    pipeline: str
    trigger: str
    spec: str = Field(max_length=4096)
    next_fire: Finite
    inputs: dict[str, str] | None = None
    missed: str = "run-once"
    watermark: str | None = None
    poll_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class ScheduleEnabled(Body):
    enabled: bool
    next_fire: Finite | None = None


class ScheduleClaim(Body):
    due: Finite
    next_fire: Finite
    action: str
    missed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    watermark: str | None = None


class FiringFinish(Body):
    run_id: str | None = None
    error: str | None = None


class AliasIn(Body):
    version: Version


class ExperimentUpdate(Body):
    name: Key | None = None
    deleted: bool | None = None
    tags: dict[str, str | None] | None = None


class RegisteredModelCreate(Body):
    name: str
    description: str | None = None
    tags: dict[str, str] | None = None


class RegisteredModelUpdate(Body):
    new_name: str | None = None
    description: str | None = None
    tags: dict[str, str | None] | None = None


class ModelVersionUpdate(Body):
    description: str | None = None
    tags: dict[str, str | None] | None = None


class ModelStatus(Body):
    status: str


class EndpointCreate(Body):
    name: str
    port: Annotated[int, Field(ge=1, le=65535)]
    primary_key: str
    secondary_key: str


class DeploymentCreate(Body):
    name: str
    model_name: str
    model_version: Annotated[int, Field(ge=0, le=2**31 - 1)]  # 0: a many-models group's every version
    workers: Annotated[int, Field(ge=1, le=2**31 - 1)]


class OnlineEndpointCreate(Body):
    name: str
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: a free one


class TrafficIn(Body):
    traffic: dict[str, Annotated[int, Field(ge=0, le=100)]] = Field(
        description="Percent per deployment, adding up to 100; deployments not named get 0."
    )


class SampleRequest(Body):
    body: JsonValue = Field(description="The JSON the endpoint is sent, as a client would send it.")
    deployment: str | None = Field(
        default=None, max_length=255, description="Send it to this deployment, whatever the traffic."
    )


class OnlineDeploymentCreate(Body):
    name: str
    model: str = Field(min_length=1, max_length=600, description="name:VERSION or name@ALIAS")
    workers: Annotated[int, Field(ge=1, le=1024)] = 1
    request_timeout: float | None = Field(description="Seconds a prediction may take; null: no limit.")
    entry_script: str | None = Field(default=None, description="A score.py's text, with init() and run().")
    environment: str | None = Field(
        default=None, max_length=300, description="A registered environment, name:VERSION, to score in."
    )
    max_models_in_memory: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="Set: `model` names a many-models group, this many models kept loaded."
    )


class FieldsUpdate(Body):
    """Fields of an endpoint or deployment record to change; the store checks which are allowed."""

    fields: dict[str, Any] = Field(min_length=1)


class ArtifactCopy(Body):
    source: str
    target: str
