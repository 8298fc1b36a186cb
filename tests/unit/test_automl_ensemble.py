"""Ensembles scored from out-of-fold predictions, and the fitted ensemble estimators."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from trainyard.automl import ensemble
from trainyard.automl.final import DecodedClassifier, decoded


def test_greedy_weights_prefer_the_members_that_help():
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    right = np.column_stack([1 - y * 0.9 - 0.05, y * 0.9 + 0.05])
    wrong = right[:, ::-1]
    weights = ensemble.greedy_weights([wrong, right], y, "accuracy")
    assert weights[1] == pytest.approx(1.0) and weights.sum() == pytest.approx(1.0)


def test_voting_and_stacking_score_at_least_the_members_on_complementary_errors():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    a, b = y + rng.normal(0, 0.5, 200), y + rng.normal(0, 0.5, 200)
    _, voted = ensemble.voting("regression", [a, b], y, "r2_score")
    _, stacked = ensemble.stacking("regression", [a, b], y, seed=0)
    single = 1 - np.mean((y - a) ** 2) / np.var(y)
    assert voted["r2_score"] > single and stacked["r2_score"] > single


def test_fitted_ensembles_predict_classes_and_decode_labels():
    X, y = make_classification(200, 5, random_state=0)
    members = [LogisticRegression().fit(X, y), DecisionTreeClassifier(max_depth=3).fit(X, y)]
    voting = ensemble.VotingModel(members, [0.5, 0.5], "classification", 2)
    assert voting.predict_proba(X).shape == (200, 2) and (voting.predict(X) == y).mean() > 0.8
    meta, _ = ensemble.stacking("classification", [m.predict_proba(X) for m in members], y, seed=0)
    stack = ensemble.StackModel(members, meta, "classification", 2)
    assert (stack.predict(X) == y).mean() > 0.8
    pipeline = decoded(voting, ["no", "yes"])
    assert set(pipeline.predict(X)) == {"no", "yes"}
    assert isinstance(pipeline.steps[-1][1], DecodedClassifier)
    refit = pipeline.fit(X, np.where(y == 1, "yes", "no"))
    assert (refit.predict(X) == np.where(y == 1, "yes", "no")).mean() > 0.8
