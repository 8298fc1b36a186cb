"""AutoML end to end: a real driver job, a real worker pool, trials recorded as child runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

import trainyard as ty
from trainyard.registry import Model
from trainyard.status import RunStatus


def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    frame["batch"] = [f"b{i % 4}" for i in range(len(frame))]  # a categorical column
    frame.loc[::17, "sepal width (cm)"] = np.nan  # imputed
    return frame


def test_classification_trials_leaderboard_model_and_explanations(ws):
    cfg = ty.AutoMLConfig(
        task="classification",
        training_data=iris(),
        label_column_name="target",
        primary_metric="AUC_weighted",
        n_cross_validations=3,
        experiment_timeout_minutes=0.4,
        max_concurrent_iterations=2,
        model_name="iris-automl",
    )
    run = ty.Experiment(ws, "automl").submit(cfg)
    assert isinstance(run, ty.AutoMLRun)
    run.wait_for_completion(timeout_seconds=120)
    info = run.refresh()
    assert info.end_time - info.created_at < 0.4 * 60 + 10  # the budget, within 10 s

    children = ws.store.search_runs(parent_id=run.id)
    completed = [c for c in children if c.status == RunStatus.COMPLETED]
    learners = {c.tags["automl.learner"] for c in completed}
    assert {"LightGBM", "RandomForest", "VotingEnsemble", "StackEnsemble"} <= learners
    lgbm = next(c for c in completed if c.tags["automl.learner"] == "LightGBM")
    assert lgbm.params["model"] == "LightGBM" and "model__n_estimators" in lgbm.params
    assert {"AUC_weighted", "accuracy", "norm_macro_recall", "duration_seconds"} <= set(lgbm.metrics)

    board = run.get_leaderboard()
    assert board["rank"][0] == 1 and run.tags["automl.best_run_id"] in board["run_id"]
    if board["run_id"][0] != run.tags["automl.best_run_id"]:  # a loaded machine: the refit was cut
        assert "is used instead" in run.log_text()[0]
    scores = [v for v in board["AUC_weighted"] if v is not None]
    assert scores == sorted(scores, reverse=True) and len(board["trial"]) == len(children)

    best, pipeline = run.get_output()
    assert best.id == run.tags["automl.best_run_id"]
    raw = iris().drop(columns="target")
    assert set(pipeline.predict(raw)) <= {"setosa", "versicolor", "virginica"}
    assert (pipeline.predict(raw) == iris()["target"]).mean() > 0.9
    assert Model(ws, "iris-automl").version == 1

    metrics = run.get_metrics()
    rails = dict(
        zip(metrics["data_guardrails"]["guardrail"], metrics["data_guardrails"]["status"], strict=True)
    )
    assert rails["missing feature values imputation"] == "done"
    importance = metrics["feature_importance"]
    assert importance["feature"][0].startswith("petal")
    assert "images/feature_importance.png" in run.get_file_names()
    log = run.log_text()[0]
    assert "leaderboard" in log and "<< new best" in log and "model saved to outputs/model" in log


def test_regression_with_allowed_models_iterations_and_exit_score(ws):
    frame = load_diabetes(as_frame=True).frame
    cfg = ty.AutoMLConfig(
        task="regression",
        training_data=frame.iloc[:300],
        validation_data=frame.iloc[300:],
        label_column_name="target",
        primary_metric="r2_score",
        allowed_models=["ElasticNet", "LightGBM"],
        iterations=6,
        enable_ensembling=False,
        experiment_timeout_minutes=1,
    )
    run = ty.Experiment(ws, "automl").submit(cfg)
    run.wait_for_completion(timeout_seconds=120)
    children = ws.store.search_runs(parent_id=run.id)
    assert len(children) == 6 and {c.tags["automl.learner"] for c in children} == {"ElasticNet", "LightGBM"}
    assert "iterations=6 reached" in run.log_text()[0]
    _, pipeline = run.get_output()
    assert pipeline.predict(frame.drop(columns="target").head(3)).shape == (3,)

    easy = ty.AutoMLConfig(
        task="regression",
        training_data=frame,
        label_column_name="target",
        primary_metric="r2_score",
        experiment_exit_score=0.0,
        enable_ensembling=False,
        experiment_timeout_minutes=1,
    )
    quick = ty.Experiment(ws, "automl").submit(easy)
    quick.wait_for_completion(timeout_seconds=120)
    assert "experiment_exit_score 0 reached" in quick.log_text()[0]


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_a_wide_table_records_where_the_budget_went(ws):
    from tests.unit.test_automl_wide import wide

    cfg = ty.AutoMLConfig(
        task="regression",
        training_data=wide(300),
        label_column_name="price",
        primary_metric="r2_score",
        n_cross_validations=3,
        experiment_timeout_minutes=0.5,
        allowed_models=["LightGBM", "ElasticNet"],
    )
    run = ty.Experiment(ws, "automl").submit(cfg)
    run.wait_for_completion(timeout_seconds=180)
    metrics = run.get_metrics()
    phases = ("startup", "prepare", "workers", "search", "ensembles", "refit", "register", "explain")
    assert all(metrics[f"budget_{p}_seconds"] >= 0 for p in phases)
    assert metrics["budget_limit_seconds"] == 30
    split = sum(metrics[f"budget_{p}_seconds"] for p in phases)
    assert split <= metrics["budget_total_seconds"] + 0.01  # the phases do not overlap
    assert metrics["budget"]["phase"] == [*phases, "total"]
    log = run.log_text()[0]
    assert "featurization: fitted once per fold (3 fold(s)" in log
    assert "log scale tried" in log and "budget 30 s, used" in log
    assert "Warning" not in log  # library deprecation warnings are fixed at their calls
    children = ws.store.search_runs(parent_id=run.id)
    lgbm = next(c for c in children if c.tags["automl.learner"] == "LightGBM")
    assert "model__regressor__n_estimators" in lgbm.params and lgbm.params["target"] in ("log", "identity")
    _, pipeline = run.get_output()
    assert np.isfinite(pipeline.predict(wide(4, seed=2).drop(columns="price"))).all()


def two_hundred_columns(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A wide_200-shaped table, small: 60 numeric columns, 140 categorical ones (2-25 levels)."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {f"n{i}": rng.normal(size=n) for i in range(60)}
    for j in range(140):
        data[f"c{j}"] = [f"v{v}" for v in rng.integers(0, 2 + j % 24, n)]
    frame = pd.DataFrame(data)
    frame["price"] = np.exp(11 + 0.4 * frame["n0"] + 0.1 * (frame["c1"] == "v1") + rng.normal(0, 0.1, n))
    return frame


def test_a_wide_table_with_a_short_budget_ends_with_a_registered_model(ws):
    """200 columns and a budget that a busy machine may spend before the search: the first trial
    runs in the driver, so the run still ends with a model in the registry (issue 19)."""
    cfg = ty.AutoMLConfig(
        task="regression",
        training_data=two_hundred_columns(),
        label_column_name="price",
        experiment_timeout_minutes=0.2,
        model_name="wide-short",
    )
    run = ty.Experiment(ws, "automl").submit(cfg)
    run.wait_for_completion(timeout_seconds=180)
    assert run.refresh().status == RunStatus.COMPLETED
    log = run.log_text()[0]
    assert "trial 0 ElasticNet spearman_correlation=" in log  # the first trial completed
    name, version = run.tags["automl.model"].split(":")
    assert name == "wide-short" and Model(ws, name, int(version)).version == int(version)
    _, pipeline = run.get_output()
    pred = pipeline.predict(two_hundred_columns(5, seed=1).drop(columns="price"))
    assert pred.shape == (5,) and np.isfinite(pred).all()
