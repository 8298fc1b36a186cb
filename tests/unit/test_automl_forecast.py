"""Forecasting features, rolling origins, baselines and the recursive forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainyard.automl.config import make_settings
from trainyard.automl.forecast import ForecastModel, prepare_forecasting


def frame(n: int = 50) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="D")
    week = np.array([0, 1, 2, 3, 4, 8, 9], dtype=float)
    return pd.concat(
        [
            pd.DataFrame({"date": t, "shop": shop, "sales": week[np.arange(n) % 7] + base})
            for shop, base in (("a", 0.0), ("b", 100.0))
        ]
    )


def context(horizon: int = 7):
    s = make_settings(
        task="forecasting",
        label_column_name="sales",
        time_column_name="date",
        forecast_horizon=horizon,
        time_series_id_column_names=["shop"],
    )
    return prepare_forecasting(s, frame())


def test_features_use_only_the_past_and_season_is_inferred():
    ctx = context()
    f = ctx.features
    assert f.freq == "D" and f.season == 7 and f.lags == [1, 2, 3, 7] and f.windows == [3, 7]
    rows = ctx.rows
    shop_a = ctx.frame["shop"] == "a"
    assert np.isnan(rows.loc[shop_a, "lag_1"].iloc[0])
    np.testing.assert_array_equal(rows.loc[shop_a, "lag_1"].to_numpy()[1:], ctx.y[shop_a.to_numpy()][:-1])
    assert rows.loc[~shop_a, "lag_7"].iloc[7] == ctx.y[(~shop_a).to_numpy()][0]  # never the other shop


def test_rolling_origins_validate_the_horizon_after_each_cutoff():
    ctx = context(horizon=5)
    assert len(ctx.folds) == 3
    for train, valid in ctx.folds:
        assert len(valid) == 2 * 5  # two shops
        for shop in ("a", "b"):
            in_shop = ctx.frame["shop"].to_numpy() == shop
            assert (
                ctx.frame["date"].to_numpy()[train[in_shop[train]]].max()
                < ctx.frame["date"].to_numpy()[valid[in_shop[valid]]].min()
            )


def test_seasonal_naive_beats_naive_on_a_weekly_pattern_and_forecasts_the_next_days():
    ctx = context()
    naive = ctx.evaluate("Naive", {})["metrics"]["normalized_root_mean_squared_error"]
    seasonal = ctx.evaluate("SeasonalNaive", {})["metrics"]["normalized_root_mean_squared_error"]
    assert seasonal == pytest.approx(0.0) and naive > 0.01
    model = ctx.fit("SeasonalNaive", {})
    ahead = model.forecast(7)
    assert len(ahead) == 14 and ahead["date"].min() == pd.Timestamp("2024-02-20")
    np.testing.assert_allclose(
        ahead[ahead.shop == "a"]["forecast"], [1, 2, 3, 4, 8, 9, 0]
    )  # day 50 is day 1 of the week


def test_a_learner_forecasts_recursively_and_predict_matches_rows():
    ctx = context()
    result = ctx.evaluate("ElasticNet", {"alpha": 1e-3, "l1_ratio": 0.5})
    assert result["metrics"]["r2_score"] > 0.9 and len(result["predictions"]) == 3 * 14
    model = ctx.fit("ElasticNet", {"alpha": 1e-3, "l1_ratio": 0.5})
    assert isinstance(model, ForecastModel)
    rows = pd.DataFrame({"date": pd.to_datetime(["2024-02-21", "2024-02-20"]), "shop": ["b", "a"]})
    got = model.predict(rows)
    table = model.forecast(2)
    expect_b = table[(table.shop == "b") & (table.date == "2024-02-21")]["forecast"].iloc[0]
    assert got[0] == pytest.approx(expect_b) and got[0] > 50 > got[1]
