"""Every bad input the issue lists fails at submit with one line, and nothing is queued."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trainyard as ty
from trainyard.errors import TrainyardError


@pytest.fixture
def ws(tmp_path: Path):
    workspace = ty.Workspace.create(tmp_path)
    yield workspace
    workspace.close()


def data(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": ["p", "q"] * (n // 2)})


def series(dup: bool = False) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=60, freq="D")
    frame = pd.concat([pd.DataFrame({"t": t, "shop": s, "y": np.arange(60.0)}) for s in ("a", "b")])
    if dup:
        frame = pd.concat([frame, frame[(frame.shop == "b")].iloc[[10]]])
    return frame


CASES = {
    "label missing": (dict(label_column_name="target"), r"label_column_name 'target' is not a column"),
    "one class": (dict(training_data=data().assign(y="p")), r"has only one class \('p'\)"),
    "too few rows for the folds": (
        dict(n_cross_validations=25),
        r"class 'p' has 20 row\(s\), too few for 25 folds",
    ),
    "timeout shorter than one trial": (dict(experiment_timeout_minutes=0.01), r"shorter than one trial"),
    "metric for another task": (dict(primary_metric="r2_score"), r"primary_metric 'r2_score' does not fit"),
    "unknown model": (dict(allowed_models=["CatBoost"]), r"model 'CatBoost' is not a classification learner"),
    "unknown setting": (dict(iteratoins=3), r"AutoML setting iteratoins"),
    "duplicate timestamps in a series": (
        dict(
            task="forecasting",
            training_data=series(dup=True),
            time_column_name="t",
            forecast_horizon=5,
            time_series_id_column_names=["shop"],
        ),
        r"duplicate timestamps in series 'b': 2024-01-11",
    ),
    "forecast without a horizon": (
        dict(task="forecasting", training_data=series(), time_column_name="t"),
        r"needs forecast_horizon",
    ),
    "series too short for the horizon": (
        dict(
            task="forecasting",
            training_data=series(),
            time_column_name="t",
            forecast_horizon=30,
            time_series_id_column_names=["shop"],
        ),
        r"too few for 3 rolling-origin folds of horizon 30",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_before_anything_is_queued(ws, case):
    fields, message = CASES[case]
    settings = {
        "task": "classification",
        "training_data": data(),
        "label_column_name": "y",
        "experiment_timeout_minutes": 1,
        **fields,
    }
    exp = ty.Experiment(ws, "bad")
    with pytest.raises(TrainyardError, match=message) as err:
        exp.submit(ty.AutoMLConfig(**settings))
    assert "\n" not in str(err.value)
    assert exp.get_runs() == []


def test_missing_file_and_unknown_format(ws, tmp_path: Path):
    with pytest.raises(TrainyardError, match="is not a file"):
        ty.Experiment(ws, "bad").submit(ty.AutoMLConfig("regression", tmp_path / "nope.csv", "y"))
    (tmp_path / "data.txt").write_text("a,y\n1,2\n")
    with pytest.raises(TrainyardError, match=r"use a \.csv or \.parquet file"):
        ty.Experiment(ws, "bad").submit(ty.AutoMLConfig("regression", tmp_path / "data.txt", "y"))
