"""What a worker process does: hold the experiment's data, fit a pipeline per fold, score it.

The driver writes a ``Context`` once; each worker loads it at start, so a trial message is only
(learner, params, sample size). Out-of-fold predictions come back so the driver can score
ensembles without fitting anything again.
"""

from __future__ import annotations

import pickle
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from trainyard.automl.featurize import ColumnPlan, build_featurizer
from trainyard.automl.metrics import score_all
from trainyard.automl.portfolio import portfolio


@dataclass
class Context:
    task: str  # classification | regression (forecasting trials see its lag features as regression)
    X: pd.DataFrame
    y: np.ndarray  # classes encoded 0..k-1
    plan: ColumnPlan
    folds: list[tuple[np.ndarray, np.ndarray]]
    n_classes: int
    seed: int = 0

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


def make_pipeline(
    task: str, plan: ColumnPlan, frame: pd.DataFrame, seed: int, learner: str, params: dict[str, Any]
) -> Pipeline:
    """Featurization (+ scaling where the learner needs it) + the learner, unfitted."""
    spec = portfolio(task)[learner]
    steps: list[tuple[str, Any]] = [("featurize", build_featurizer(plan, frame, task))]
    if spec.scaled:
        steps.append(("scale", StandardScaler(with_mean=False)))
    steps.append(("model", spec.build(dict(params), task, seed)))
    return Pipeline(steps)


def predict(model: Any, X: pd.DataFrame, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities (n, k) for classification, values for regression."""
    if task != "classification":
        return np.asarray(model.predict(X), dtype=float)
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba(X)
    else:  # margins (linear SVM) squashed into scores that rank like probabilities
        margin = model.decision_function(X)
        raw = np.column_stack([1 - expit(margin), expit(margin)]) if margin.ndim == 1 else softmax(margin, 1)
    proba = np.zeros((len(X), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = raw
    return proba


def _subsample(train: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(train):
        return train
    return np.sort(np.random.default_rng(seed).permutation(train)[:size])


def evaluate(learner: str, params: dict[str, Any], sample_size: int) -> dict[str, Any]:
    """Fit and score one configuration on every fold; returns metrics and out-of-fold predictions."""
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.evaluate(learner, params)
    start = time.perf_counter()
    parts = []
    for train, valid in ctx.folds:
        rows = _subsample(train, sample_size, ctx.seed)
        pipe = make_pipeline(ctx.task, ctx.plan, ctx.X, ctx.seed, learner, params)
        pipe.fit(ctx.X.iloc[rows], ctx.y[rows])
        parts.append(predict(pipe, ctx.X.iloc[valid], ctx.task, ctx.n_classes))
    oof = np.concatenate(parts)
    truth = ctx.y[ctx.valid_index]
    if not np.all(np.isfinite(oof)):
        raise ValueError("the model predicted NaN or infinite values")
    return {
        "metrics": score_all(ctx.task, truth, oof),
        "seconds": time.perf_counter() - start,
        "predictions": oof.astype(np.float32),
    }


def fit_final(learner: str, params: dict[str, Any]) -> Pipeline:
    """The configuration fitted on every row (training and validation)."""
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.fit(learner, params)
    return make_pipeline(ctx.task, ctx.plan, ctx.X, ctx.seed, learner, params).fit(ctx.X, ctx.y)
