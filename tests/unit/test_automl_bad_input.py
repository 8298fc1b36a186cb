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
    "numpy class values print plainly": (
        dict(training_data=data().assign(y=[0, 1] * 20), n_cross_validations=25),
        r"^class 0 has 20 row\(s\), too few for 25 folds",
    ),
    "no rows": (dict(training_data=data().iloc[:0]), r"training_data has no rows"),
    "validation data without the training columns": (
        dict(validation_data=data().drop(columns=["b"]).rename(columns={"a": "z"})),
        r"validation_data lacks training_data column\(s\) 'a', 'b'",
    ),
    "validation data without the label": (
        dict(validation_data=data().drop(columns=["y"])),
        r"label_column_name 'y' is not a column of validation_data",
    ),
    "empty validation data": (dict(validation_data=data().iloc[:0]), r"validation_data has no rows"),
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


BAD_FILES = {
    "empty.csv": (b"", r"empty\.csv is empty"),
    "header.csv": (b"a,b,y\n", r"header\.csv has no data rows \(columns: a, b, y\)"),
    "latin1.csv": ("a,b,y\n1,2,caf\u00e9\n".encode("latin-1"), r"latin1\.csv is not UTF-8 text"),
    "fake.parquet": (b"a,b,y\n1,2,p\n", r"fake\.parquet is not a Parquet file"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
@pytest.mark.parametrize("which", ["training_data", "validation_data"])
def test_unreadable_file_is_one_line_naming_it(ws, tmp_path: Path, name, which):
    content, message = BAD_FILES[name]
    (tmp_path / name).write_bytes(content)
    data().to_csv(tmp_path / "good.csv", index=False)
    given = {"training_data": tmp_path / "good.csv", which: tmp_path / name}
    exp = ty.Experiment(ws, "bad")
    with pytest.raises(TrainyardError, match=f"^{which} .*{message}") as err:
        exp.submit(ty.AutoMLConfig("classification", label_column_name="y", **given))
    assert "\n" not in str(err.value)
    assert exp.get_runs() == []
