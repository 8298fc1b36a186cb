"""The Store seam: every read and write of metadata goes through this interface.

Contract (what every implementation must honour, checked by ``trainyard.testing.store_suite``):

* Thread safety: one Store object may be shared by the threads of a process.
* Multi-process safety: several processes may write the same workspace at once; no call
  fails because another process holds a lock (implementations wait and retry).
* Metrics append and are never overwritten; tags overwrite; params are write-once (the same
  value again is accepted, a different one is an ``InvalidInputError``).
* Status changes follow ``trainyard.status.ALLOWED`` and are compare-and-set: a terminal run
  is never changed again, whoever asks.
* NaN, +/-inf are stored and returned exactly.
* Runs and experiments are never lost once a create call returned.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH
from trainyard.status import RunStatus


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
        import time

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


@dataclass(frozen=True)
class DeploymentRecord:
    endpoint: str
    name: str
    model_name: str
    model_version: int
    workers: int
    status: str
    created_at: float
    port: int | None = None
    worker: str | None = None
    error: str | None = None
    restarts: int = 0


@dataclass(frozen=True)
class EnvironmentRecord:
    name: str
    version: int
    spec_hash: str
    spec: dict[str, Any]
    created_at: float


def validate_key(kind: str, key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError(f"{kind} names must be non-empty strings, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{kind} name {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}"
        )
    if "\x00" in key:
        raise InvalidInputError(f"{kind} name {key!r} contains a NUL character")
    return key


def validate_value(kind: str, key: str, value: str, limit: int) -> str:
    value = str(value)
    if len(value) > limit:
        raise InvalidInputError(
            f"{kind} {key!r} has a value of {len(value)} characters; the limit is {limit}. "
            "Upload long text as a file with run.upload_file instead."
        )
    return value


def check_labels(kind: str, values: dict[str, Any] | None, limit: int) -> dict[str, str]:
    """Params, tags or properties checked as a store checks them, before anything is written."""
    return {validate_key(kind, k): validate_value(kind, k, str(v), limit) for k, v in (values or {}).items()}


MODEL_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInputError(
            f"model name {name!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
        )
    return name


ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{2,31}$")


def check_endpoint_name(name: str, what: str = "endpoint") -> str:
    if not isinstance(name, str) or not ENDPOINT_NAME.match(name):
        raise InvalidInputError(
            f"{what} name {name!r}: 3 to 32 letters, digits or '-', starting with a letter"
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not MODEL_ALIAS.match(alias) or alias.isdigit() or alias == "latest":
        raise InvalidInputError(
            f"alias {alias!r} must start with a letter, hold letters, digits, '_' or '-', and not be 'latest'"
        )
    return alias


def tag_changes(tags: dict[str, str | None] | None) -> dict[str, str | None]:
    """Tag updates checked before any write: a value sets the tag, ``None`` deletes it."""
    return {
        validate_key("tag", k): None if v is None else validate_value("tag", k, str(v), MAX_TAG_VALUE_LENGTH)
        for k, v in (tags or {}).items()
    }


def apply_tag_changes(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """The tags after ``changes``: values overwrite, ``None`` removes."""
    merged = {**current, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def as_metric_value(key: str, value: Any) -> float:
    """Metrics are numbers; say so clearly when a script logs something else."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__} {str(value)[:60]!r}; "
            "use run.set_tags() for text"
        ) from None


class Store(abc.ABC):
    """Metadata of a workspace. See the module docstring for the contract."""

    # experiments -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment: ...

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]: ...

    @abc.abstractmethod
    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        deleted: bool | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> Experiment:
        """Rename, soft-delete or restore (``deleted``), and set tags (a ``None`` value deletes the tag).

        A deleted experiment keeps its runs and its name (no other experiment may take it) until
        it is restored; ``None`` arguments leave their field as it is.
        """

    def get_or_create_experiment(self, name: str) -> Experiment:
        """Race-safe: two processes asking at once get the same experiment."""
        from trainyard.errors import AlreadyExistsError

        found = self.get_experiment_by_name(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name)
        except AlreadyExistsError:
            found = self.get_experiment_by_name(name)
            assert found is not None
            return found

    # runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        status: RunStatus = RunStatus.QUEUED,
        compute: str | None = None,
        job: dict[str, Any] | None = None,
        snapshot_id: str | None = None,
        environment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RunInfo: ...

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunInfo: ...

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        *,
        statuses: Iterable[RunStatus] | None = None,
        parent_id: str | None = None,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunPage:
        """Runs newest first (or by ``order_by``), with params, tags and latest metrics filled in.

        ``filter_string`` and ``order_by`` use MLflow's grammar (``trainyard.store.search``);
        with ``max_results`` the result is one page, and its ``next_page_token`` fetches the next.
        """

    @abc.abstractmethod
    def find_run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        """Ids starting with ``prefix`` (at most ``limit``): how short ids typed by people resolve."""

    @abc.abstractmethod
    def count_runs(self, experiment_id: str) -> int:
        """How many runs (children included) the experiment holds."""

    @abc.abstractmethod
    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        worker: str | None = None,
        expected: RunStatus | None = None,
    ) -> bool:
        """Move the run to ``status``; compare-and-set.

        Returns False (and changes nothing) when the run is no longer in ``expected`` (if
        given) or already terminal; raises ``InvalidTransitionError`` for a move the table
        forbids from the current status.
        """

    @abc.abstractmethod
    def requeue(self, run_id: str, expected: RunStatus, error: str) -> bool:
        """Put a run whose worker was lost back in the queue, counting the attempt."""

    @abc.abstractmethod
    def heartbeat(self, run_id: str, worker: str | None = None) -> bool:
        """Record that the run's worker (``host:pid:start``) is alive; True if a cancel was requested."""

    @abc.abstractmethod
    def request_cancel(self, run_id: str, reason: str | None = None) -> RunInfo:
        """Ask the run's worker to stop (a queued run is canceled at once), keeping ``reason``.

        The reason (who asked and why: a user, a sweep's early termination) is the run's
        ``cancel_reason`` and what a canceled run reports; ``InvalidTransitionError`` for a run
        that already ended.
        """

    @abc.abstractmethod
    def set_run_error(self, run_id: str, error: str | None) -> None:
        """Record a failure reported by the script itself (run.fail) while it still runs; None clears it."""

    # metrics, params, tags -----------------------------------------------------------------
    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None: ...

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """One value: the batch path with one item, so a backend implements batches only."""
        self.log_batch(run_id, metrics=[metric])

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str | None = None) -> list[Metric]:
        """Every value logged, sorted by key, then step, then timestamp."""

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    # environments --------------------------------------------------------------------------
    @abc.abstractmethod
    def register_environment(self, name: str, spec: dict[str, Any], spec_hash: str) -> EnvironmentRecord:
        """Store a spec under ``name``; the same spec again returns the existing version."""

    @abc.abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord: ...

    @abc.abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]: ...

    # model registry --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        files: list[str],
        run_id: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersion:
        """The next version of ``name`` (1 for a new name); race-safe across processes."""

    @abc.abstractmethod
    def create_registered_model(
        self, name: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """A name with no versions yet; ``AlreadyExistsError`` if it is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def update_registered_model(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Rename (versions and aliases follow), describe, set tags (``None`` deletes the tag).

        Version files keep their artifact keys, so a renamed model's versions still load.
        """

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Remove the name with its versions and aliases; refused while a deployment serves one."""

    @abc.abstractmethod
    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> ModelVersion:
        """Describe a version and set its tags (``None`` deletes the tag)."""

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int) -> None:
        """Remove one version and its aliases; its number is never given again.

        Refused while a deployment serves it.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion: ...

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    @abc.abstractmethod
    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, newest first (none for a name created without versions)."""

    @abc.abstractmethod
    def list_models(self) -> list[RegisteredModel]: ...

    @abc.abstractmethod
    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``, moving it off any other version of ``name``."""

    @abc.abstractmethod
    def delete_model_alias(self, name: str, alias: str) -> None: ...

    @abc.abstractmethod
    def set_model_version_status(self, name: str, version: int, status: str) -> ModelVersion:
        """``ready`` or ``archived``; an archived version keeps its files and can be restored."""

    # endpoints -------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_endpoint(
        self, name: str, port: int, primary_key: str, secondary_key: str
    ) -> EndpointRecord: ...

    @abc.abstractmethod
    def get_endpoint(self, name: str) -> EndpointRecord: ...

    @abc.abstractmethod
    def list_endpoints(self) -> list[EndpointRecord]: ...

    @abc.abstractmethod
    def update_endpoint(self, name: str, **fields: Any) -> EndpointRecord:
        """Change ``traffic``, ``previous_traffic``, ``worker``, ``primary_key`` or ``secondary_key``."""

    @abc.abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Remove the endpoint and its deployments' records."""

    @abc.abstractmethod
    def create_deployment(
        self, endpoint: str, name: str, model_name: str, model_version: int, workers: int
    ) -> DeploymentRecord: ...

    @abc.abstractmethod
    def get_deployment(self, endpoint: str, name: str) -> DeploymentRecord: ...

    @abc.abstractmethod
    def list_deployments(self, endpoint: str) -> list[DeploymentRecord]: ...

    @abc.abstractmethod
    def update_deployment(self, endpoint: str, name: str, **fields: Any) -> DeploymentRecord:
        """Change ``status``, ``port``, ``worker``, ``error`` or ``restarts``."""

    @abc.abstractmethod
    def delete_deployment(self, endpoint: str, name: str) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
