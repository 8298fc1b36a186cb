"""A pipeline's ``type: automl`` step: Azure ML CLI v2's keys as trainyard's AutoML settings."""

from __future__ import annotations

import pytest

from trainyard.errors import InvalidInputError
from trainyard.pipelines.automl_step import automl_step_fields

DATA = "${{parent.jobs.prep.outputs.train}}"


def fields(**keys: object) -> dict:
    return automl_step_fields("train", {"type": "automl", "training_data": DATA, **keys})


def test_azure_keys_become_trainyard_settings():
    step = fields(
        task="classification",
        target_column_name="y",
        primary_metric="AUC_weighted",
        validation_data={"type": "mltable", "path": "azureml:holdout:2"},
        limits={
            "timeout_minutes": 5,
            "max_trials": 7,
            "max_concurrent_trials": 2,
            "enable_early_termination": False,
            "exit_score": 0.9,
        },
        training={
            "allowed_training_algorithms": ["LightGBM"],
            "enable_vote_ensemble": False,
            "enable_stack_ensemble": False,
            "enable_model_explainability": False,
        },
        featurization={"mode": "off"},
        compute="local",
        tags={"team": "a"},
    )
    s = step["automl"]
    assert (s["label_column_name"], s["primary_metric"], s["experiment_timeout_minutes"]) == (
        "y",
        "AUC_weighted",
        5,
    )
    assert (s["iterations"], s["max_concurrent_iterations"], s["experiment_exit_score"]) == (7, 2, 0.9)
    assert (s["enable_early_stopping"], s["enable_ensembling"], s["model_explainability"]) == (False,) * 3
    assert (s["allowed_models"], s["featurization"]) == (["LightGBM"], "off")
    assert step["inputs"] == {
        "training_data": DATA,
        "validation_data": {"type": "table", "path": "azureml:holdout:2"},
    }
    assert step["outputs"] == {"best_model": {"type": "mlflow_model"}}  # its one output, declared or not
    assert (step["compute"], step["tags"]) == ("local", {"team": "a"})


def test_forecasting_keys_and_autos():
    step = fields(
        task="forecasting",
        training_data="azureml:sales:1",
        target_column_name="sales",
        n_cross_validations="auto",
        forecasting={
            "time_column_name": "day",
            "forecast_horizon": 14,
            "time_series_id_column_names": "store",
            "target_lags": 7,
            "target_rolling_window_size": "auto",
            "seasonality": "auto",
        },
    )
    assert step["inputs"] == {"training_data": {"type": "table", "path": "azureml:sales:1"}}
    s = step["automl"]
    assert (s["time_column_name"], s["forecast_horizon"], s["time_series_id_column_names"]) == (
        "day",
        14,
        ["store"],
    )
    assert (s["lags"], s["rolling_windows"], s["seasonality"], s["n_cross_validations"]) == (
        [7],
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        ({"task": "clustering"}, r"step 'train' is not a valid automl step: task: Input should be"),
        ({"limits": {"max_trials": 0}}, r"limits.max_trials: Input should be greater than or equal to 1"),
        ({"limits": {"timeout_minutes": True}}, r"limits.timeout_minutes: .*give a number, not true"),
        ({"training": {"enable_stack_ensemble": False}}, r"step 'train': training.enable_vote_ensemble and"),
        ({"n_cross_validations": 3, "validation_data_size": 0.2}, r"step 'train': give only one of"),
        ({"command": "python x.py"}, r"command: Extra inputs are not permitted"),
        ({"outputs": {"best_model": {"type": "uri_file"}}}, r"output 'best_model' is a model folder"),
    ],
)
def test_bad_keys_name_the_step_and_the_key(keys: dict, error: str):
    with pytest.raises(InvalidInputError, match=error):
        fields(**{"task": "classification", "target_column_name": "y", **keys})
