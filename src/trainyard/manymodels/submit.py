"""Submitting many models: read the table, split it by the partition columns, store each
partition's rows once, check the script job, and queue the parent run whose driver trains them.

Everything a user can get wrong with the table (a missing partition or label column, an
unreadable file, an unknown data asset) fails here, before anything is queued. What only one
partition gets wrong (too few rows for AutoML, a script that rejects its rows) fails that
partition alone, in the driver.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trainyard.automl.config import read_table
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.snapshot import take_snapshot
from trainyard.jobs.spec import make_job
from trainyard.jobs.submit import PreparedJob, job_record, prepare_job, start_run
from trainyard.jobs.uploads import SCHEME
from trainyard.manymodels.keys import values_of
from trainyard.manymodels.record import ManyModelsRecord, Partition, PreparedScript
from trainyard.manymodels.spec import ManyModelsSettings, is_data_ref
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

DRIVER_RETRIES = 3  # a driver whose worker was lost starts again and goes on from the store


def read_training_data(ws: Workspace, data: Any) -> tuple[pd.DataFrame, str, tuple[str, int] | None]:
    """The table, the suffix its partitions are stored with, and the data asset version it is."""
    if isinstance(data, pd.DataFrame):
        return read_table(data, "training_data"), ".csv", None
    text = str(data)
    if is_data_ref(text):
        from trainyard.data.assets import Data

        asset = Data(ws, text)
        path = asset.path()
        return read_table(path, f"data asset {asset.ref}"), path.suffix.lower(), (asset.name, asset.version)
    frame = read_table(text, "training_data")
    return frame, Path(text).suffix.lower(), None


def split(settings: ManyModelsSettings, frame: pd.DataFrame) -> list[tuple[dict[str, str], pd.DataFrame]]:
    """The table's partitions, in the order of their values."""
    columns = settings.partition_column_names
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"partition column(s) {', '.join(repr(c) for c in missing)} not in training_data; its columns: "
            + ", ".join(str(c) for c in frame.columns[:20])
        )
    label = settings.label_column_name
    if label is not None and label not in frame.columns:
        raise InvalidInputError(f"label_column_name {label!r} is not a column of training_data")
    if label is not None and label in columns:
        raise InvalidInputError(f"label_column_name {label!r} is also a partition column")
    groups = frame.groupby(columns, sort=True, dropna=False)
    return [(values_of(columns, key), rows.reset_index(drop=True)) for key, rows in groups]


def store_partitions(
    ws: Workspace, parts: list[tuple[dict[str, str], pd.DataFrame]], suffix: str
) -> list[Partition]:
    """Each partition's rows as one stored file (content-addressed: an unchanged one is not sent
    again), named so that a job's worker materialises it as the script's input."""
    from trainyard.jobs.snapshot import store_files

    name = f"data{'.parquet' if suffix in ('.parquet', '.pq') else '.csv'}"
    stored = []
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / name
        for values, rows in parts:
            if name.endswith(".csv"):
                rows.to_csv(file, index=False)
            else:
                rows.to_parquet(file, index=False)
            snapshot = store_files({name: file}, ws.artifacts)
            stored.append(Partition(values=values, data=f"{SCHEME}{snapshot.id}/{name}", rows=len(rows)))
    return stored


def prepare_script(ws: Workspace, settings: ManyModelsSettings, data_uri: str) -> PreparedScript:
    """The script partitions' job, checked and its code snapshotted once for all of them."""
    prepared = prepare_job(ws, settings.script_job(data_uri))
    return PreparedScript(
        job=prepared.job, environment=prepared.environment, snapshot_id=prepared.snapshot_id
    )


def submit_many_models(
    ws: Workspace, settings: ManyModelsSettings, training_data: Any, tags: dict[str, str] | None = None
) -> RunInfo:
    """Queue the parent run; its driver starts one child run per partition."""
    frame, suffix, asset = read_training_data(ws, training_data)
    parts = split(settings, frame)
    partitions = store_partitions(ws, parts, suffix)
    script = prepare_script(ws, settings, partitions[0].data) if settings.command is not None else None
    experiment_id = ws.store.get_or_create_experiment(settings.experiment_name).id
    with tempfile.TemporaryDirectory() as empty:  # the driver needs no user code
        snapshot = take_snapshot(empty, ws.artifacts, int(ws.config.snapshot_max_mb * 1e6))
    driver = make_job(
        experiment_name=settings.experiment_name,
        display_name="many_models",
        code=".",
        command=["python", "-m", "trainyard.manymodels"],
        compute=settings.compute,
        max_retries=DRIVER_RETRIES,
    )
    prepared = PreparedJob(driver, Environment(), snapshot.id, experiment_id)

    def record_read(info: RunInfo) -> bool:
        """The data asset read, recorded before the driver starts: each partition inherits it."""
        if asset is not None:
            ws.store.record_data_lineage(info.id, asset[0], asset[1], "read")
        return False  # the compute target runs it

    return start_run(
        ws,
        prepared,
        tags={
            "many_models.kind": settings.kind,
            "many_models.model_name": settings.group_model_name,
            "many_models.partitions": str(len(partitions)),
            **(tags or {}),
        },
        params={
            "training_data": _shown(training_data, asset),
            "partition_column_names": ",".join(settings.partition_column_names),
            "partitions": str(len(partitions)),
            "model_name": settings.group_model_name,
            "max_concurrent_partitions": str(settings.max_concurrent_partitions),
        },
        record=job_record(
            prepared, ManyModelsRecord, many_models=settings, partitions=partitions, script=script
        ),
        finish_here=record_read,
    )


def _shown(data: Any, asset: tuple[str, int] | None) -> str:
    if asset is not None:
        return f"azureml:{asset[0]}:{asset[1]}"
    return "a DataFrame" if isinstance(data, pd.DataFrame) else str(data)
