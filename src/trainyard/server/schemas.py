"""What travels over REST API v1: request bodies (pydantic, for validation and the OpenAPI
document) and the JSON form of the Store's records, shared by the server and ``RestStore``.

Floats that JSON cannot hold (NaN, +/-inf) travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, as MLflow's protobuf JSON does, so metrics come back exactly. This module needs
pydantic only: clients import it without FastAPI.
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from trainyard.errors import (
    AlreadyExistsError,
    ArtifactPathError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    TrainyardError,
    WorkspaceError,
)
from trainyard.status import RunStatus
from trainyard.store.records import (
    DeploymentRecord,
    EndpointRecord,
    EnvironmentRecord,
    Experiment,
    Metric,
    ModelVersion,
    RegisteredModel,
    RunInfo,
)
from trainyard.store.validation import MAX_KEY_LENGTH

T = TypeVar("T")
# Per request (more is refused with a message naming the limit); RestStore splits larger batches.
MAX_BATCH_METRICS = 10_000
MAX_BATCH_PARAMS = 1000
MAX_BATCH_TAGS = 1000
# How errors travel: most specific class first; the server answers with the first row an error
# is an instance of, and RestStore raises the class of the code it gets back.
ERRORS: list[tuple[type[TrainyardError], int, str]] = [
    (NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST"),
    (AlreadyExistsError, 409, "RESOURCE_ALREADY_EXISTS"),
    (InvalidTransitionError, 409, "INVALID_STATE"),
    (ArtifactPathError, 400, "INVALID_ARTIFACT_PATH"),
    (InvalidInputError, 400, "INVALID_PARAMETER_VALUE"),
    (WorkspaceError, 500, "WORKSPACE_ERROR"),
    (TrainyardError, 400, "BAD_REQUEST"),
]
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


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
    """A Store record (dataclass), list or dict as plain JSON values, non-finite floats as strings."""
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


def run_from_json(data: dict[str, Any]) -> RunInfo:
    data = dict(data)
    data["status"] = RunStatus(data["status"])
    data["metrics"] = {k: decode_float(v) for k, v in data.get("metrics", {}).items()}
    return RunInfo(**data)


def metric_from_json(data: dict[str, Any]) -> Metric:
    return Metric(data["key"], decode_float(data["value"]), int(data["step"]), float(data["timestamp"]))


RECORDS: dict[type, Any] = {
    Experiment: lambda d: Experiment(**d),
    RunInfo: run_from_json,
    Metric: metric_from_json,
    EnvironmentRecord: lambda d: EnvironmentRecord(**d),
    ModelVersion: lambda d: ModelVersion(**d),
    RegisteredModel: lambda d: RegisteredModel(**d),
    EndpointRecord: lambda d: EndpointRecord(**d),
    DeploymentRecord: lambda d: DeploymentRecord(**d),
}


def from_json(cls: type[T], data: Any) -> T:
    """The record of type ``cls`` that ``to_json`` made."""
    return RECORDS[cls](data)


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

    def to_metric(self) -> Metric:
        return Metric(self.key, decode_float(self.value), self.step, self.timestamp)


class LogBatch(Body):
    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_BATCH_METRICS)
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
    model_version: Version
    workers: Annotated[int, Field(ge=1, le=2**31 - 1)]


class FieldsUpdate(Body):
    """Fields of an endpoint or deployment record to change; the store checks which are allowed."""

    fields: dict[str, Any] = Field(min_length=1)


class ArtifactCopy(Body):
    source: str
    target: str
