"""The records the store reads and writes: frozen dataclasses, one per thing a workspace holds.

Also the typed updates (``EndpointUpdate``, ``DeploymentUpdate``): a field left ``UNSET`` is
left as it is, so ``None`` can still mean "clear it".
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trainyard.errors import InvalidInputError
from trainyard.status import DeploymentStatus, RunStatus, parse_deployment_status

USER_TAG = "mlflow.user"  # who a run is for (MLflow's tag; ``Store.create_run`` fills it in)


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int
    timestamp: float


@dataclass(frozen=True)
class MetricSeries:
    """One metric of one run as columns, whole or cut to a chart's width (``get_metric_series``):
    ``steps[i]``, ``values[i]`` and ``timestamps[i]`` are one logged value."""

    key: str
    total: int  # values of the key between the steps asked
    exact: bool  # all of them are here
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class NewRun:
    """A queued run to create with others in one call (``Store.create_runs``): what
    ``create_run`` takes, plus the params it starts with."""

    experiment_id: str
    name: str | None = None
    parent_id: str | None = None
    compute: str | None = None
    job: dict[str, Any] | None = None
    snapshot_id: str | None = None
    environment: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    """A run as the store knows it. ``metrics`` holds the latest value of each metric."""

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    created_at: float
    parent_id: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    heartbeat_at: float | None = None
    compute: str | None = None
    job: dict[str, Any] | None = None
    snapshot_id: str | None = None
    environment: str | None = None
    error: str | None = None
    exit_code: int | None = None
    attempt: int = 1
    worker: str | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds between start and end (or now, while running)."""
        if self.start_time is None:
            return None
        return (self.end_time or time.time()) - self.start_time


class RunPage(list[RunInfo]):
    """Runs from ``search_runs``, plus the token of the next page (``None`` on the last page)."""

    def __init__(self, runs: Iterable[RunInfo] = (), next_page_token: str | None = None) -> None:
        super().__init__(runs)
        self.next_page_token = next_page_token


MODEL_READY = "ready"
MODEL_ARCHIVED = "archived"


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: its files live in the artifact store under ``models/<name>/<version>``."""

    name: str
    version: int
    source: str
    files: list[str]
    status: str
    created_at: float
    run_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegisteredModel:
    """A name in the registry; ``latest_version`` is 0 while it has no versions."""

    name: str
    created_at: float
    latest_version: int
    description: str | None = None
    aliases: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointRecord:
    name: str
    created_at: float
    port: int
    primary_key: str
    secondary_key: str
    traffic: dict[str, int] = field(default_factory=dict)
    worker: str | None = None
    previous_traffic: dict[str, int] | None = None
    restarts: int = 0


GROUP_VERSION = 0  # the model_version of a deployment that serves a many-models group


@dataclass(frozen=True)
class DeploymentRecord:
    endpoint: str
    name: str
    model_name: str
    model_version: int
    workers: int
    status: DeploymentStatus
    created_at: float
    port: int | None = None
    worker: str | None = None
    error: str | None = None
    restarts: int = 0
    request_timeout: float | None = None
    environment: str | None = None  # "name:version", pinned when the deployment was created
    # set: a many-models deployment serving every partition's version of model_name (model_version
    # is then GROUP_VERSION), with at most this many models loaded per scoring worker
    max_models_in_memory: int | None = None

    def __post_init__(self) -> None:  # records decoded from JSON or rows carry the status's name
        object.__setattr__(self, "status", DeploymentStatus(self.status))

    @property
    def serves_group(self) -> bool:
        """Whether it serves a many-models group rather than one version."""
        return self.max_models_in_memory is not None


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    version: int
    spec_hash: str
    spec: dict[str, Any]
    created_at: float


class Unset(enum.Enum):
    """The type of ``UNSET``: a field of an update that leaves its value as it is."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET
U = TypeVar("U", bound="_Update")


class _Update:
    """Shared by the typed updates: what they change, and building one from a REST body."""

    def changes(self) -> dict[str, Any]:
        """The fields that are set, by name (values as given; ``None`` clears a field)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not UNSET
        }

    @classmethod
    def of(cls: type[U], changes: dict[str, Any]) -> U:
        """The update that sets ``changes``; ``InvalidInputError`` naming a field it cannot change."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(changes) - names)
        if unknown:
            what = cls.__name__.removesuffix("Update").lower()
            raise InvalidInputError(
                f"cannot change {', '.join(unknown)} of this {what}; changeable: {', '.join(sorted(names))}"
            )
        return cls(**changes)


@dataclass(frozen=True)
class EndpointUpdate(_Update):
    """What ``update_endpoint`` changes; every field left ``UNSET`` stays as it is."""

    traffic: dict[str, int] | Unset = UNSET
    previous_traffic: dict[str, int] | None | Unset = UNSET
    worker: str | None | Unset = UNSET
    primary_key: str | Unset = UNSET
    secondary_key: str | Unset = UNSET
    restarts: int | Unset = UNSET


@dataclass(frozen=True)
class DeploymentUpdate(_Update):
    """What ``update_deployment`` changes; every field left ``UNSET`` stays as it is.

    ``status`` moves only as ``trainyard.status.DEPLOYMENT_ALLOWED`` says; a name is accepted.
    """

    status: DeploymentStatus | Unset = UNSET
    port: int | None | Unset = UNSET
    worker: str | None | Unset = UNSET
    error: str | None | Unset = UNSET
    restarts: int | Unset = UNSET
    request_timeout: float | None | Unset = UNSET
    environment: str | None | Unset = UNSET
    max_models_in_memory: int | None | Unset = UNSET

    def __post_init__(self) -> None:
        if self.status is not UNSET:
            object.__setattr__(self, "status", parse_deployment_status(self.status))


DATA_TYPES = ("uri_file", "uri_folder", "table")
DEFAULT_DATASTORE = "workspaceblobstore"  # Azure's name for the workspace's own artifact store


@dataclass(frozen=True)
class DataVersion:
    """One immutable version of a data asset: its files under ``prefix`` in ``datastore``, or at ``uri``.

    ``content_hash`` covers every file's relative path and bytes; reading checks it. ``table``
    holds a table's row count, schema and per-column statistics (JSON), else ``None``.
    """

    name: str
    version: int
    type: str
    content_hash: str
    size_bytes: int
    file_count: int
    created_at: float
    datastore: str = DEFAULT_DATASTORE
    prefix: str | None = None
    uri: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    table: dict[str, Any] | None = None
    archived: bool = False
    created_by_run: str | None = None


DATASTORE_TYPES = ("s3", "gcs", "azure_blob", "file")


@dataclass(frozen=True)
class DatastoreRecord:
    """A named storage location data can live on: an fsspec URL and how to sign in to it.

    ``credentials`` maps an fsspec storage option (``key``, ``secret``, ``account_key``…) to the
    NAME of the environment variable holding its value, read where the datastore is opened: a
    secret itself is never stored. ``endpoint`` is an S3- or GCS-compatible service's URL.
    """

    name: str
    type: str  # one of DATASTORE_TYPES, from the URL's scheme
    url: str
    created_at: float
    endpoint: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class DataLineage:
    """A run read or wrote a data version."""

    run_id: str
    name: str
    version: int
    direction: str  # "read" | "written"


@dataclass(frozen=True)
class ComponentVersion:
    """One immutable version of a registered command component.

    ``spec`` is the component YAML as JSON, without its version and code; ``snapshot_id`` names
    the snapshot of its code taken when it was registered. ``content_hash`` covers both.
    """

    name: str
    version: str
    spec: dict[str, Any]
    content_hash: str
    created_at: float
    snapshot_id: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class PublishedPipeline:
    """One immutable version of a published pipeline: ``pipeline`` is its prepared record (JSON),
    every step's code already snapshotted, so running it later needs nothing from the publisher."""

    name: str
    version: int
    pipeline: dict[str, Any]
    created_at: float
    description: str | None = None


@dataclass(frozen=True)
class PipelineEndpoint:
    """A published pipeline's name: one URL across its versions, and the version it runs by default."""

    name: str
    default_version: int
    latest_version: int
    created_at: float
    updated_at: float
    description: str | None = None


SCHEDULE_TRIGGERS = ("cron", "every", "data")
MISSED_POLICIES = ("run-once", "skip")


@dataclass(frozen=True)
class Schedule:
    """When a published pipeline runs unattended.

    ``trigger`` is ``cron`` (``spec`` a cron expression), ``every`` (``spec`` seconds) or ``data``
    (``spec`` a path or ``data:NAME``; it fires when ``watermark``, the last content seen,
    changes). ``next_fire`` is the next due time (for ``data``, the next poll), the value a
    firing claims by compare-and-set; ``missed`` says what to do with times that passed while no
    scheduler ran.
    """

    name: str
    pipeline: str
    trigger: str
    spec: str
    next_fire: float
    created_at: float
    inputs: dict[str, str] = field(default_factory=dict)
    missed: str = "run-once"
    enabled: bool = True
    watermark: str | None = None
    poll_seconds: float | None = None


@dataclass(frozen=True)
class ScheduleFiring:
    """A due time a scheduler claimed: ``action`` ``run`` (``run_id`` once queued, or ``error``) or
    ``skip`` (missed times skipped by the schedule's policy); ``missed`` counts the due times that
    passed without a run before this one."""

    id: int
    schedule: str
    due: float
    claimed_at: float
    action: str
    missed: int = 0
    run_id: str | None = None
    error: str | None = None
