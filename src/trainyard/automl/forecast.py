"""Forecasting: one or many series (ID columns), lag and rolling-window features of the target,
calendar parts of the time column, rolling-origin validation, naive and seasonal-naive
baselines, and a model that forecasts the horizon after the end of the training data.

A regressor from the portfolio learns one step ahead from the features; forecasting ``h`` steps
feeds its own predictions back as lags (recursive). Columns other than the time, ID and label
columns are not used: their future values are unknown when forecasting.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from trainyard.automl.featurize import ColumnPlan
from trainyard.automl.metrics import score_all
from trainyard.errors import InvalidInputError

BASELINES = ("Naive", "SeasonalNaive")
SEASONS = {"h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def _keys(frame: pd.DataFrame, ids: list[str]) -> pd.Series:
    if not ids:
        return pd.Series("", index=frame.index)
    return frame[ids].astype(str).agg("|".join, axis=1)


def check_forecasting(s: Any, df: pd.DataFrame) -> None:
    """Forecasting settings and data: the time column, IDs, no duplicate timestamps, enough history."""
    if not s.time_column_name or s.time_column_name not in df.columns:
        raise InvalidInputError(
            f"forecasting needs time_column_name naming a column of the data (got {s.time_column_name!r})"
        )
    if not s.forecast_horizon:
        raise InvalidInputError("forecasting needs forecast_horizon (how many steps to forecast), e.g. 14")
    for col in s.time_series_id_column_names:
        if col not in df.columns:
            raise InvalidInputError(f"time_series_id_column_names names {col!r}, which is not a column")
    try:
        times = pd.to_datetime(df[s.time_column_name])
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"time column {s.time_column_name!r} does not parse as dates: {exc}"
        ) from None
    keys = _keys(df, s.time_series_id_column_names)
    dup = pd.DataFrame({"key": keys, "t": times}).duplicated()
    if dup.any():
        row = dup.idxmax()
        where = f" in series {keys[row]!r}" if s.time_series_id_column_names else ""
        raise InvalidInputError(
            f"training_data has duplicate timestamps{where}: {times[row]} appears more than once; "
            "aggregate the rows or add the ID column that tells the series apart"
        )
    folds = s.n_cross_validations or 3
    shortest = keys.value_counts().min()
    need = s.forecast_horizon * folds + max(s.lags or [1]) + 2
    if shortest < need:
        raise InvalidInputError(
            f"a series has {shortest} rows, too few for {folds} rolling-origin folds of horizon "
            f"{s.forecast_horizon} (needs {need}); lower forecast_horizon or n_cross_validations"
        )


@dataclass
class Features:
    """How the feature rows are made: shared by training, validation and forecasting."""

    time_col: str
    ids: list[str]
    lags: list[int]
    windows: list[int]
    season: int
    freq: str

    @property
    def plan(self) -> ColumnPlan:
        purposes = {c: "categorical" for c in self.ids}
        for name in self.columns[len(self.ids) :]:
            purposes[name] = "numeric"
        return ColumnPlan(purposes)

    @property
    def columns(self) -> list[str]:
        calendar = ["month", "dayofweek", "dayofyear", "hour"]
        return [*self.ids, *calendar, *(f"lag_{k}" for k in self.lags), *(f"mean_{w}" for w in self.windows)]

    def calendar(self, times: pd.Series) -> dict[str, np.ndarray]:
        t = pd.to_datetime(times)
        return {
            "month": t.dt.month.to_numpy(),
            "dayofweek": t.dt.day_of_week.to_numpy(),
            "dayofyear": t.dt.day_of_year.to_numpy(),
            "hour": t.dt.hour.to_numpy(),
        }

    def training(self, frame: pd.DataFrame, y: np.ndarray, keys: pd.Series) -> pd.DataFrame:
        """Feature rows for the observed data: lags and windows of the past only."""
        out = {c: frame[c].astype(str).to_numpy() for c in self.ids} | self.calendar(frame[self.time_col])
        series = pd.Series(y, index=frame.index).groupby(keys.to_numpy())
        for k in self.lags:
            out[f"lag_{k}"] = series.shift(k).to_numpy()
        past = series.shift(1)
        for w in self.windows:
            out[f"mean_{w}"] = (
                past.groupby(keys.to_numpy()).transform(lambda s, w=w: s.rolling(w, 1).mean()).to_numpy()
            )
        return pd.DataFrame(out, index=frame.index)[self.columns]

    def step(self, ids: pd.DataFrame, when: pd.Series, history: list[np.ndarray]) -> pd.DataFrame:
        """One feature row per series for the next timestamp, from each series' history."""
        out = {c: ids[c].astype(str).to_numpy() for c in self.ids} | self.calendar(when)
        for k in self.lags:
            out[f"lag_{k}"] = np.array([h[-k] if len(h) >= k else np.nan for h in history])
        for w in self.windows:
            out[f"mean_{w}"] = np.array([h[-w:].mean() for h in history])
        return pd.DataFrame(out)[self.columns]


class ForecastModel(BaseEstimator):
    """Forecasts from the end of its history; ``predict`` takes rows of time (+ ID) columns."""

    def __init__(self, features: Features, learner: str, regressor: Any = None) -> None:
        self.features, self.learner, self.regressor = features, learner, regressor

    def fit(self, X: pd.DataFrame, y: Any) -> ForecastModel:
        """Refit on new history (same learner and settings)."""
        self.history_ = X.assign(_y=np.asarray(y, dtype=float))
        if self.learner not in BASELINES:
            keys = _keys(X, self.features.ids)
            rows = self.features.training(X, np.asarray(y, dtype=float), keys)
            keep = ~np.isnan(rows["lag_1"].to_numpy())
            self.regressor.fit(rows[keep], np.asarray(y, dtype=float)[keep])
        return self

    def _grouped(self) -> tuple[pd.DataFrame, list[np.ndarray], list[pd.Timestamp]]:
        f = self.features
        h = self.history_.sort_values(f.time_col)
        groups = list(h.groupby(_keys(h, f.ids).to_numpy(), sort=True))
        ids = (
            pd.DataFrame([g[f.ids].iloc[-1] for _, g in groups])
            if f.ids
            else pd.DataFrame(index=range(len(groups)))
        )
        return (
            ids.reset_index(drop=True),
            [g["_y"].to_numpy(float) for _, g in groups],
            [pd.Timestamp(g[f.time_col].iloc[-1]) for _, g in groups],
        )

    def forecast(self, steps: int) -> pd.DataFrame:
        """The next ``steps`` values of every series after the end of the history."""
        f = self.features
        ids, history, last = self._grouped()
        rows = []
        offset = pd.tseries.frequencies.to_offset(f.freq)
        for step in range(1, steps + 1):
            when = pd.Series([t + step * offset for t in last])
            if self.learner == "Naive":
                values = np.array([h[-1] for h in history])
            elif self.learner == "SeasonalNaive":
                values = np.array(
                    [h[-f.season + ((step - 1) % f.season)] if len(h) >= f.season else h[-1] for h in history]
                )
            else:
                values = np.asarray(self.regressor.predict(f.step(ids, when, history)), dtype=float)
            if self.learner not in BASELINES:
                history = [np.append(h, v) for h, v in zip(history, values, strict=True)]
            rows.append(ids.assign(**{f.time_col: when.to_numpy(), "forecast": values}))
        return pd.concat(rows, ignore_index=True)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Forecasts for the rows' (series, time) pairs, which must lie after the history's end."""
        f = self.features
        times = pd.to_datetime(X[f.time_col])
        end = pd.to_datetime(self.history_[f.time_col]).max()
        steps = max(1, len(pd.date_range(end, times.max(), freq=f.freq)) - 1)
        table = self.forecast(steps)
        table[f.time_col] = pd.to_datetime(table[f.time_col])
        keyed = dict(
            zip(zip(_keys(table, f.ids), table[f.time_col], strict=True), table["forecast"], strict=True)
        )
        return np.array([keyed.get((k, t), np.nan) for k, t in zip(_keys(X, f.ids), times, strict=True)])


def infer_freq(frame: pd.DataFrame, time_col: str, keys: pd.Series) -> str:
    """The series' frequency (from the longest series), e.g. ``D`` or ``MS``."""
    longest = keys.value_counts().idxmax()
    times = pd.to_datetime(frame.loc[keys == longest, time_col]).sort_values()
    with warnings.catch_warnings():  # pandas 3 announces an offset return type; the string is kept
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(times) if len(times) >= 3 else None
    if freq is None:
        raise InvalidInputError(
            f"cannot tell the frequency of time column {time_col!r}; its timestamps must be evenly spaced"
        )
    return freq


@dataclass
class ForecastContext:
    """What a worker needs for forecasting trials: the sorted frame, features and folds."""

    frame: pd.DataFrame  # time and ID columns, sorted by series then time
    y: np.ndarray
    features: Features
    horizon: int
    folds: list[tuple[np.ndarray, np.ndarray]]
    seed: int = 0
    task: str = "forecasting"
    n_classes: int = 0
    rows: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.rows = self.features.training(self.frame, self.y, _keys(self.frame, self.features.ids))

    @property
    def X(self) -> pd.DataFrame:
        return self.frame

    @property
    def plan(self) -> ColumnPlan:
        return self.features.plan

    @property
    def valid_index(self) -> np.ndarray:
        return np.concatenate([v for _, v in self.folds])

    def _model(self, learner: str, params: dict[str, Any], train: np.ndarray) -> ForecastModel:
        from trainyard.automl.evaluate import make_pipeline

        regressor = None
        if learner not in BASELINES:
            regressor = make_pipeline("regression", self.plan, self.rows, self.seed, learner, params)
        model = ForecastModel(self.features, learner, regressor)
        return model.fit(self.frame.iloc[train], self.y[train])

    def evaluate(self, learner: str, params: dict[str, Any]) -> dict[str, Any]:
        """Rolling origin: fit on the rows before each fold's cutoff, forecast the horizon after it."""
        start = time.perf_counter()
        parts = []
        for train, valid in self.folds:
            model = self._model(learner, params, train)
            parts.append(model.predict(self.frame.iloc[valid]))
        pred = np.concatenate(parts)
        if not np.all(np.isfinite(pred)):
            raise ValueError("the model forecast NaN or infinite values")
        return {
            "metrics": score_all("regression", self.y[self.valid_index], pred),
            "seconds": time.perf_counter() - start,
            "predictions": pred.astype(np.float32),
        }

    def fit(self, learner: str, params: dict[str, Any]) -> ForecastModel:
        return self._model(learner, params, np.arange(len(self.frame)))


def prepare_forecasting(s: Any, frame: pd.DataFrame) -> ForecastContext:
    """Sort the series, infer frequency and season, choose lags and windows, cut rolling-origin folds."""
    time_col, ids = s.time_column_name, list(s.time_series_id_column_names)
    frame = frame.assign(**{time_col: pd.to_datetime(frame[time_col])})
    keys = _keys(frame, ids)
    frame = frame.assign(_key=keys).sort_values(["_key", time_col]).reset_index(drop=True)
    freq = infer_freq(frame, time_col, frame["_key"])
    season = s.seasonality or SEASONS.get(freq.split("-")[0].lstrip("0123456789"), 1)
    lags = sorted(set(s.lags or [1, 2, 3, *([season] if season > 1 else [])]))
    windows = sorted(set(s.rolling_windows or [3, *([season] if season > 3 else [])]))
    features = Features(time_col, ids, lags, windows, season, freq)
    position = frame.groupby("_key").cumcount().to_numpy()
    length = frame.groupby("_key")["_key"].transform("size").to_numpy()
    k, h = s.n_cross_validations or 3, s.forecast_horizon
    folds = []
    for i in range(k, 0, -1):
        cutoff = length - i * h
        valid = (position >= cutoff) & (position < cutoff + h)
        folds.append((np.flatnonzero(position < cutoff), np.flatnonzero(valid)))
    y = frame[s.label_column_name].to_numpy(float)
    return ForecastContext(frame[[time_col, *ids]], y, features, h, folds, s.seed)
