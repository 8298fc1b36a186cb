"""Train Model, Train Clustering Model and Train Anomaly Detection Model.

``fit_model`` is the one training path (Tune Model Hyperparameters and Cross-Validate Model use
it too): choose the feature columns, skip rows with a missing label or feature (as Studio does,
and count them), check that the label suits the learner's task, one-hot encode text and
categorical columns inside the fitted pipeline, and fit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trainyard.components.base import (
    ComponentInputError,
    Context,
    Param,
    Port,
    component,
    label_column,
    marks,
    require_columns,
)
from trainyard.components.learners import CLASSIFICATION, UntrainedModel
from trainyard.components.model import TrainedModel

TRAINERS = {
    "train-model": (*CLASSIFICATION, "regression"),
    "train-clustering-model": ("clustering",),
    "train-anomaly-detection-model": ("anomaly_detection",),
}


def check_task(untrained: UntrainedModel, trainer: str) -> None:
    """Refuse a learner the trainer cannot train, naming the trainer that can."""
    if untrained.task in TRAINERS[trainer]:
        return
    right = next(name for name, tasks in TRAINERS.items() if untrained.task in tasks)
    raise ComponentInputError(
        f"untrained_model is a {untrained.task} learner ({untrained.learner}); {trainer} trains "
        f"{' / '.join(TRAINERS[trainer])} learners: use {right}"
    )


def choose_features(df: pd.DataFrame, label: str | None, given: list[str] | None) -> list[str]:
    """The given columns, else those Edit Metadata marked as features, else every column but the label."""
    if given:
        return require_columns(df, given, "feature_columns")
    marked = [c for c in marks(df)["features"] if c != label]
    return marked or [c for c in df.columns if c != label]


def complete_rows(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """``df`` without rows missing a value in ``columns``, and how many were skipped."""
    present = df[columns].notna()
    empty = [c for c in columns if not present[c].any()]
    if empty:
        raise ComponentInputError(
            f"column {empty[0]!r} has no values at all; "
            "drop it (select-columns) or fill it (clean-missing-data)"
        )
    keep = present.all(axis=1)
    skipped = int(len(keep) - keep.sum())
    return (df[keep] if skipped else df), skipped


def _check_label(y: pd.Series, untrained: UntrainedModel) -> None:
    name, task = y.name, untrained.task
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise ComponentInputError(
                f"label_column {name!r} holds {y.dtype} values (e.g. {y.iloc[0]!r}); {untrained.learner} "
                "needs a numeric label: choose a classification learner or convert the column"
            )
        if untrained.learner == "poisson-regression" and (y < 0).any():
            raise ComponentInputError(
                f"label_column {name!r} has negative values; Poisson regression needs counts >= 0"
            )
        return
    classes = y.nunique()
    if classes < 2:
        raise ComponentInputError(
            f"label_column {name!r} has one class ({y.iloc[0]!r}); a classifier needs at least two"
        )
    if task == "binary" and classes > 2:
        raise ComponentInputError(
            f"label_column {name!r} has {classes} classes; {untrained.learner} takes two: "
            f"use {untrained.learner.replace('two-class', 'multiclass')}"
        )


def _with_encoding(estimator: Any, X: pd.DataFrame, categorical: list[str]) -> Any:
    """The estimator behind a one-hot encoder of the text and categorical columns, if there are any."""
    encode = [c for c in X.columns if c in categorical or not pd.api.types.is_numeric_dtype(X[c])]
    if not encode:
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    prep = ColumnTransformer(
        [("categorical", onehot, encode)], remainder="passthrough", verbose_feature_names_out=False
    )
    return Pipeline([("encode", prep), ("learner", estimator)])


def fit_checked(learner: str, estimator: Any, X: Any, y: Any = None) -> Any:
    """``estimator.fit(X, y)``; a library ``ValueError`` about the data or parameters becomes one line."""
    try:
        return estimator.fit(X, y)
    except ValueError as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ComponentInputError(f"{learner} could not be fitted on this data: {text}") from None


def fit_model(
    untrained: UntrainedModel, df: pd.DataFrame, label: str | None = None, features: list[str] | None = None
) -> TrainedModel:
    """Train ``untrained`` on ``df`` (rows missing a label or feature are skipped and counted)."""
    supervised = untrained.task in TRAINERS["train-model"]
    label = label_column(df, label) if supervised else None
    columns = choose_features(df, label or marks(df)["label"], features)  # a marked label is never a feature
    if not columns:
        raise ComponentInputError("feature_columns: the table has no column to learn from besides the label")
    rows, skipped = complete_rows(df, [*columns, label] if label else columns)
    if rows.empty:
        raise ComponentInputError(
            "dataset has no row without a missing value; clean it first (clean-missing-data)"
        )
    X = rows[columns]
    y = rows[label] if label else None
    if supervised:
        _check_label(y, untrained)
    centroids = untrained.params.get("number_of_centroids")
    if centroids is not None and centroids > len(rows):
        raise ComponentInputError(
            "number_of_centroids must be at most the number of rows with values, "
            f"{len(rows)}; got {centroids}"
        )
    estimator = _with_encoding(untrained.build(), X, marks(df)["categorical"])
    fit_checked(untrained.learner, estimator, X, y)
    classes = getattr(estimator, "classes_", None) if untrained.task in CLASSIFICATION else None
    return TrainedModel(
        estimator=estimator,
        task=untrained.task,
        learner=untrained.learner,
        feature_columns=columns,
        feature_types={c: str(X[c].dtype) for c in columns},
        label_column=label,  # None unless supervised
        classes=None if classes is None else list(classes),
        training_rows=len(rows),
        skipped_rows=skipped,
        params=dict(untrained.params),
        example=X.head(5),
    )


def _log_training(ctx: Context, model: TrainedModel) -> None:
    ctx.log("training_rows", model.training_rows)
    ctx.log("rows_skipped", model.skipped_rows)


UNTRAINED = Port("untrained_model", "untrained_model", "the learner from an Initialize Model component")
DATASET = Port("dataset", "table", "the training data")
TRAINED = Port("trained_model", "model", "the fitted model")
FEATURES = Param(
    "feature_columns", "columns", None, "columns to learn from (default: all but the label)", optional=True
)
LABEL = Param(
    "label_column", "column", None, "the column to predict (default: the marked label)", optional=True
)


@component(
    name="train-model",
    display_name="Train Model",
    category="Train",
    description="Trains a classification or regression learner on labelled data; rows with missing "
    "values in the label or features are skipped and counted.",
    inputs=[UNTRAINED, DATASET],
    outputs=[TRAINED],
    params=[LABEL, FEATURES],
)
def train_model(
    ctx: Context,
    untrained_model: UntrainedModel,
    dataset: pd.DataFrame,
    label_column: str | None,
    feature_columns: list[str] | None,
) -> dict[str, Any]:
    check_task(untrained_model, "train-model")
    model = fit_model(untrained_model, dataset, label_column, feature_columns)
    _log_training(ctx, model)
    return {"trained_model": model}


@component(
    name="train-clustering-model",
    display_name="Train Clustering Model",
    category="Train",
    description="Fits a clustering learner and returns the model and the data with each row's cluster.",
    inputs=[UNTRAINED, DATASET],
    outputs=[TRAINED, Port("results_dataset", "table", "the training rows with Assignments and distances")],
    params=[FEATURES],
)
def train_clustering_model(
    ctx: Context, untrained_model: UntrainedModel, dataset: pd.DataFrame, feature_columns: list[str] | None
) -> dict[str, Any]:
    from trainyard.components.scoring import assign_clusters

    check_task(untrained_model, "train-clustering-model")
    model = fit_model(untrained_model, dataset, None, feature_columns)
    _log_training(ctx, model)
    rows = dataset.dropna(subset=model.feature_columns) if model.skipped_rows else dataset
    return {"trained_model": model, "results_dataset": assign_clusters(model, rows)}


@component(
    name="train-anomaly-detection-model",
    display_name="Train Anomaly Detection Model",
    category="Train",
    description="Fits an anomaly detector on (mostly normal) data; a label column, if named, is left out.",
    inputs=[UNTRAINED, DATASET],
    outputs=[TRAINED],
    params=[
        Param("label_column", "column", None, "a column to leave out of the features", optional=True),
        FEATURES,
    ],
)
def train_anomaly_detection_model(
    ctx: Context,
    untrained_model: UntrainedModel,
    dataset: pd.DataFrame,
    label_column: str | None,
    feature_columns: list[str] | None,
) -> dict[str, Any]:
    check_task(untrained_model, "train-anomaly-detection-model")
    if label_column:
        require_columns(dataset, [label_column], "label_column")
    columns = choose_features(dataset, label_column or marks(dataset)["label"], feature_columns)
    model = fit_model(untrained_model, dataset, None, columns)
    _log_training(ctx, model)
    return {"trained_model": model}
