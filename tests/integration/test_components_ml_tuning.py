"""Tune Model Hyperparameters, Cross-Validate Model and Sweep Clustering on small real data."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, make_blobs

from tests.integration.test_components_ml import learner, run
from trainyard.components.base import ComponentInputError, Context
from trainyard.components.crossval import FOLD

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


def test_cross_validate_scores_every_row_out_of_fold(cancer: pd.DataFrame) -> None:
    ctx = Context()
    out = run(
        "cross-validate-model",
        ctx,
        untrained_model=learner("two-class-decision-forest"),
        dataset=cancer,
        label_column="target",
        number_of_folds=4,
    )
    scored = out["scored_results"]
    assert list(scored.index) == list(cancer.index) and sorted(scored[FOLD].unique()) == [0, 1, 2, 3]
    assert (scored["mean radius"].to_numpy() == cancer["mean radius"].to_numpy()).all()
    twice = pd.concat([cancer, cancer])  # an index with repeated labels keeps its rows and order
    again = run(
        "cross-validate-model",
        untrained_model=learner("two-class-decision-forest"),
        dataset=twice,
        label_column="target",
        number_of_folds=3,
    )["scored_results"]
    assert (
        len(again) == len(twice)
        and (again["mean radius"].to_numpy() == twice["mean radius"].to_numpy()).all()
    )
    table = out["evaluation_results_by_fold"].tables["evaluation_results_by_fold"]
    assert list(table["fold"]) == [0, 1, 2, 3, "Mean", "Standard Deviation"]
    assert table["rows"].iloc[:4].sum() == len(cancer)
    assert ctx.metrics["mean_accuracy"] == pytest.approx(table["accuracy"].iloc[:4].mean())
    assert 0 < ctx.metrics["std_accuracy"] < 0.1 and ctx.metrics["mean_auc"] > 0.9


@pytest.mark.parametrize("folds", [0, -2, 1])
def test_cross_validate_refuses_fewer_than_two_folds(cancer: pd.DataFrame, folds: int) -> None:
    with pytest.raises(ComponentInputError, match="number_of_folds must be at least 2"):
        run(
            "cross-validate-model",
            untrained_model=learner("two-class-decision-forest"),
            dataset=cancer,
            label_column="target",
            number_of_folds=folds,
        )


def test_tune_entire_grid_on_a_validation_table(cancer: pd.DataFrame) -> None:
    train, valid = cancer.iloc[::2], cancer.iloc[1::2]
    ctx = Context()
    out = run(
        "tune-model-hyperparameters",
        ctx,
        untrained_model=learner("two-class-boosted-decision-tree"),
        training_dataset=train,
        validation_dataset=valid,
        label_column="target",
        specify_parameter_sweeping_mode="entire grid",
        parameter_ranges={
            "number_of_trees_constructed": [2, 60],
            "maximum_number_of_leaves_per_tree": [2, 8],
        },
        metric_for_measuring_performance_for_classification="log_loss",
    )
    table = out["sweep_results"]
    assert len(table) == 4 and table["best"].sum() == 1
    best = table[table["best"]].iloc[0]
    assert best["log_loss"] == table["log_loss"].min()
    model = out["trained_best_model"]
    assert model.params["number_of_trees_constructed"] == best["number_of_trees_constructed"]
    assert ctx.metrics["best_log_loss"] == best["log_loss"]


def test_tune_random_sweep_with_cross_validation_for_regression() -> None:
    df = load_diabetes(as_frame=True).frame
    out = run(
        "tune-model-hyperparameters",
        untrained_model=learner("linear-regression"),
        training_dataset=df,
        label_column="target",
        parameter_ranges={"l2_regularization_weight": {"min": 0.001, "max": 100, "log": True}},
        maximum_number_of_runs_on_random_sweep=4,
        number_of_folds=3,
    )
    table = out["sweep_results"]
    assert len(table) == 4 and table["l2_regularization_weight"].between(0.001, 100).all()
    assert table[table["best"]]["mean_absolute_error"].iloc[0] == table["mean_absolute_error"].min()
    random_grid = run(
        "tune-model-hyperparameters",
        untrained_model=learner("linear-regression"),
        training_dataset=df,
        label_column="target",
        specify_parameter_sweeping_mode="random grid",
        maximum_number_of_runs_on_random_sweep=2,
    )["sweep_results"]
    assert len(random_grid) == 2


def test_interval_of_a_whole_number_parameter_gives_whole_numbers() -> None:
    from trainyard.components.tuning import settings

    untrained = learner("two-class-decision-forest")
    ranges = {
        "number_of_decision_trees": {"min": 2, "max": 40},
        "resampling_method": ["bagging", "replicate"],
    }
    for mode in ("random sweep", "entire grid"):
        tried = settings(untrained, ranges, mode, runs=6, seed=1)
        assert all(isinstance(t["number_of_decision_trees"], int) for t in tried)
        assert {t["resampling_method"] for t in tried} <= {"bagging", "replicate"}
    assert len(settings(untrained, ranges, "entire grid", runs=6, seed=1)) == 10


def test_tune_refuses_a_range_outside_the_parameter(cancer: pd.DataFrame) -> None:
    with pytest.raises(ComponentInputError, match="learning_rate"):
        run(
            "tune-model-hyperparameters",
            untrained_model=learner("two-class-boosted-decision-tree"),
            training_dataset=cancer,
            label_column="target",
            parameter_ranges={"learning_rate": [0.1, 5.0]},
        )


def test_sweep_clustering_finds_the_number_of_blobs() -> None:
    X, _ = make_blobs(n_samples=240, centers=4, cluster_std=0.6, random_state=3)
    df = pd.DataFrame(X, columns=["x", "y"])
    for metric in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        out = run(
            "sweep-clustering",
            untrained_model=learner("k-means-clustering"),
            dataset=df,
            minimum_number_of_centroids=2,
            maximum_number_of_centroids=6,
            metric_for_measuring_clustering_result=metric,
        )
        assert out["trained_model"].params["number_of_centroids"] == 4, metric
        assert list(out["sweep_results"]["number_of_centroids"]) == [2, 3, 4, 5, 6]
        assert out["results_dataset"]["Assignments"].nunique() == 4
    with pytest.raises(ComponentInputError, match="maximum_number_of_centroids"):
        run(
            "sweep-clustering",
            untrained_model=learner("k-means-clustering"),
            dataset=df,
            minimum_number_of_centroids=5,
            maximum_number_of_centroids=3,
        )
