"""What a worker process does: hold the experiment's data, fit a pipeline per fold, score it.

The driver writes a ``Context`` once; each worker loads it at start, so a trial message is only
(learner, params, sample size). Out-of-fold predictions come back so the driver can score
ensembles without fitting anything again.
"""

from __future__ import annotations

import pickle
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from trainyard.automl.featurize import ColumnPlan, RangeScaler, build_featurizer
from trainyard.automl.metrics import loss, score_all
from trainyard.automl.portfolio import portfolio


@dataclass
class FoldFeatures:
    """One fold's rows featurized by a featurizer fitted on its training rows."""

    train: Any  # dense float32 array or CSR matrix
    valid: Any
    seconds: float  # fitting and applying the featurizer
    featurizer: Any = None  # fitted on the fold's training rows: a fold model's first step


@dataclass
class Context:
    task: str  # classification | regression (forecasting trials see its lag features as regression)
    X: pd.DataFrame
    y: np.ndarray  # classes encoded 0..k-1
    plan: ColumnPlan
    folds: list[tuple[np.ndarray, np.ndarray]]
    n_classes: int
    seed: int = 0
    features: list[FoldFeatures] = field(default_factory=list)
    log_target: bool = False  # regression learners fit log(label): chosen by ``choose_target``

    @property
    def valid_index(self) -> np.ndarray:
        return np.concatenate([v for _, v in self.folds])


_context: Any = None  # a Context, or a forecasting context


def load_context(path: str) -> None:
    """Worker initializer: read the experiment's data once."""
    global _context
    threadpool_limits(1)  # one core per worker: max_concurrent_iterations workers use that many cores
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the trial's score already says it
    with open(path, "rb") as fh:
        _context = pickle.load(fh)


class BoundedRegressor(RegressorMixin, BaseEstimator):
    """A regressor fitted on log(label) when ``log`` (skewed positive labels: errors in proportion,
    not dominated by the priciest rows), whose predictions stay within the training labels' range:
    no learner extrapolates past every label it has seen."""

    def __init__(self, regressor: Any, log: bool = False) -> None:
        self.regressor, self.log = regressor, log

    def fit(self, X: Any, y: Any) -> BoundedRegressor:
        y = np.asarray(y, dtype=float)
        self.low_, self.high_ = float(y.min()), float(y.max())
        self.regressor.fit(X, np.log(y) if self.log else y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        raw = np.asarray(self.regressor.predict(X), dtype=float)
        if self.log:
            return np.exp(np.clip(raw, np.log(self.low_), np.log(self.high_)))
        return np.clip(raw, self.low_, self.high_)


def model_steps(
    task: str, seed: int, learner: str, params: dict[str, Any], target: str = ""
) -> list[tuple[str, Any]]:
    """What follows the featurization: scaling where the learner needs it, then the learner;
    ``target`` ("log" or "identity") wraps a regressor in ``BoundedRegressor``."""
    spec = portfolio(task)[learner]
    steps: list[tuple[str, Any]] = []
    if spec.scaled:
        steps.append(("scale", RangeScaler()))
    model = spec.build(dict(params), task, seed)
    steps.append(("model", BoundedRegressor(model, target == "log") if target else model))
    return steps


def target_kind(ctx: Context) -> str:
    """How regression learners see the label (see ``BoundedRegressor``); "" for other tasks."""
    if ctx.task != "regression":
        return ""
    return "log" if ctx.log_target else "identity"


def make_pipeline(
    task: str, plan: ColumnPlan, frame: pd.DataFrame, seed: int, learner: str, params: dict[str, Any]
) -> Pipeline:
    """Featurization (+ scaling where the learner needs it) + the learner, unfitted."""
    featurize = ("featurize", build_featurizer(plan, frame, task))
    return Pipeline([featurize, *model_steps(task, seed, learner, params)])


def _compact(matrix: Any) -> Any:
    """Features as float32 (half the memory in the context and the workers), CSR when sparse."""
    if hasattr(matrix, "tocsr"):
        return matrix.tocsr().astype(np.float32)
    return np.ascontiguousarray(matrix, dtype=np.float32)


def featurize(ctx: Context, rows: np.ndarray | None = None) -> tuple[Any, Any]:
    """A featurizer fitted on ``rows`` (all rows when None) and those rows featurized."""
    X = ctx.X if rows is None else ctx.X.iloc[rows]
    y = ctx.y if rows is None else ctx.y[rows]
    featurizer = build_featurizer(ctx.plan, ctx.X, ctx.task)
    return featurizer, _compact(featurizer.fit_transform(X, y))


def featurize_folds(ctx: Context) -> None:
    """Fit the featurization once per fold, so trials only fit their learner."""
    ctx.features = []
    for train, valid in ctx.folds:
        start = time.perf_counter()
        featurizer, train_features = featurize(ctx, train)
        valid_features = _compact(featurizer.transform(ctx.X.iloc[valid]))
        seconds = time.perf_counter() - start
        ctx.features.append(FoldFeatures(train_features, valid_features, seconds, featurizer))


def predict(model: Any, X: pd.DataFrame, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities (n, k) for classification, values for regression."""
    if task != "classification":
        return np.asarray(model.predict(X), dtype=float)
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba(X)
    else:  # margins (linear SVM) squashed into scores that rank like probabilities
        margin = model.decision_function(X)
        raw = np.column_stack([1 - expit(margin), expit(margin)]) if margin.ndim == 1 else softmax(margin, 1)
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = raw
    return proba


def _subsample(train: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(train):
        return train
    return np.sort(np.random.default_rng(seed).permutation(train)[:size])


def evaluate(
    learner: str, params: dict[str, Any], sample_size: int, metric: str = "", best_loss: float = np.inf
) -> dict[str, Any]:
    """Fit and score one configuration on every fold; returns metrics and out-of-fold predictions,
    and, when its ``metric`` beats ``best_loss`` (a new best), its first fold's fitted model: the
    model the driver falls back on when refitting on every row would overrun the budget."""
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.evaluate(learner, params)
    result = evaluate_in(ctx, learner, params, sample_size)
    first = result.pop("fold_model")
    if metric in result["metrics"] and loss(metric, result["metrics"][metric]) < best_loss:
        result["fold_model"] = first
    return result


def evaluate_in(ctx: Context, learner: str, params: dict[str, Any], sample_size: int) -> dict[str, Any]:
    """``evaluate`` on a given context (the driver's own, before any worker exists)."""
    start = time.perf_counter()
    parts, models = [], []
    for (train, _), fold in zip(ctx.folds, ctx.features, strict=True):
        rows = _subsample(np.arange(len(train)), sample_size, ctx.seed)
        model = Pipeline(model_steps(ctx.task, ctx.seed, learner, params, target_kind(ctx)))
        model.fit(fold.train[rows], ctx.y[train[rows]])
        parts.append(predict(model, fold.valid, ctx.task, ctx.n_classes))
        models.append(model)
    oof = np.concatenate(parts)
    truth = ctx.y[ctx.valid_index]
    if not np.all(np.isfinite(oof)):
        raise ValueError("the model predicted NaN or infinite values")
    return {
        "metrics": score_all(ctx.task, truth, oof),
        "seconds": time.perf_counter() - start,
        "predictions": oof.astype(np.float32),
        "fold_model": models[0],
    }


def fold_pipeline(ctx: Context, model: Pipeline) -> Pipeline:
    """A model fitted on the first fold's featurized rows, with that fold's featurizer in front:
    it scores raw rows like a refitted one (trained on fewer rows)."""
    return Pipeline([("featurize", ctx.features[0].featurizer), *model.steps])


_all_rows: tuple[Any, Any] | None = None  # this worker's featurizer fitted on every row, and its output


def fit_final(learner: str, params: dict[str, Any]) -> Pipeline:
    """The configuration fitted on every row (training and validation). The featurizer is fitted
    on every row once per worker and shared by the members of an ensemble it refits."""
    global _all_rows
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.fit(learner, params)
    if _all_rows is None:
        _all_rows = featurize(ctx)
    featurizer, features = _all_rows
    model = Pipeline(model_steps(ctx.task, ctx.seed, learner, params, target_kind(ctx))).fit(features, ctx.y)
    return Pipeline([("featurize", featurizer), *model.steps])


SKEWED = 0.75  # labels more skewed than this (and all positive) are tried on a log scale
# the learner the log scale is tried with: linear learners gain or lose the most from it (trees
# split on ranks of the features, and are nearly indifferent), and it is the cheapest to fit
PROBES: dict[str, dict[str, Any]] = {"ElasticNet": {"alpha": 1e-2, "l1_ratio": 0.5}}


def choose_target(ctx: Context, metric: str, sample_size: int) -> str:
    """For a skewed, positive regression label, try the log scale with cheap probe learners on
    the cached folds and keep it if it validates better; returns what was found, for the log."""
    y = ctx.y
    if ctx.task != "regression" or y.min() <= 0 or stats.skew(y) < SKEWED:
        return ""
    total = {False: 0.0, True: 0.0}
    for log in total:
        ctx.log_target = log
        for learner, params in PROBES.items():
            total[log] += loss(metric, evaluate_in(ctx, learner, params, sample_size)["metrics"][metric])
    ctx.log_target = total[True] < total[False]
    kept = "kept" if ctx.log_target else "not kept"
    return (
        f"label skewed ({stats.skew(y):.2f}): log scale tried, {kept} "
        f"({metric} loss {total[True]:.4f} with it, {total[False]:.4f} without)"
    )
