"""Lineage: which runs read or wrote which data versions, and the models those runs registered.

A job's data inputs are recorded as reads when they resolve; ``register_output`` makes a run's
output folder a data version written by it. A model's data is what its run read. A run that reads
another run's outputs (a pipeline step, the pipeline run itself) ``inherit_reads`` the data behind
them, so a model trained at the end of a pipeline names the data its first step read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainyard.artifacts.paths import join, safe_name
from trainyard.data import content
from trainyard.data.assets import DATA, record_version
from trainyard.errors import InvalidInputError
from trainyard.store.records import DataLineage, ModelVersion

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


@dataclass(frozen=True)
class DataUse:
    """The runs that read or wrote a data version, and the model versions those runs registered."""

    lineage: list[DataLineage]
    models: list[ModelVersion]


def register_output(
    ws: Workspace, run_id: str, artifact_prefix: str, name: str, type: str = "uri_folder"
) -> int:
    """Make the run's files under ``artifact_prefix`` the next version of ``name``, written by the run.

    The files are copied to the data folder first (a run's artifacts can be deleted with it) and
    the version recorded last; unchanged content returns the latest version, still marked written.
    """
    artifacts, store = ws.artifacts, ws.store
    source = safe_name(artifact_prefix)
    names = artifacts.list(source)
    if not names:
        raise InvalidInputError(
            f"run {run_id} has no files under {artifact_prefix!r} to register as {name!r}"
        )
    if type != "uri_folder" and len(names) != 1:
        raise InvalidInputError(f"output {name!r} has {len(names)} files; a {type} data asset is one file")
    prefix = join(DATA, safe_name(name), uuid.uuid4().hex)
    for rel in names:
        artifacts.copy(join(source, rel), join(prefix, rel))
    found = content.of_stored(artifacts, prefix)
    record = record_version(ws, name, type, found, prefix, created_by_run=run_id)
    store.record_data_lineage(run_id, name, record.version, "written")
    return record.version


def inherit_reads(ws: Workspace, run_id: str, sources: Sequence[str]) -> None:
    """Record on ``run_id`` every data version the ``sources`` runs read (their outputs are its input)."""
    for name, version in reads_of_runs(ws, sources):
        ws.store.record_data_lineage(run_id, name, version, "read")


def reads_of_runs(ws: Workspace, sources: Sequence[str]) -> list[tuple[str, int]]:
    """Each data version the ``sources`` runs read, once, as ``(name, version)``."""
    seen: dict[tuple[str, int], None] = {}
    for source in sources:
        for row in ws.store.list_data_lineage(run_id=source):
            if row.direction == "read":
                seen[(row.name, row.version)] = None
    return list(seen)


def uses_of(ws: Workspace, name: str, version: int) -> DataUse:
    """Who read or wrote ``name:version`` and which models the readers registered."""
    store = ws.store
    lineage = store.list_data_lineage(name=name, version=version)
    readers = {row.run_id for row in lineage if row.direction == "read"}
    models = [
        v for m in store.list_models() for v in store.list_model_versions(m.name) if v.run_id in readers
    ]
    return DataUse(lineage, models)


def data_of_model(ws: Workspace, model: ModelVersion) -> list[DataLineage]:
    """The data versions the model's run read (none for a model registered outside a run)."""
    if model.run_id is None:
        return []
    return [r for r in ws.store.list_data_lineage(run_id=model.run_id) if r.direction == "read"]
