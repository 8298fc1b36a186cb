"""AutoML forecasting end to end: baselines on the leaderboard, a model that forecasts the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trainyard as ty


def test_forecasting_baselines_on_the_leaderboard_and_a_forecast(ws):
    t = pd.date_range("2024-01-01", periods=80, freq="D")
    week = np.array([5, 6, 7, 8, 9, 15, 16], dtype=float)
    frame = pd.concat(
        [
            pd.DataFrame({"day": t, "shop": s, "sales": week[np.arange(80) % 7] * k})
            for s, k in (("a", 1), ("b", 3))
        ]
    )
    cfg = ty.AutoMLConfig(
        task="forecasting",
        training_data=frame,
        label_column_name="sales",
        time_column_name="day",
        forecast_horizon=7,
        time_series_id_column_names=["shop"],
        experiment_timeout_minutes=0.4,
    )
    run = ty.Experiment(ws, "automl").submit(cfg)
    run.wait_for_completion(timeout_seconds=120)
    board = run.get_leaderboard()
    assert {"Naive", "SeasonalNaive"} <= set(board["learner"])
    _, pipeline = run.get_output()
    future = pd.DataFrame({"day": pd.to_datetime(["2024-03-21", "2024-03-22"]), "shop": ["a", "b"]})
    np.testing.assert_allclose(pipeline.predict(future), [week[80 % 7], 3 * week[81 % 7]], rtol=0.05)
    forecast = run.get_metrics("forecast")["forecast"]
    assert len(forecast["day"]) == 14


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
