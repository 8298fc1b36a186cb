"""AutoML settings (what ``AutoMLConfig`` and ``trainyard automl submit`` record) and the checks
that run before anything is queued: every mistake a user can make with data or settings fails
here with one line, not minutes into the search.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.automl.metrics import DEFAULT, task_metrics
from trainyard.automl.portfolio import choose
from trainyard.errors import InvalidInputError
from trainyard.numbers import Count, Duration, Finite

WORKER_START_SECONDS = 3.0  # a worker process importing scikit-learn and the boosters
CHEAP_FIT_ROWS_PER_SECOND = 200_000.0  # cells (rows x columns) a cheap learner fits per second
FEATURIZE_CELLS_PER_SECOND = 5_000_000.0  # featurizing (imputing, encoding) before the search


class AutoMLSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: Literal["classification", "regression", "forecasting"]
    label_column_name: str
    primary_metric: str | None = None
    n_cross_validations: Count | None = Field(None, ge=2)
    validation_size: Finite | None = Field(None, gt=0, lt=1)
    experiment_timeout_minutes: Duration = 15.0
    iterations: Count = Field(1000, ge=1)
    max_concurrent_iterations: Count = Field(1, ge=1)
    experiment_exit_score: Finite | None = None
    enable_early_stopping: bool = True
    early_stopping_iterations: Count = Field(40, ge=1)
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    featurization: str | dict[str, Any] = "auto"
    enable_ensembling: bool = True
    model_explainability: bool = True
    model_name: str | None = None
    model_tags: dict[str, str] = {}  # on the registered version (many-models: its partition)
    seed: int = 0
    # forecasting
    time_column_name: str | None = None
    forecast_horizon: Count | None = Field(None, ge=1)
    time_series_id_column_names: list[str] = []
    lags: list[int] | None = None
    rolling_windows: list[int] | None = None
    seasonality: Count | None = Field(None, ge=1)

    @property
    def metric(self) -> str:
        return self.primary_metric or DEFAULT[self.task]

    @property
    def timeout_seconds(self) -> float:
        return self.experiment_timeout_minutes * 60


def make_settings(**fields: Any) -> AutoMLSettings:
    try:
        return AutoMLSettings.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise InvalidInputError(f"AutoML setting {where}: {err['msg']}") from None


def plain(value: Any) -> str:
    """A value for a message: ``1`` or ``'p'``, never ``np.int64(1)``."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def read_table(data: Any, what: str) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV / Parquet path; a file that cannot be read as a table
    (empty, header only, not UTF-8, not really Parquet) fails with one line naming it."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    from pathlib import Path

    path = Path(str(data))
    if not path.is_file():
        hint = (
            "a .csv or a .parquet file" if what.startswith("--") else "a DataFrame, a .csv or a .parquet file"
        )
        raise InvalidInputError(f"{what} {path} is not a file (give {hint})")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise InvalidInputError(f"{what} {path}: use a .csv or .parquet file")
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InvalidInputError(
            f"{what} {path} is empty: a CSV file needs a header row and data rows"
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{what} {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8 CSV"
        ) from None
    except (OSError, ValueError) as exc:  # pandas' ParserError and pyarrow's ArrowInvalid are ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind = "a valid CSV file" if suffix == ".csv" else "a Parquet file"
        raise InvalidInputError(f"{what} {path} is not {kind}: {first}") from None
    if len(frame) == 0:
        raise InvalidInputError(f"{what} {path} has no data rows (columns: {_columns(frame)})")
    return frame


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns[:20]]
    more = f", ... ({len(frame.columns)} in all)" if len(frame.columns) > 20 else ""
    return (", ".join(names) + more) if names else "none"


def first_trial_seconds(s: AutoMLSettings, rows: int, columns: int) -> float:
    """About how long until a first trial has a score: a worker's start, featurizing every row
    once per fold and once more for the refit, and a cheap fit of the first sample (big tables
    start on ``INITIAL_SAMPLE`` rows) per fold."""
    from trainyard.automl.search import INITIAL_SAMPLE

    folds = max(folds_needed(s), 1)
    featurize = rows * columns / FEATURIZE_CELLS_PER_SECOND * (folds + 1)
    fit = min(rows, INITIAL_SAMPLE) * columns / CHEAP_FIT_ROWS_PER_SECOND * folds
    return WORKER_START_SECONDS + featurize + fit


def folds_needed(s: AutoMLSettings) -> int:
    if s.task == "forecasting":
        return s.n_cross_validations or 3
    return s.n_cross_validations or 0


def check_settings(s: AutoMLSettings, has_validation_data: bool = False) -> None:
    """The mistakes that need no data: a pipeline's AutoML step is checked with these at submit,
    before the step that writes its data has run, and a many-models run before it splits its table."""
    if s.metric not in task_metrics(s.task):
        raise InvalidInputError(
            f"primary_metric {s.metric!r} does not fit task {s.task!r}; use one of "
            + ", ".join(task_metrics(s.task))
        )
    given = (s.n_cross_validations is not None, s.validation_size is not None, has_validation_data)
    if sum(given) > 1:
        raise InvalidInputError("give only one of n_cross_validations, validation_size and validation_data")
    choose(s.task, s.allowed_models, s.blocked_models)


def check(s: AutoMLSettings, train: pd.DataFrame, valid: pd.DataFrame | None) -> None:
    """Every data and settings mistake, found before the search starts."""
    label = s.label_column_name
    if label not in train.columns:
        raise InvalidInputError(
            f"label_column_name {label!r} is not a column of training_data; its columns: " + _columns(train)
        )
    if len(train) == 0:
        raise InvalidInputError("training_data has no rows")
    if valid is not None:
        if label not in valid.columns:
            raise InvalidInputError(f"label_column_name {label!r} is not a column of validation_data")
        missing = [str(c) for c in train.columns if c not in valid.columns]
        if missing:
            raise InvalidInputError(
                "validation_data lacks training_data column(s) "
                + ", ".join(repr(c) for c in missing[:20])
                + (f" ({len(missing)} in all)" if len(missing) > 20 else "")
            )
        if len(valid) == 0:
            raise InvalidInputError("validation_data has no rows")
    check_settings(s, has_validation_data=valid is not None)
    y = train[label].dropna()
    if len(y) < len(train):
        raise InvalidInputError(
            f"label {label!r} is missing in {len(train) - len(y)} row(s); drop or fill them"
        )
    if s.task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise InvalidInputError(
                f"label {label!r} has only one class ({plain(counts.index[0])}); "
                "classification needs two or more"
            )
        folds = s.n_cross_validations or 2
        if counts.min() < folds:
            raise InvalidInputError(
                f"class {plain(counts.idxmin())} has {int(counts.min())} row(s), too few for {folds} folds; "
                "lower n_cross_validations or add rows"
            )
    else:
        if not pd.api.types.is_numeric_dtype(y):
            raise InvalidInputError(f"label {label!r} must be numeric for {s.task}, not {y.dtype}")
    if s.task == "forecasting":
        from trainyard.automl.forecast import check_forecasting

        if valid is not None or s.validation_size is not None:
            raise InvalidInputError(
                "forecasting validates on rolling origins: give n_cross_validations, not validation_data/size"
            )
        check_forecasting(s, train)
    elif len(train) < max(10, 2 * (s.n_cross_validations or 2)):
        raise InvalidInputError(
            f"training_data has {len(train)} rows, too few to validate "
            f"({s.n_cross_validations or 2} folds); give at least 10 rows"
        )
    one_trial = first_trial_seconds(s, *train.shape)
    if s.timeout_seconds < one_trial:
        raise InvalidInputError(
            f"experiment_timeout_minutes={s.experiment_timeout_minutes:g} ({s.timeout_seconds:.1f} s) is "
            f"shorter than one trial on this data (about {one_trial:.0f} s); give at least "
            f"{one_trial / 60:.2f} minutes"
        )
