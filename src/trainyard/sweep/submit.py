"""Submitting a sweep: validate everything, snapshot the code once, queue the parent run.

The parent is a job whose command is the sweep driver; it takes no local slot (it mostly
waits), and it is retried if its worker is lost, so a killed driver comes back and finishes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import make_job
from trainyard.jobs.submit import PreparedJob, job_record, prepare_job, start_run
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.sweep.policy import describe
from trainyard.sweep.record import SweepRecord
from trainyard.sweep.spec import SweepSpec

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

DRIVER_RETRIES = 3


def submit_sweep(
    ws: Workspace,
    spec: SweepSpec,
    experiment_id: str | None = None,
    tags: dict[str, str] | None = None,
    *,
    prepared: PreparedJob | None = None,
    parent_id: str | None = None,
    name: str | None = None,
    reads_of: Sequence[str] = (),
) -> RunInfo:
    """Queue the sweep's parent run; ``prepared``: its trial job already checked and snapshotted
    (a pipeline's sweep step), ``parent_id``/``name``: the pipeline run it is a step of,
    ``reads_of``: the runs whose data reads it and its trials inherit (the step's upstream steps)."""
    if spec.seed is None:  # drawn once and kept, so a restarted or resumed sweep goes on from it
        spec = spec.model_copy(update={"seed": secrets.randbelow(2**32)})
    trial = spec.trial
    if prepared is None:
        prepared = prepare_job(ws, trial, experiment_id, search_space={name: 0 for name in spec.space})
    for old in spec.warm_start:
        ws.store.get_run(old)  # an unknown warm-start run fails now, not in the driver
    driver = make_job(
        experiment_name=trial.experiment_name,
        display_name=trial.display_name,
        code=trial.code,
        command=["python", "-m", "trainyard.sweep.driver"],
        compute=trial.compute,
        max_retries=DRIVER_RETRIES,
    )
    parent = PreparedJob(driver, Environment(), prepared.snapshot_id, prepared.experiment_id)
    return start_run(
        ws,
        parent,
        parent_id=parent_id,
        name=name,
        reads_of=reads_of,
        tags={
            "sweep.primary_metric": spec.objective.primary_metric,
            "sweep.goal": spec.objective.goal,
            **(tags or {}),
        },
        params={
            "sampling": spec.sampling,
            "seed": str(spec.seed),
            "search_space": _space_text(spec),
            "early_termination": describe(spec.policy) if spec.policy else "none",
            "max_total_trials": str(spec.limits.max_total_trials),
            "max_concurrent_trials": str(spec.limits.max_concurrent_trials),
        },
        record=job_record(
            parent,
            SweepRecord,
            sweep=spec.model_copy(update={"trial": prepared.job}),  # with its inputs as stored
            trial_environment=prepared.environment,
        ),
    )


def _space_text(spec: SweepSpec) -> str:
    return "; ".join(
        f"{name}={p.kind}({', '.join(f'{k}={v}' for k, v in p.args.items())})"
        for name, p in spec.space.items()
    )


def resume_spec(ws: Workspace, old: RunInfo) -> SweepSpec:
    """The spec to continue ``old``: warm-started from its trials, with the trial budget left."""
    if old.status == RunStatus.COMPLETED:
        raise InvalidInputError(
            f"sweep {old.id} completed; to search further, submit a new sweep with warm_start=[{old.id!r}]"
        )
    if not old.status.is_terminal:
        raise InvalidInputError(f"sweep {old.id} is still {old.status.value}; resume it once it has ended")
    spec = SweepRecord.of_run(old).sweep
    done = sum(1 for c in ws.store.search_runs(parent_id=old.id) if c.status == RunStatus.COMPLETED)
    left = spec.limits.max_total_trials - done
    if left < 1:
        raise InvalidInputError(f"sweep {old.id} already completed all {spec.limits.max_total_trials} trials")
    limits = spec.limits.model_copy(update={"max_total_trials": left})
    return spec.model_copy(update={"warm_start": [*spec.warm_start, old.id], "limits": limits})
