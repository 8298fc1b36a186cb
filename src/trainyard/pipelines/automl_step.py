"""AutoML jobs as pipeline steps, in Azure ML CLI v2's shape (``type: automl``).

::

    train:
      type: automl
      task: classification
      primary_metric: AUC_weighted
      target_column_name: y
      training_data: ${{parent.jobs.prep.outputs.train}}
      limits: {timeout_minutes: 5, max_trials: 20, max_concurrent_trials: 2}
      training: {allowed_training_algorithms: [LightGBM, LogisticRegression]}
      outputs:
        best_model: {type: mlflow_model}

When the pipeline is read, the step's Azure keys become trainyard's AutoML settings (a wrong key
or value is one error naming the step). When it is submitted, the settings are checked, and so
is a table already known (a pipeline input). When the step starts, its tables are read from the
runs that wrote them and its child run is an AutoML run (``automl/submit.py``) whose best model
is the step's ``best_model`` output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import DATA_REF, OUTPUT_TYPES, InputValue, OutputSpec, PathInput, problems
from trainyard.numbers import Count, Duration, Finite

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.automl.config import AutoMLSettings
    from trainyard.jobs.spec import CommandJob
    from trainyard.store import RunInfo
    from trainyard.workspace import Workspace

OUTPUT = "best_model"
DATA_PORTS = ("training_data", "validation_data")
# the keys every step takes, kept on the step as they are
STEP_KEYS = ("display_name", "description", "compute", "tags", "force_rerun", "is_deterministic")
# Azure's keys that trainyard's AutoML has no counterpart for, and why
NOT_HERE = {
    "trial_timeout_minutes": "trainyard's AutoML has no per-trial timeout; limits.timeout_minutes bounds "
    "the whole search, and a trial that cannot finish in the time left is not started",
    "max_cores_per_trial": "each trial is one worker process; set limits.max_concurrent_trials",
    "max_nodes": "trials run on the step's compute; set limits.max_concurrent_trials",
}


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_minutes: Duration | None = None
    max_trials: Count | None = Field(default=None, ge=1)
    max_concurrent_trials: Count | None = Field(default=None, ge=1)
    enable_early_termination: bool | None = None
    exit_score: Finite | None = None


class Training(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allowed_training_algorithms: list[str] | None = None
    blocked_training_algorithms: list[str] | None = None
    enable_model_explainability: bool | None = None
    enable_vote_ensemble: bool = True
    enable_stack_ensemble: bool = True


class Featurization(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["auto", "off"] = "auto"


class Forecasting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_column_name: str | None = None
    forecast_horizon: Count | None = Field(default=None, ge=1)
    time_series_id_column_names: str | list[str] | None = None
    target_lags: Literal["auto"] | Count | list[int] | None = None
    target_rolling_window_size: Literal["auto"] | Count | list[int] | None = None
    seasonality: Literal["auto"] | Count | None = None


class AutoMLStep(BaseModel):
    """An AutoML step as written (Azure's keys); ``settings`` turns it into trainyard's."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["automl"]
    task: Literal["classification", "regression", "forecasting"]
    target_column_name: str
    primary_metric: str | None = None
    training_data: InputValue
    validation_data: InputValue | None = None
    n_cross_validations: Literal["auto"] | Count | None = None
    validation_data_size: Finite | None = Field(default=None, gt=0, lt=1)
    limits: Limits = Limits()
    training: Training = Training()
    featurization: Featurization = Featurization()
    forecasting: Forecasting | None = None
    outputs: dict[str, OutputSpec | str | None] = Field(default_factory=dict)
    display_name: str | None = None
    description: str | None = None
    compute: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    force_rerun: bool = False
    is_deterministic: bool = True

    def settings_fields(self) -> dict[str, Any]:
        """The ``AutoMLSettings`` fields these keys give (those left out keep trainyard's defaults)."""
        limits, training = self.limits, self.training
        if training.enable_vote_ensemble != training.enable_stack_ensemble:
            raise ValueError(
                "training.enable_vote_ensemble and enable_stack_ensemble must be equal: trainyard "
                "builds both ensembles or neither"
            )
        fields: dict[str, Any] = {
            "task": self.task,
            "label_column_name": self.target_column_name,
            "primary_metric": self.primary_metric,
            "n_cross_validations": None if self.n_cross_validations == "auto" else self.n_cross_validations,
            "validation_size": self.validation_data_size,
            "experiment_timeout_minutes": limits.timeout_minutes,
            "iterations": limits.max_trials,
            "max_concurrent_iterations": limits.max_concurrent_trials,
            "enable_early_stopping": limits.enable_early_termination,
            "experiment_exit_score": limits.exit_score,
            "allowed_models": training.allowed_training_algorithms,
            "blocked_models": training.blocked_training_algorithms,
            "model_explainability": training.enable_model_explainability,
            "enable_ensembling": training.enable_vote_ensemble,
            "featurization": self.featurization.mode,
        }
        if self.forecasting is not None:
            f = self.forecasting
            ids = f.time_series_id_column_names
            fields.update(
                time_column_name=f.time_column_name,
                forecast_horizon=f.forecast_horizon,
                time_series_id_column_names=[ids] if isinstance(ids, str) else ids,
                lags=_as_list(f.target_lags),
                rolling_windows=_as_list(f.target_rolling_window_size),
                seasonality=None if f.seasonality == "auto" else f.seasonality,
            )
        return {k: v for k, v in fields.items() if v is not None}


def _as_list(value: str | int | list[int] | None) -> list[int] | None:
    """Azure's ``auto`` (trainyard chooses), one number, or a list of numbers."""
    if value is None or value == "auto":
        return None
    return [value] if isinstance(value, int) else list(value)  # type: ignore[arg-type]


def automl_step_fields(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The ``Step`` fields of ``type: automl`` step ``name`` as written: its data as its inputs
    ``training_data``/``validation_data``, its one output ``best_model``, its settings checked."""
    where = f"step {name!r}"
    raw = {**raw, **{port: _data_input(raw[port]) for port in DATA_PORTS if raw.get(port) is not None}}
    for key, why in NOT_HERE.items():
        if key in (raw.get("limits") or {}):
            raise InvalidInputError(f"{where}: limits.{key} is not an option here: {why}")
    try:
        spec = AutoMLStep.model_validate(raw)
        fields = spec.settings_fields()
    except ValidationError as exc:
        raise InvalidInputError(f"{where} is not a valid automl step: {problems(exc)}") from None
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    settings = step_settings(name, fields, has_validation_data=spec.validation_data is not None)
    for out, declared in spec.outputs.items():
        if out != OUTPUT:
            raise InvalidInputError(f"{where}: an automl step has one output, {OUTPUT!r}, not {out!r}")
        if isinstance(declared, OutputSpec) and OUTPUT_TYPES[declared.type] not in ("model", "uri_folder"):
            raise InvalidInputError(
                f"{where} output {OUTPUT!r} is a model folder: give it type mlflow_model, custom_model "
                f"or uri_folder, not {declared.type}"
            )
    return {
        "type": "automl",
        "inputs": {port: raw[port] for port in DATA_PORTS if raw.get(port) is not None},
        "outputs": raw.get("outputs") or {OUTPUT: {"type": "mlflow_model"}},
        "automl": settings.model_dump(mode="json"),
        **{key: raw[key] for key in STEP_KEYS if key in raw},
    }


def _data_input(value: Any) -> Any:
    """A table as a step input: a bare data asset (``azureml:churn:3``) or Azure's ``mltable``
    type read as trainyard's ``table``."""
    if isinstance(value, str) and DATA_REF.match(value):
        return {"type": "table", "path": value}
    if isinstance(value, dict) and value.get("type") == "mltable":
        return {**value, "type": "table"}
    return value


def step_settings(name: str, fields: dict[str, Any], has_validation_data: bool) -> AutoMLSettings:
    """The step's ``AutoMLSettings``, with every check that needs no data done."""
    from trainyard.automl.config import check_settings, make_settings

    with _naming(name):
        settings = make_settings(**fields)
        check_settings(settings, has_validation_data)
    return settings


def check_known_tables(ws: Workspace, name: str, settings: dict[str, Any], given: dict[str, Any]) -> None:
    """At submit: the step's settings against the tables already known (``given``: a pipeline
    input's or a literal's value by port); the tables other steps write are checked when it starts."""
    from trainyard.automl.config import AutoMLSettings, check

    if "training_data" not in given:
        return
    with tempfile.TemporaryDirectory() as tmp, _naming(name):
        train, valid = _tables(ws, given, Path(tmp), lambda _: None)
        check(AutoMLSettings.model_validate(settings), train, valid)


def start_automl_step(
    ws: Workspace,
    name: str,
    settings: dict[str, Any],
    job: CommandJob,
    *,
    parent_id: str,
    tags: dict[str, str],
    reads_of: Sequence[str],
    say: Callable[[str], None],
) -> RunInfo:
    """Read the step's tables (``job``'s inputs, now that the steps writing them have run) and
    queue its AutoML run as a child of the pipeline run; a table that cannot be read or does not
    fit the settings is an ``InvalidInputError`` naming the step."""
    from trainyard.automl.config import AutoMLSettings
    from trainyard.automl.submit import submit_automl
    from trainyard.jobs.data_inputs import record_data_reads

    with tempfile.TemporaryDirectory() as tmp, _naming(name):
        train, valid = _tables(ws, dict(job.inputs), Path(tmp), say)
        info = submit_automl(
            ws,
            AutoMLSettings.model_validate(settings),
            train,
            job.experiment_name,
            valid,
            tags,
            parent_id=parent_id,
            name=name,
            compute=job.compute,
            reads_of=reads_of,
            model_path=f"outputs/{OUTPUT}",
        )
    record_data_reads(ws, info.id, job)
    return info


@contextmanager
def _naming(step: str) -> Iterator[None]:
    """An ``InvalidInputError`` raised inside, with the step's name in front."""
    try:
        yield
    except InvalidInputError as exc:
        raise InvalidInputError(f"step {step!r}: {exc}") from None


def _tables(
    ws: Workspace, inputs: dict[str, Any], folder: Path, say: Callable[[str], None]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The training table and the validation table (None when the step has none)."""
    train = _table(ws, "training_data", inputs["training_data"], folder, say)
    valid = inputs.get("validation_data")
    return train, None if valid is None else _table(ws, "validation_data", valid, folder, say)


def _table(ws: Workspace, port: str, value: Any, folder: Path, say: Callable[[str], None]) -> pd.DataFrame:
    """The table a step input names: another run's output, a data asset, a stored upload or a
    local file or folder (its .csv/.parquet files)."""
    from trainyard.jobs.data_inputs import materialize_data_inputs
    from trainyard.jobs.run_outputs import materialize_run_outputs
    from trainyard.jobs.uploads import materialize_inputs, substitute_uris
    from trainyard.parallel.batches import read_input_table

    if not isinstance(value, PathInput | dict):
        raise InvalidInputError(
            f"input {port!r} must be a table (a file, a folder or a step's output), not {value!r}"
        )
    given = value.model_dump(mode="json") if isinstance(value, PathInput) else value
    inputs, argv = {port: given}, [str(given.get("path"))]
    argv = materialize_inputs(inputs, argv, ws.artifacts, folder, say)
    argv = materialize_data_inputs(inputs, argv, ws, folder, say)
    argv = substitute_uris(argv, materialize_run_outputs(inputs, ws, folder, say))
    frame, _ = read_input_table(Path(argv[0]), f"input {port!r}")
    return frame
