"""Voting and stacking over the best pipelines, scored from their out-of-fold predictions (no
refitting needed to score them), and the fitted ensemble estimators the final model uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, cross_val_predict

from trainyard.automl.evaluate import predict
from trainyard.automl.metrics import SCORERS, loss, score_all

ROUNDS = 20


def greedy_weights(preds: list[np.ndarray], y: np.ndarray, metric: str) -> np.ndarray:
    """Caruana's ensemble selection: add (with replacement) the member that helps most; on a
    tie, the member that is best alone."""
    counts = np.zeros(len(preds))
    total = np.zeros_like(preds[0], dtype=float)
    alone = [loss(metric, SCORERS[metric](y, p)) for p in preds]
    for _ in range(ROUNDS):
        n = counts.sum() + 1
        scores = [(loss(metric, SCORERS[metric](y, (total + p) / n)), alone[i]) for i, p in enumerate(preds)]
        pick = min(range(len(preds)), key=scores.__getitem__)
        counts[pick] += 1
        total += preds[pick]
    return counts / counts.sum()


def voting(
    task: str, preds: list[np.ndarray], y: np.ndarray, metric: str
) -> tuple[np.ndarray, dict[str, float]]:
    weights = greedy_weights(preds, y, metric)
    blended = sum(w * p for w, p in zip(weights, preds, strict=True))
    return weights, score_all(task, y, np.asarray(blended))


def _stack_features(preds: list[np.ndarray]) -> np.ndarray:
    return np.column_stack([p if p.ndim == 2 else p[:, None] for p in preds])


def stacking(task: str, preds: list[np.ndarray], y: np.ndarray, seed: int) -> tuple[Any, dict[str, float]]:
    """A linear meta-learner on the members' predictions, scored by cross-validation over them."""
    features = _stack_features(preds)
    folds = KFold(5, shuffle=True, random_state=seed)
    meta = LogisticRegression(max_iter=500) if task == "classification" else RidgeCV()
    if task == "classification":
        inner = cross_val_predict(meta, features, y, cv=folds, method="predict_proba")
        k = preds[0].shape[1]
        proba = np.zeros((len(y), k))
        proba[:, np.unique(y)] = inner
        scores = score_all(task, y, proba)
    else:
        scores = score_all(task, y, cross_val_predict(meta, features, y, cv=folds))
    return meta.fit(features, y), scores


class _Combined(BaseEstimator):
    """Fitted pipelines combined; refitting refits the members and keeps how they combine."""

    members: list[Any]

    def fit(self, X: Any, y: Any) -> _Combined:
        for member in self.members:
            member.fit(X, y)
        return self


class VotingModel(_Combined):
    """Weighted average of fitted pipelines' predictions (probabilities for classes)."""

    def __init__(self, members: list[Any], weights: list[float], task: str, n_classes: int) -> None:
        self.members, self.weights, self.task, self.n_classes = members, weights, task, n_classes
        self.classes_ = np.arange(n_classes)

    def _blend(self, X: Any) -> np.ndarray:
        weighted = [
            w * predict(m, X, self.task, self.n_classes)
            for m, w in zip(self.members, self.weights, strict=True)
        ]
        return np.sum(weighted, axis=0)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._blend(X)

    def predict(self, X: Any) -> np.ndarray:
        out = self._blend(X)
        return out.argmax(1) if self.task == "classification" else out


class StackModel(_Combined):
    """A meta-learner over fitted pipelines' predictions."""

    def __init__(self, members: list[Any], meta: Any, task: str, n_classes: int) -> None:
        self.members, self.meta, self.task, self.n_classes = members, meta, task, n_classes
        self.classes_ = np.arange(n_classes)

    def _features(self, X: Any) -> np.ndarray:
        return _stack_features([predict(m, X, self.task, self.n_classes) for m in self.members])

    def predict_proba(self, X: Any) -> np.ndarray:
        raw = self.meta.predict_proba(self._features(X))
        proba = np.zeros((len(raw), self.n_classes))
        proba[:, self.meta.classes_.astype(int)] = raw
        return proba

    def predict(self, X: Any) -> np.ndarray:
        if self.task == "classification":
            return self.predict_proba(X).argmax(1)
        return self.meta.predict(self._features(X))
