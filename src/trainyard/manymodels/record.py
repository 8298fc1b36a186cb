"""A many-models parent's job record: the driver's command job plus the settings, the partitions
(each one's rows stored as a file at submit) and, for a script, the partition job as prepared."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trainyard.compute.job import JobRecord
from trainyard.environments import Environment
from trainyard.jobs.spec import CommandJob
from trainyard.manymodels.spec import ManyModelsSettings


class Partition(BaseModel):
    """One partition: its values (as text, in partition-column order), its rows' stored file
    (``snapshot://<id>/<file>``, which a job's worker materialises) and how many rows it has."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    values: dict[str, str]
    data: str
    rows: int


class PreparedScript(BaseModel):
    """The script partitions' job, checked and snapshotted once at submit (or at a retry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job: CommandJob
    environment: Environment
    snapshot_id: str


class ManyModelsRecord(JobRecord):
    """Read with ``ManyModelsRecord.of_run``. Its ``type`` stays ``command`` (the driver is a plain
    command job to every other reader: the worker, the reaper, an agent)."""

    uses_slot: bool = False  # as a sweep's driver, it mostly waits on its children
    many_models: ManyModelsSettings
    partitions: list[Partition]
    script: PreparedScript | None = None
