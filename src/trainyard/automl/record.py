"""An AutoML parent's job record: the driver's command job plus the settings and the data."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from trainyard.automl.config import AutoMLSettings
from trainyard.compute.job import JobKind, JobRecord

MODEL_PATH = "outputs/model"
DRIVER = ["python", "-m", "trainyard.automl"]  # the command of an AutoML run (a pipeline step's too)


class AutoMLData(BaseModel):
    """The artifact keys of the frames the submitter stored, which the driver loads."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    training_data: str
    validation_data: str | None = None


class AutoMLRecord(JobRecord):
    kind: ClassVar[JobKind | None] = JobKind.AUTOML

    type: JobKind = JobKind.AUTOML
    uses_slot: bool = False  # as a sweep's driver, it takes no local slot
    automl: AutoMLSettings
    automl_data: AutoMLData
    # where the best model is written: a pipeline step's is its ``best_model`` output
    model_path: str = MODEL_PATH
