"""Score Model and Assign Data to Clusters: a trained model's predictions as new columns.

Studio's column names: ``Scored Labels``; ``Scored Probabilities`` (the positive class of a
two-class model, or the anomaly score); ``Scored Probabilities for Class "c"`` (one per class of
a multiclass model); ``Assignments`` and ``DistancesToClusterCenter no.i`` for clusters. Each
model is asked once: labels come from the probabilities, assignments from the distances. The
scored table carries what Evaluate Model needs in ``attrs["trainyard_scores"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component, with_marks
from trainyard.components.model import TrainedModel, plain_value

LABELS = "Scored Labels"
PROBABILITIES = "Scored Probabilities"
ASSIGNMENTS = "Assignments"
SCORES_KEY = "trainyard_scores"


def class_column(cls: Any) -> str:
    return f'{PROBABILITIES} for Class "{cls}"'


def _finish(model: TrainedModel, df: pd.DataFrame, scores: dict[str, Any], append: bool) -> pd.DataFrame:
    if append:
        out = df.assign(**scores)
    else:
        out = pd.DataFrame(scores, index=df.index)
        if model.label_column in df.columns:
            out.insert(0, model.label_column, df[model.label_column])
    out.attrs[SCORES_KEY] = {
        "task": model.task,
        "learner": model.learner,
        "label": model.label_column,
        "features": model.feature_columns,
        "classes": None if model.classes is None else [plain_value(c) for c in model.classes],
    }
    return with_marks(out, label=model.label_column) if model.label_column else out


def score(model: TrainedModel, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
    """``df`` with the model's scores added (or only the scores and the label, ``append=False``)."""
    if model.task == "clustering":
        return assign_clusters(model, df, append)
    if model.task == "recommendation":
        raise ComponentInputError("trained_model is a recommender: score it with score-recommender")
    scores: dict[str, Any] = {}
    if model.task in ("binary", "multiclass"):
        proba = model.predict_proba(df)
        classes = np.asarray(model.classes)
        scores[LABELS] = classes[proba.argmax(axis=1)]
        if model.task == "binary":
            scores[PROBABILITIES] = proba[:, 1]
        else:
            scores.update({class_column(c): proba[:, i] for i, c in enumerate(classes)})
    elif model.task == "topics":
        from trainyard.components.text import topic_columns

        mixture = model.estimator.transform(model.features(df))
        scores[LABELS] = mixture.argmax(axis=1) + 1
        scores.update(dict(zip(topic_columns(mixture.shape[1]), mixture.T, strict=True)))
    elif model.task == "anomaly_detection":
        probability = model.anomaly_scores(df)
        scores[LABELS] = (probability > 0.5).astype(np.int64)
        scores[PROBABILITIES] = probability
    else:
        scores[LABELS] = model.predict(df)
    return _finish(model, df, scores, append)


def assign_clusters(model: TrainedModel, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
    """``df`` with each row's nearest centroid and its distance to every centroid."""
    if model.task != "clustering":
        raise ComponentInputError(
            f"trained_model is a {model.task} model; assign-data-to-clusters takes a clustering model"
        )
    distances = model.cluster_distances(df)
    scores: dict[str, Any] = {ASSIGNMENTS: distances.argmin(axis=1)}
    scores.update({f"DistancesToClusterCenter no.{i}": distances[:, i] for i in range(distances.shape[1])})
    return _finish(model, df, scores, append)


MODEL = Port("trained_model", "model", "a model from a Train component")
DATASET = Port("dataset", "table", "the rows to score (the model's feature columns must be there)")
APPEND = Param(
    "append_score_columns_to_output", "bool", True, "keep the input columns (otherwise only scores and label)"
)


@component(
    name="score-model",
    display_name="Score Model",
    category="Score",
    description="Adds Scored Labels, and Scored Probabilities for classifiers and anomaly detectors.",
    inputs=[MODEL, DATASET],
    outputs=[Port("scored_dataset", "table", "the table with its score columns")],
    params=[APPEND],
)
def score_model(
    ctx: Context, trained_model: TrainedModel, dataset: pd.DataFrame, append_score_columns_to_output: bool
) -> dict[str, Any]:
    scored = score(trained_model, dataset, append_score_columns_to_output)
    ctx.log("rows_scored", len(scored))
    return {"scored_dataset": scored}


@component(
    name="assign-data-to-clusters",
    display_name="Assign Data to Clusters",
    category="Score",
    description="Adds each row's cluster (Assignments) and its distance to every cluster centre.",
    inputs=[MODEL, DATASET],
    outputs=[Port("results_dataset", "table", "the table with Assignments and distances")],
    params=[APPEND],
)
def assign_data_to_clusters(
    ctx: Context, trained_model: TrainedModel, dataset: pd.DataFrame, append_score_columns_to_output: bool
) -> dict[str, Any]:
    assigned = assign_clusters(trained_model, dataset, append_score_columns_to_output)
    ctx.log("rows_scored", len(assigned))
    return {"results_dataset": assigned}
