"""Tune Model Hyperparameters and Sweep Clustering: try settings, keep the best, show them all.

A setting is judged on the validation table when one is given, else by k-fold cross-validation
of the training table; the best is then trained on the whole training table. Ranges are lists
of values (``{"learning_rate": [0.05, 0.1, 0.2]}``) or, for a random sweep, intervals
(``{"learning_rate": {"min": 0.01, "max": 0.5, "log": true}}``); each learner has defaults.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component
from trainyard.components.crossval import cross_validate
from trainyard.components.evaluation import best_index, clustering_metrics, evaluate_scored
from trainyard.components.learners import CLASSIFICATION, UntrainedModel
from trainyard.components.scoring import assign_clusters, score
from trainyard.components.training import FEATURES, LABEL, TRAINED, UNTRAINED, check_task, fit_model

_BOOSTED: dict[str, list[Any]] = {
    "maximum_number_of_leaves_per_tree": [8, 20, 32],
    "learning_rate": [0.05, 0.1, 0.2, 0.4],
    "number_of_trees_constructed": [50, 100, 200],
}
_FOREST: dict[str, list[Any]] = {
    "number_of_decision_trees": [8, 32],
    "maximum_depth_of_the_decision_trees": [8, 16, 32],
}
_NEURAL: dict[str, list[Any]] = {"number_of_hidden_nodes": [50, 100], "learning_rate": [0.01, 0.05, 0.1]}
_LOGISTIC: dict[str, list[Any]] = {
    "l2_regularization_weight": [0.01, 0.1, 1.0, 10.0],
    "l1_regularization_weight": [0.0, 0.1],
}
DEFAULT_RANGES: dict[str, dict[str, list[Any]]] = {
    **{f"{p}-logistic-regression": _LOGISTIC for p in ("two-class", "multiclass")},
    **{f"{p}-boosted-decision-tree": _BOOSTED for p in ("two-class", "multiclass")},
    **{f"{p}-decision-forest": _FOREST for p in ("two-class", "multiclass")},
    **{f"{p}-neural-network": _NEURAL for p in ("two-class", "multiclass")},
    "two-class-support-vector-machine": {"lambda": [1e-4, 1e-3, 1e-2], "number_of_iterations": [10, 100]},
    "linear-regression": {"l2_regularization_weight": [0.0, 0.001, 0.1, 1.0, 10.0]},
    "boosted-decision-tree-regression": _BOOSTED,
    "decision-forest-regression": _FOREST,
    "neural-network-regression": _NEURAL,
    "poisson-regression": {"l2_regularization_weight": [0.01, 0.1, 1.0]},
    "bayesian-linear-regression": {"regularization_weight": [0.1, 1.0, 10.0]},
}
MODES = ("entire grid", "random grid", "random sweep")
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1_score", "auc", "log_loss")
REGRESSION_METRICS = (
    "mean_absolute_error",
    "root_mean_squared_error",
    "relative_absolute_error",
    "relative_squared_error",
    "r2",
)


def _values(name: str, spec: Any, points: int = 5) -> list[Any]:
    """A range as the list of values a grid takes (an interval becomes ``points`` values)."""
    if isinstance(spec, list) and spec:
        return spec
    if isinstance(spec, dict) and {"min", "max"} <= set(spec):
        low, high = float(spec["min"]), float(spec["max"])
        if spec.get("log") and low > 0:
            return [float(v) for v in np.geomspace(low, high, points)]
        return [float(v) for v in np.linspace(low, high, points)]
    raise ComponentInputError(
        f"parameter_ranges: {name!r} must be a list of values or "
        f"{{'min': .., 'max': .., 'log': true|false}}, got {spec!r}"
    )


def settings(
    untrained: UntrainedModel, ranges: dict[str, Any] | None, mode: str, runs: int, seed: int
) -> list[dict[str, Any]]:
    """The parameter settings to try, each checked against the learner's parameter ranges."""
    ranges = ranges or DEFAULT_RANGES.get(untrained.learner)
    if not ranges:
        raise ComponentInputError(f"parameter_ranges: {untrained.learner} has no default ranges; give some")
    rng = np.random.default_rng(seed)
    if mode == "random sweep":
        tried = []
        for _ in range(runs):
            setting = {}
            for name, spec in ranges.items():
                if isinstance(spec, dict) and {"min", "max"} <= set(spec):
                    low, high = float(spec["min"]), float(spec["max"])
                    log = spec.get("log") and low > 0
                    value = float(
                        np.exp(rng.uniform(np.log(low), np.log(high))) if log else rng.uniform(low, high)
                    )
                    setting[name] = value
                else:
                    values = _values(name, spec)
                    setting[name] = values[rng.integers(len(values))]
            tried.append(setting)
    else:
        names = list(ranges)
        grid = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(_values(n, ranges[n]) for n in names))
        ]
        if mode == "random grid" and len(grid) > runs:
            grid = [grid[i] for i in sorted(rng.choice(len(grid), size=runs, replace=False))]
        tried = grid
    whole = {p.name for p in untrained.spec().params if p.type == "int"}
    tried = [{k: round(v) if k in whole and isinstance(v, float) else v for k, v in t.items()} for t in tried]
    for setting in tried:
        untrained.with_params(**setting)  # a value outside a parameter's range fails here, named
    return tried


def _judge(
    candidate: UntrainedModel,
    train: pd.DataFrame,
    valid: pd.DataFrame | None,
    label: str,
    features: Any,
    folds: int,
    seed: int,
) -> dict[str, float]:
    if valid is not None:
        return evaluate_scored(score(fit_model(candidate, train, label, features), valid))[1]
    _, per_fold = cross_validate(candidate, train, label, features, folds, seed)
    return per_fold.drop(columns=["fold", "rows"]).mean().to_dict()


@component(
    name="tune-model-hyperparameters",
    display_name="Tune Model Hyperparameters",
    category="Train",
    description="Sweeps a learner's parameters (entire grid, random grid or random sweep), judged on a "
    "validation table or by cross-validation; returns the best model and every setting tried.",
    inputs=[
        UNTRAINED,
        Port("training_dataset", "table", "the labelled training data"),
        Port(
            "validation_dataset", "table", "judge settings on this table (else cross-validate)", optional=True
        ),
    ],
    outputs=[
        Port("sweep_results", "table", "every setting tried and its metrics"),
        Port("trained_best_model", "model", "the best setting trained on the whole training table"),
    ],
    params=[
        LABEL,
        FEATURES,
        Param(
            "specify_parameter_sweeping_mode",
            "string",
            "random sweep",
            "how settings are chosen",
            choices=MODES,
        ),
        Param(
            "maximum_number_of_runs_on_random_sweep",
            "int",
            5,
            "settings tried by a random sweep or grid",
            min=1,
        ),
        Param(
            "parameter_ranges",
            "json",
            None,
            "{parameter: [values] or {min, max, log}} (default: per learner)",
            optional=True,
        ),
        Param(
            "metric_for_measuring_performance_for_classification",
            "string",
            "accuracy",
            "what the best maximises",
            choices=CLASSIFICATION_METRICS,
        ),
        Param(
            "metric_for_measuring_performance_for_regression",
            "string",
            "mean_absolute_error",
            "what the best minimises",
            choices=REGRESSION_METRICS,
        ),
        Param("number_of_folds", "int", 3, "folds of the cross-validation without a validation table", min=2),
        Param("random_number_seed", "int", 0, "seed of the sweep and the folds", min=0),
    ],
)
def tune_model_hyperparameters(
    ctx: Context,
    untrained_model: UntrainedModel,
    training_dataset: pd.DataFrame,
    validation_dataset: pd.DataFrame | None,
    **p: Any,
) -> dict[str, Any]:
    check_task(untrained_model, "train-model")
    classify = untrained_model.task in CLASSIFICATION
    metric = p[
        "metric_for_measuring_performance_for_classification"
        if classify
        else "metric_for_measuring_performance_for_regression"
    ]
    tried = settings(
        untrained_model,
        p["parameter_ranges"],
        p["specify_parameter_sweeping_mode"],
        p["maximum_number_of_runs_on_random_sweep"],
        p["random_number_seed"],
    )
    rows = []
    for setting in tried:
        candidate = untrained_model.with_params(**setting)
        metrics = _judge(
            candidate,
            training_dataset,
            validation_dataset,
            p["label_column"],
            p["feature_columns"],
            p["number_of_folds"],
            p["random_number_seed"],
        )
        if metric not in metrics:
            raise ComponentInputError(
                f"metric {metric!r} cannot be computed here; metrics: {', '.join(metrics)}"
            )
        ctx.log(metric, metrics[metric])  # one point per setting, so the run shows the sweep
        rows.append({**setting, **metrics})
    table = pd.DataFrame(rows)
    best = best_index(table[metric].tolist(), metric)
    model = fit_model(
        untrained_model.with_params(**tried[best]), training_dataset, p["label_column"], p["feature_columns"]
    )
    ctx.log(f"best_{metric}", float(table[metric].iloc[best]))
    return {
        "sweep_results": table.assign(best=[i == best for i in range(len(table))]),
        "trained_best_model": model,
    }


SWEEP_METRICS = ("silhouette", "davies_bouldin", "calinski_harabasz")


@component(
    name="sweep-clustering",
    display_name="Sweep Clustering",
    category="Train",
    description="Trains K-Means for each number of centroids in a range and keeps the best by silhouette, "
    "Davies-Bouldin or Calinski-Harabasz.",
    inputs=[UNTRAINED, Port("dataset", "table", "the rows to cluster")],
    outputs=[
        TRAINED,
        Port("results_dataset", "table", "the rows with the best model's Assignments"),
        Port("sweep_results", "table", "each number of centroids and its metrics"),
    ],
    params=[
        FEATURES,
        Param("minimum_number_of_centroids", "int", 2, "smallest k tried", min=2),
        Param("maximum_number_of_centroids", "int", 8, "largest k tried", min=2),
        Param(
            "metric_for_measuring_clustering_result",
            "string",
            "silhouette",
            "what picks the best k",
            choices=SWEEP_METRICS,
        ),
    ],
)
def sweep_clustering(
    ctx: Context,
    untrained_model: UntrainedModel,
    dataset: pd.DataFrame,
    feature_columns: list[str] | None,
    **p: Any,
) -> dict[str, Any]:
    check_task(untrained_model, "train-clustering-model")
    low, high, metric = (
        p["minimum_number_of_centroids"],
        p["maximum_number_of_centroids"],
        p["metric_for_measuring_clustering_result"],
    )
    if high < low:
        raise ComponentInputError(
            f"maximum_number_of_centroids ({high}) must be at least minimum_number_of_centroids ({low})"
        )
    rows, fitted = [], []
    for k in range(low, high + 1):
        model = fit_model(untrained_model.with_params(number_of_centroids=k), dataset, None, feature_columns)
        assigned = assign_clusters(model, dataset.dropna(subset=model.feature_columns))
        metrics, _ = clustering_metrics(assigned)
        if metric not in metrics:
            raise ComponentInputError(f"dataset: too few distinct rows to compute {metric} for {k} clusters")
        ctx.log(metric, metrics[metric])
        rows.append({"number_of_centroids": k, **metrics})
        fitted.append((model, assigned))
    table = pd.DataFrame(rows)
    best = best_index(table[metric].tolist(), metric)
    model, results = fitted[best]
    ctx.log("best_number_of_centroids", low + best)
    return {
        "trained_model": model,
        "results_dataset": results,
        "sweep_results": table.assign(best=[i == best for i in range(len(table))]),
    }
