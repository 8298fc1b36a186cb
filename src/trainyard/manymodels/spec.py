"""The many-models spec (Azure's many-models names) and partition keys.

A spec trains one model per partition of a table, either with AutoML (``task:`` plus any
AutoML setting, flat as Azure writes them) or with the user's script (``command:`` + ``code:``).
Everything a user can get wrong in it fails here, before the table is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trainyard.automl.config import AutoMLSettings, check_settings, make_settings
from trainyard.compute.job import JobResources
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob, make_job, problems
from trainyard.numbers import Count, Duration
from trainyard.yamlfile import read_yaml_mapping

DATA_INPUT = "data"  # the script's input: the partition's rows, one file
MODEL_OUTPUT = "model"  # the script's output folder: the model it trained

# AutoML keys that many-models sets itself for every partition
_OWN_AUTOML_KEYS = {"model_tags"}


class ManyModelsSettings(BaseModel):
    """What to train per partition; the table itself is given beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiment_name: str = "many-models"
    partition_column_names: list[str] = Field(min_length=1)
    label_column_name: str | None = None
    task: Literal["classification", "regression", "forecasting"] | None = None
    command: str | list[str] | None = None
    code: str | None = None
    environment: Environment | str = "default"
    primary_metric: str | None = None
    experiment_timeout_minutes: Duration = 15.0  # per partition
    compute: str = "local"
    max_concurrent_partitions: Count = Field(1, ge=1)
    resources: JobResources | None = None  # what each partition reserves on a Ray target
    model_name: str | None = None
    automl_settings: dict[str, Any] = Field(default_factory=dict)  # iterations, allowed_models...

    @model_validator(mode="before")
    @classmethod
    def _gather_automl_keys(cls, raw: Any) -> Any:
        """Azure writes AutoML settings flat beside the partition keys: gather them."""
        if not isinstance(raw, dict):
            return raw
        ours = set(cls.model_fields) - {"automl_settings"}
        automl = {k: v for k, v in raw.items() if k not in ours and k in AutoMLSettings.model_fields}
        if not automl:
            return raw
        rest = {k: v for k, v in raw.items() if k not in automl}
        return {**rest, "automl_settings": {**raw.get("automl_settings", {}), **automl}}

    @model_validator(mode="after")
    def _one_way_to_train(self) -> ManyModelsSettings:
        if (self.task is None) == (self.command is None):
            raise ValueError("give either task: (AutoML per partition) or command: (your script), not both")
        if self.task is not None and self.label_column_name is None:
            raise ValueError("task: needs label_column_name:, the column AutoML learns to predict")
        if self.command is not None and self.automl_settings:
            raise ValueError(
                f"AutoML setting(s) {', '.join(sorted(self.automl_settings))} need task:, not command:"
            )
        if len(set(self.partition_column_names)) < len(self.partition_column_names):
            raise ValueError("partition_column_names names a column twice")
        return self

    @property
    def group_model_name(self) -> str:
        """The one model name every partition's model is a version of."""
        return self.model_name or f"{self.experiment_name}-many"

    @property
    def metric_name(self) -> str | None:
        """The metric the leaderboard shows: AutoML's primary metric, or a script's ``primary_metric``."""
        return self.automl({}).metric if self.task is not None else self.primary_metric

    @property
    def kind(self) -> str:
        return "automl" if self.task is not None else "script"

    def automl(self, tags: dict[str, str], cpus: int | None = None) -> AutoMLSettings:
        """The AutoML settings of one partition, whose model is registered with ``tags``;
        ``cpus``: those of the Ray task it runs in, one trial on each at most (all of them by
        default), so that the cluster spreads partitions, not one partition's trials."""
        given = sorted(set(self.automl_settings) & _OWN_AUTOML_KEYS)
        if given:
            raise InvalidInputError(f"many-models sets {', '.join(given)} itself; give it at the top level")
        settings = make_settings(
            task=self.task,
            label_column_name=self.label_column_name,
            experiment_timeout_minutes=self.experiment_timeout_minutes,
            model_name=self.group_model_name,
            model_tags=tags,
            primary_metric=self.primary_metric,
            **self.automl_settings,
        )
        if cpus is None:
            return settings
        asked = "max_concurrent_iterations" in self.automl_settings
        wanted = min(settings.max_concurrent_iterations, cpus) if asked else cpus
        return settings.model_copy(update={"max_concurrent_iterations": wanted})

    def script_job(self, data_uri: str) -> CommandJob:
        """The command job of one partition: its rows as ``${{inputs.data}}``, its model written
        to ``${{outputs.model}}``, within the per-partition time limit."""
        job = make_job(
            experiment_name=self.experiment_name,
            code=self.code or ".",
            command=self.command,
            inputs={DATA_INPUT: {"type": "uri_file", "path": data_uri}},
            outputs={MODEL_OUTPUT: {"type": "uri_folder"}},
            environment=self.environment,
            compute=self.compute,
            timeout=self.experiment_timeout_minutes * 60,
            **({"resources": self.resources} if self.resources is not None else {}),
        )
        if DATA_INPUT not in job.references("inputs"):
            raise InvalidInputError(
                "command: must read the partition's rows from ${{inputs.data}} "
                "and write its model to ${{outputs.model}}"
            )
        extra = job.references("inputs") - {DATA_INPUT}
        if extra:
            raise InvalidInputError(
                f"command: refers to ${{{{inputs.{sorted(extra)[0]}}}}}; a many-models script gets "
                "only ${{inputs.data}} (and writes ${{outputs.model}})"
            )
        return job


def make_many_settings(**fields: Any) -> ManyModelsSettings:
    """Settings from keywords (the SDK), every mistake one line."""
    try:
        settings = ManyModelsSettings.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInputError(f"many-models spec: {problems(exc)}") from None
    if settings.task is not None:  # AutoML's own checks of its settings, before anything runs
        check_settings(settings.automl({}))
    return settings


def load_spec(path: str | Path) -> tuple[ManyModelsSettings, str]:
    """The settings and ``training_data`` (a path made absolute, or a data reference) of a YAML
    spec; ``code:`` is relative to the file, as in a job spec."""
    path = Path(path)
    raw = read_yaml_mapping(path, "many-models")
    data = raw.pop("training_data", None)
    if not isinstance(data, str) or not data.strip():
        raise InvalidInputError(f"{path}: training_data: is required (a .csv / .parquet path or data:NAME)")
    base = path.parent.resolve()
    if "code" in raw and isinstance(raw["code"], str):
        raw["code"] = str((base / raw["code"]).resolve())
    elif "command" in raw:
        raw["code"] = str(base)
    try:
        settings = make_many_settings(**raw)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {str(exc).removeprefix('many-models spec: ')}") from None
    if not is_data_ref(data):
        data = str((base / data).resolve())
    return settings, data


def is_data_ref(text: str) -> bool:
    return text.startswith(("data:", "azureml:"))
