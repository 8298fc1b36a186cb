"""Azure's metric names, checked against scikit-learn on small hand-made data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from trainyard.automl.metrics import MINIMIZED, loss, score_all, task_metrics

Y = np.array([0, 0, 1, 1, 2, 2, 2, 0])
P = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.4, 0.5, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.6, 0.3],
        [0.1, 0.1, 0.8],
        [0.3, 0.3, 0.4],
        [0.5, 0.2, 0.3],
        [0.6, 0.2, 0.2],
    ]
)


def test_classification_metrics_match_sklearn():
    got = score_all("classification", Y, P)
    assert set(got) == set(task_metrics("classification"))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(Y, P.argmax(1)))
    assert got["AUC_weighted"] == pytest.approx(
        skm.roc_auc_score(Y, P, multi_class="ovr", average="weighted")
    )
    recall = skm.recall_score(Y, P.argmax(1), average="macro")
    assert got["norm_macro_recall"] == pytest.approx((recall - 1 / 3) / (1 - 1 / 3))
    assert got["precision_score_weighted"] == pytest.approx(
        skm.precision_score(Y, P.argmax(1), average="weighted", zero_division=0)
    )


def test_binary_auc_uses_the_positive_column():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert score_all("classification", y, p)["AUC_weighted"] == pytest.approx(0.75)


def test_regression_metrics_are_normalized_by_the_range():
    y = np.array([0.0, 2.0, 4.0, 10.0])
    pred = np.array([1.0, 2.0, 3.0, 10.0])
    got = score_all("regression", y, pred)
    assert got["normalized_root_mean_squared_error"] == pytest.approx(np.sqrt(0.5) / 10)
    assert got["normalized_mean_absolute_error"] == pytest.approx(0.5 / 10)
    assert got["spearman_correlation"] == pytest.approx(1.0)
    assert got["r2_score"] == pytest.approx(skm.r2_score(y, pred))


def test_loss_points_the_same_way_for_every_metric():
    assert "normalized_root_mean_squared_error" in MINIMIZED
    assert loss("r2_score", 0.9) < loss("r2_score", 0.5)
    assert loss("normalized_root_mean_squared_error", 0.1) < loss("normalized_root_mean_squared_error", 0.2)
