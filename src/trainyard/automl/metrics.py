"""Azure ML's metric names, each scored from labels and predictions (probabilities for classes)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats
from sklearn import metrics as skm

CLASSIFICATION = (
    "accuracy",
    "AUC_weighted",
    "average_precision_score_weighted",
    "norm_macro_recall",
    "precision_score_weighted",
)
REGRESSION = (
    "spearman_correlation",
    "normalized_root_mean_squared_error",
    "r2_score",
    "normalized_mean_absolute_error",
)
MINIMIZED = {"normalized_root_mean_squared_error", "normalized_mean_absolute_error"}
DEFAULT = {
    "classification": "accuracy",
    "regression": "spearman_correlation",
    "forecasting": "normalized_root_mean_squared_error",
}


def task_metrics(task: str) -> tuple[str, ...]:
    return CLASSIFICATION if task == "classification" else REGRESSION


def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1
    return out


def _auc(y: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 2:
        return float(skm.roc_auc_score(y, proba[:, 1]))
    present = np.unique(y)
    onehot = _onehot(y, proba.shape[1])[:, present]
    return float(skm.roc_auc_score(onehot, proba[:, present], average="weighted"))


def _ap(y: np.ndarray, proba: np.ndarray) -> float:
    present = np.unique(y)
    onehot = _onehot(y, proba.shape[1])[:, present]
    return float(skm.average_precision_score(onehot, proba[:, present], average="weighted"))


def _norm_macro_recall(y: np.ndarray, proba: np.ndarray) -> float:
    k = proba.shape[1]
    chance = 0.5 if k == 2 else 1.0 / k
    recall = skm.recall_score(y, proba.argmax(1), average="macro", labels=np.unique(y), zero_division=0)
    return float((recall - chance) / (1 - chance))


def _spread(y: np.ndarray) -> float:
    spread = float(np.max(y) - np.min(y))
    return spread if spread > 0 else 1.0


def _spearman(y: np.ndarray, pred: np.ndarray) -> float:
    value = stats.spearmanr(y, pred).statistic
    return 0.0 if np.isnan(value) else float(value)


SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda y, p: float(skm.accuracy_score(y, p.argmax(1))),
    "AUC_weighted": _auc,
    "average_precision_score_weighted": _ap,
    "norm_macro_recall": _norm_macro_recall,
    "precision_score_weighted": lambda y, p: float(
        skm.precision_score(y, p.argmax(1), average="weighted", zero_division=0)
    ),
    "spearman_correlation": _spearman,
    "normalized_root_mean_squared_error": lambda y, p: float(np.sqrt(np.mean((y - p) ** 2)) / _spread(y)),
    "r2_score": lambda y, p: float(skm.r2_score(y, p)),
    "normalized_mean_absolute_error": lambda y, p: float(np.mean(np.abs(y - p)) / _spread(y)),
}


def score_all(task: str, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Every metric of the task; one that cannot be computed on these rows is left out."""
    out = {}
    for name in task_metrics(task):
        try:
            out[name] = SCORERS[name](y, pred)
        except ValueError:
            continue
    return out


def loss(metric: str, value: float) -> float:
    """Lower is better, whatever the metric."""
    return value if metric in MINIMIZED else -value
