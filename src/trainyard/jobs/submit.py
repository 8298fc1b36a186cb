"""Submitting a command job: validate, snapshot, record the run as queued, hand it to compute.

Everything a user can get wrong is checked before the run is created, so a bad submit leaves
nothing queued behind it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from trainyard.compute import get_compute
from trainyard.compute.base import ComputeTarget
from trainyard.compute.job import JobRecord
from trainyard.compute.ray_target import RayCompute
from trainyard.data.lineage import reads_of_runs
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.jobs.data_inputs import record_data_reads, resolve_data_inputs
from trainyard.jobs.snapshot import take_snapshot
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.uploads import upload_inputs
from trainyard.limits import MAX_PARAM_VALUE_LENGTH
from trainyard.status import RunStatus
from trainyard.store import NewRun, RunInfo
from trainyard.store.validation import check_labels

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

PYTHON_NAMES = ("python", "python3", sys.executable)
R = TypeVar("R", bound=JobRecord)


def resolve_environment(ws: Workspace, env: Environment | str) -> Environment:
    return env if isinstance(env, Environment) else Environment.named(ws.store, env)


def _check_script(code: Path, argv: list[str]) -> None:
    """``python script.py`` must name a script that is in the snapshot."""
    if argv[0] in PYTHON_NAMES and len(argv) > 1 and not argv[1].startswith("-"):
        script = code / argv[1]
        if not script.is_file():
            raise InvalidInputError(f"script {argv[1]!r} not found in the source directory {code}")


@dataclass(frozen=True)
class PreparedJob:
    """A validated job whose code is snapshotted and environment registered: ready to start runs."""

    job: CommandJob
    environment: Environment
    snapshot_id: str
    experiment_id: str


def prepare_job(
    ws: Workspace,
    job: CommandJob,
    experiment_id: str | None = None,
    search_space: Mapping[str, object] | None = None,
) -> PreparedJob:
    """Check everything a user can get wrong, then snapshot (and on a server workspace store
    the local inputs, ``jobs/uploads.py``); nothing is queued yet."""
    code = Path(job.code).resolve()
    if not code.is_dir():
        raise InvalidInputError(f"source directory {code} does not exist")
    _check_script(code, job.argv(search_space))
    _check_instances(job, get_compute(job.compute, ws))
    env = resolve_environment(ws, job.environment)
    if not env.is_default:
        env.register(ws.store)
    snapshot = take_snapshot(code, ws.artifacts, int(ws.config.snapshot_max_mb * 1e6))
    job = resolve_data_inputs(ws, job)  # pinned: every run of it reads the same version
    if ws.is_server:  # an agent on another machine runs it: local data goes with it
        job = upload_inputs(job, ws.artifacts)
    if experiment_id is None:
        experiment_id = ws.store.get_or_create_experiment(job.experiment_name).id
    return PreparedJob(job, env, snapshot.id, experiment_id)


def _check_instances(job: CommandJob, target: ComputeTarget) -> None:
    """Local compute and an agent run a job on their one machine (``distribution`` makes it
    several processes there); a Ray target runs a distributed job's instances x processes as
    Ray Train workers, and a job without ``distribution`` as one process."""
    count = job.resources.instance_count
    if count == 1:
        return
    if not isinstance(target, RayCompute):
        raise InvalidInputError(
            f"resources.instance_count is {count}, but compute {job.compute!r} runs a job on "
            "one machine; more instances need a cluster. Give instance_count: 1 and "
            "distribution.process_count_per_instance for more processes on this machine"
        )
    if job.distribution is None:
        raise InvalidInputError(
            f"resources.instance_count is {count} without distribution: give distribution: "
            "{type: pytorch, process_count_per_instance: N} to run N x instance_count ranks"
        )


def job_record(prepared: PreparedJob, kind: type[R], argv: list[str] | None = None, **part: object) -> R:
    """The record of a run of ``prepared`` (``argv`` defaults to the job's command): a
    ``JobRecord``, or for a sweep or AutoML parent its ``kind`` of record with its typed ``part``."""
    job = prepared.job
    spec = job.model_dump(mode="json", exclude={"type", "environment"})
    return kind.model_validate(
        {**spec, "argv": argv or job.argv(), "environment": prepared.environment, **part}
    )


def _shown(value: object) -> str:
    """An input as its run's param: a data asset as ``azureml:name:version``, a path, or the value."""
    asset = getattr(value, "asset", None)
    if asset is not None:
        return f"azureml:{asset}"
    return str(getattr(value, "path", value))


def new_run(
    prepared: PreparedJob,
    *,
    record: JobRecord | None = None,
    parent_id: str | None = None,
    name: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> NewRun:
    """The queued run of ``prepared`` to create (with ``record``, by default the job's): its
    inputs as params, its job's tags and ``tags``."""
    job = prepared.job
    record = record or job_record(prepared, JobRecord)
    inputs = {k: _shown(v) for k, v in job.inputs.items()}
    return NewRun(
        prepared.experiment_id,
        name=name or job.display_name,
        parent_id=parent_id,
        compute=job.compute,
        job=record.to_json(),
        snapshot_id=prepared.snapshot_id,
        environment=prepared.environment.name,
        tags={**job.tags, **(tags or {})},
        params=check_labels("param", {**inputs, **(params or {})}, MAX_PARAM_VALUE_LENGTH),
    )


def queue_runs(
    ws: Workspace, runs: Sequence[tuple[CommandJob, NewRun]], reads_of: Sequence[str] = ()
) -> list[RunInfo]:
    """Create the runs, queued, in one store call (``Store.create_runs``), each with the data
    reads of its job's inputs and of the ``reads_of`` runs; none is handed to compute yet.

    ``reads_of``: runs whose data reads these inherit (a pipeline step's upstream steps),
    recorded before they start, so that what they start in turn (a sweep's trials) inherits them too.
    """
    made = ws.store.create_runs([new for _, new in runs])
    with failed_on_error(ws, made):
        inherited = reads_of_runs(ws, reads_of)
        for (job, _), info in zip(runs, made, strict=True):
            record_data_reads(ws, info.id, job)
            for data, version in inherited:
                ws.store.record_data_lineage(info.id, data, version, "read")
    return made


@contextlib.contextmanager
def failed_on_error(ws: Workspace, runs: Sequence[RunInfo]) -> Iterator[None]:
    """An error in the block fails the queued ``runs`` (no worker will take them) and is raised."""
    try:
        yield
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, TrainyardError) else f"{type(exc).__name__}: {exc}"
        for info in runs:
            with contextlib.suppress(Exception):  # the first error is the one to report
                failed = f"submit failed: {reason}"
                ws.store.set_status(info.id, RunStatus.FAILED, error=failed, expected=RunStatus.QUEUED)
        raise


def start_run(
    ws: Workspace,
    prepared: PreparedJob,
    *,
    record: JobRecord | None = None,
    parent_id: str | None = None,
    name: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    finish_here: Callable[[RunInfo], bool] | None = None,
    reads_of: Sequence[str] = (),
) -> RunInfo:
    """Create a queued run of ``prepared`` (``new_run``, ``queue_runs``) and start it.

    ``finish_here``: tried first, in this process; when it finished the run (a pipeline whose
    every step is reused), no compute target is asked to run it.
    """
    new = new_run(prepared, record=record, parent_id=parent_id, name=name, tags=tags, params=params)
    [info] = queue_runs(ws, [(prepared.job, new)], reads_of)
    with failed_on_error(ws, [info]):
        if finish_here is None or not finish_here(info):
            get_compute(prepared.job.compute, ws).submit(ws, info)
    return info


def submit_job(
    ws: Workspace, job: CommandJob, tags: dict[str, str] | None = None, experiment_id: str | None = None
) -> RunInfo:
    return start_run(ws, prepare_job(ws, job, experiment_id), tags=tags)
