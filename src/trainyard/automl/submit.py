"""Submitting an AutoML experiment: check everything, store the data, queue the driver job."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trainyard.automl.config import AutoMLSettings, check, read_table
from trainyard.automl.data import load_frame, store_frames
from trainyard.automl.record import DRIVER, MODEL_PATH, AutoMLRecord
from trainyard.environments import Environment
from trainyard.jobs.snapshot import take_snapshot
from trainyard.jobs.spec import make_job
from trainyard.jobs.submit import PreparedJob, job_record, start_run
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


def submit_automl(
    ws: Workspace,
    settings: AutoMLSettings,
    training_data: Any,
    experiment_name: str,
    validation_data: Any = None,
    tags: dict[str, str] | None = None,
    *,
    parent_id: str | None = None,
    name: str | None = None,
    compute: str = "local",
    reads_of: Sequence[str] = (),
    model_path: str = MODEL_PATH,
    finish_here: Callable[[RunInfo], bool] | None = None,
) -> RunInfo:
    """Queue the AutoML driver run; ``parent_id``/``name``: the pipeline or many-models run it is
    a step or partition of, ``reads_of``: the runs whose data reads it inherits,
    ``model_path``: the run output the best model is written to, ``finish_here``: as
    ``start_run``'s (a many-models driver's Ray task runs it instead of the target)."""
    train = read_table(training_data, "training_data")
    valid = None if validation_data is None else read_table(validation_data, "validation_data")
    check(settings, train, valid)
    experiment_id = ws.store.get_or_create_experiment(experiment_name).id
    with tempfile.TemporaryDirectory() as empty:  # the driver needs no user code
        snapshot = take_snapshot(empty, ws.artifacts, int(ws.config.snapshot_max_mb * 1e6))
    driver = make_job(
        experiment_name=experiment_name,
        display_name=f"automl_{settings.task}",
        code=".",
        command=DRIVER,
        compute=compute,
    )
    prepared = PreparedJob(driver, Environment(), snapshot.id, experiment_id)
    return start_run(
        ws,
        prepared,
        parent_id=parent_id,
        name=name,
        reads_of=reads_of,
        finish_here=finish_here,
        tags={"automl.task": settings.task, "automl.primary_metric": settings.metric, **(tags or {})},
        params={
            "task": settings.task,
            "primary_metric": settings.metric,
            "label_column_name": settings.label_column_name,
            "experiment_timeout_minutes": f"{settings.experiment_timeout_minutes:g}",
            "max_concurrent_iterations": str(settings.max_concurrent_iterations),
        },
        record=job_record(
            prepared,
            AutoMLRecord,
            automl=settings,
            automl_data=store_frames(ws, train, valid),
            model_path=model_path,
        ),
    )


def resubmit_automl(
    ws: Workspace, parent: RunInfo, training_data: Any, model_name: str, tags: dict[str, str] | None = None
) -> RunInfo:
    """``parent``'s AutoML job again on ``training_data``: the settings and validation data it
    recorded, in its experiment, with the model registered as the next version of ``model_name``."""
    record = AutoMLRecord.of_run(parent)
    keys = record.automl_data
    valid = None if keys.validation_data is None else load_frame(ws, keys.validation_data)
    settings = record.automl.model_copy(update={"model_name": model_name})
    experiment = ws.store.get_experiment(parent.experiment_id).name
    return submit_automl(ws, settings, training_data, experiment, valid, tags)
