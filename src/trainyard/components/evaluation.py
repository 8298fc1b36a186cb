"""Evaluate Model: metrics, tables and figures for one scored table, or two side by side.

The task comes from the scored table (``attrs`` written by Score Model, else its Studio column
names). Each curve is computed once and both its area and its figure come from it. Figures are
matplotlib ``Figure`` objects built without pyplot (no global state, no display needed); the
runner logs them as images on the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component, marks
from trainyard.components.report import Report
from trainyard.components.scoring import ASSIGNMENTS, LABELS, PROBABILITIES, SCORES_KEY, class_column

PLOT_POINTS = 5_000  # scatter plots and silhouettes use a sample this big


def scored_task(df: pd.DataFrame) -> str:
    """The task of a scored table: from Score Model's attrs, else from its score columns."""
    task = (df.attrs.get(SCORES_KEY) or {}).get("task")
    if task:
        return task
    if ASSIGNMENTS in df.columns:
        return "clustering"
    if LABELS not in df.columns:
        raise ComponentInputError(
            f"scored_dataset has no {LABELS!r} column; score it first (score-model, assign-data-to-clusters)"
        )
    if any(str(c).startswith(f"{PROBABILITIES} for Class") for c in df.columns):
        return "multiclass"
    return "binary" if PROBABILITIES in df.columns else "regression"


def _label(df: pd.DataFrame, given: str | None) -> pd.Series:
    name = given or (df.attrs.get(SCORES_KEY) or {}).get("label") or marks(df)["label"]
    if not name or name not in df.columns:
        shown = ", ".join(map(str, df.columns[:20]))
        raise ComponentInputError(
            f"label_column: name the true label column of scored_dataset; columns: {shown}"
        )
    return df[name]


def _positive(y: pd.Series, task: str, given: str | None, classes: list[Any] | None) -> Any:
    values = pd.unique(y.dropna())
    if given is not None:
        match = [v for v in values if str(v) == given]
        if not match:
            raise ComponentInputError(
                f"positive_class {given!r} is not a label value; values: {list(values)[:10]}"
            )
        return match[0]
    if task == "anomaly_detection":
        return 1  # Score Model's anomaly flag; True == 1 as well
    return classes[1] if classes and len(classes) == 2 else sorted(values)[-1]


def _negative(y: pd.Series, positive: Any, classes: list[Any] | None) -> str:
    """The name of the negative class, for the confusion matrix: the model's other class, else the
    label values seen besides the positive one (``not <positive>`` if every row is positive)."""
    if classes and len(classes) == 2 and positive in classes:
        return str(next(c for c in classes if c != positive))
    others = sorted({str(v) for v in pd.unique(y.dropna()) if v != positive})
    return ", ".join(others) if others else f"not {positive}"


def _ratio(part: float, whole: float) -> float:
    """``part / whole``, 0 when there is nothing to divide (scikit-learn's ``zero_division=0``)."""
    return float(part / whole) if whole else 0.0


def _binary(
    y_true: np.ndarray, proba: np.ndarray, threshold: float
) -> tuple[dict[str, float], dict[str, Any]]:
    from sklearn import metrics

    y_pred = proba >= threshold
    fpr, tpr, _ = metrics.roc_curve(y_true, proba)
    precision, recall, _ = metrics.precision_recall_curve(y_true, proba)
    tp = int(np.count_nonzero(y_pred & y_true))
    fp = int(np.count_nonzero(y_pred & ~y_true))
    fn = int(np.count_nonzero(~y_pred & y_true))
    tn = len(y_true) - tp - fp - fn
    precision_at, recall_at = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    out = {
        "accuracy": _ratio(tp + tn, len(y_true)),
        "precision": precision_at,
        "recall": recall_at,
        "f1_score": _ratio(2 * precision_at * recall_at, precision_at + recall_at),
        "auc": metrics.auc(fpr, tpr) if len(np.unique(y_true)) == 2 else float("nan"),
        "log_loss": metrics.log_loss(y_true, np.clip(proba, 1e-15, 1 - 1e-15), labels=[False, True]),
        "true_positives": tp,
        "false_positives": fp,
        "true_negatives": tn,
        "false_negatives": fn,
    }
    curves = {
        "roc": (fpr, tpr),
        "precision_recall": (recall, precision),
        "confusion": np.array([[tn, fp], [fn, tp]]),
    }
    return out, curves


def _multiclass(
    df: pd.DataFrame, y: pd.Series, classes: list[Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    from sklearn import metrics

    unknown = set(pd.unique(y.dropna())) - set(classes)
    if unknown:
        raise ComponentInputError(
            f"label_column {y.name!r} has values the model never saw ({sorted(map(str, unknown))[:5]}); "
            f"its classes: {classes}"
        )
    proba = df[[class_column(c) for c in classes]].to_numpy()
    y_pred = df[LABELS]
    out = {
        "accuracy": metrics.accuracy_score(y, y_pred),
        "macro_precision": metrics.precision_score(y, y_pred, average="macro", zero_division=0),
        "macro_recall": metrics.recall_score(y, y_pred, average="macro", zero_division=0),
        "macro_f1_score": metrics.f1_score(y, y_pred, average="macro", zero_division=0),
        "micro_f1_score": metrics.f1_score(y, y_pred, average="micro", zero_division=0),
        "log_loss": metrics.log_loss(y, np.clip(proba, 1e-15, 1), labels=classes),
    }
    if set(pd.unique(y)) == set(classes):
        out["auc"] = metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    return out, {"confusion": metrics.confusion_matrix(y, y_pred, labels=classes)}


def _regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    errors = y - pred
    deviation = y - y.mean()
    squared, total = float(np.square(errors).sum()), float(np.square(deviation).sum())
    r2 = 1.0 - squared / total if total else float("nan")
    return {
        "mean_absolute_error": float(np.abs(errors).mean()),
        "root_mean_squared_error": float(np.sqrt(np.square(errors).mean())),
        "relative_absolute_error": float(np.abs(errors).sum() / np.abs(deviation).sum())
        if total
        else float("nan"),
        "relative_squared_error": squared / total if total else float("nan"),
        "r2": r2,
        "coefficient_of_determination": r2,
    }


def clustering_metrics(df: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any]]:
    from sklearn import metrics

    scored = {ASSIGNMENTS, *[c for c in df.columns if str(c).startswith("DistancesToClusterCenter")]}
    features = (df.attrs.get(SCORES_KEY) or {}).get("features") or [c for c in df.columns if c not in scored]
    X = df[[c for c in features if pd.api.types.is_numeric_dtype(df[c])]].to_numpy(dtype=float)
    labels = df[ASSIGNMENTS].to_numpy()
    distances = df[sorted(scored - {ASSIGNMENTS}, key=lambda c: int(str(c).rsplit(".", 1)[1]))].to_numpy()
    own = distances[np.arange(len(df)), labels] if distances.size else np.full(len(df), np.nan)
    per_cluster = (
        pd.DataFrame({"cluster": labels, "distance": own})
        .groupby("cluster")["distance"]
        .agg(rows="size", average_distance_to_center="mean", maximal_distance_to_center="max")
        .reset_index()
    )
    out: dict[str, float] = {
        "clusters": float(len(per_cluster)),
        "average_distance_to_center": float(np.mean(own)),
    }
    if 1 < len(per_cluster) < len(df) and X.shape[1]:
        sample = min(len(df), PLOT_POINTS)
        out["silhouette"] = metrics.silhouette_score(X, labels, sample_size=sample, random_state=0)
        out["davies_bouldin"] = metrics.davies_bouldin_score(X, labels)
        out["calinski_harabasz"] = metrics.calinski_harabasz_score(X, labels)
    return out, {"per_cluster": per_cluster}


def evaluate_scored(
    df: pd.DataFrame,
    threshold: float = 0.5,
    label_column: str | None = None,
    positive_class: str | None = None,
) -> tuple[str, dict[str, float], dict[str, Any]]:
    """``(task, metrics, curves and tables)`` of one scored table."""
    task = scored_task(df)
    if task == "clustering":
        metrics, extra = clustering_metrics(df)
        return task, metrics, extra
    y = _label(df, label_column)
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            raise ComponentInputError(
                f"label_column {y.name!r} holds {y.dtype} values; a regression needs numbers"
            )
        return task, _regression(y.to_numpy(dtype=float), df[LABELS].to_numpy(dtype=float)), {}
    classes = (df.attrs.get(SCORES_KEY) or {}).get("classes")
    if task == "multiclass":
        classes = classes or [
            str(c).split('"')[1] for c in df.columns if str(c).startswith(f"{PROBABILITIES} for")
        ]
        metrics, extra = _multiclass(df, y, classes)
        return task, metrics, {**extra, "classes": classes}
    positive = _positive(y, task, positive_class, classes)
    proba = df[PROBABILITIES].to_numpy(dtype=float)  # of the model's second class
    if classes and len(classes) == 2 and positive == classes[0]:
        proba = 1.0 - proba  # positive_class named the model's first class
    metrics, extra = _binary((y == positive).to_numpy(), proba, threshold)
    return task, metrics, {**extra, "classes": [_negative(y, positive, classes), str(positive)]}


def build_report(results: list[tuple[str, dict[str, float], dict[str, Any]]], threshold: float) -> Report:
    """The report of one or two evaluations: the first model's metrics plain, the second's prefixed."""
    from trainyard.components.evaluation_plots import figures

    names = ["scored_dataset", "scored_dataset_to_compare"][: len(results)]
    report = Report(data={"task": results[0][0], "threshold": threshold})
    for i, (_, metrics, extra) in enumerate(results):
        prefix = "compare_" if i else ""
        report.metrics.update({f"{prefix}{k}": float(v) for k, v in metrics.items()})
        if "per_cluster" in extra:
            report.tables[f"{prefix}per_cluster"] = extra["per_cluster"]
        if "confusion" in extra:
            cells = extra["confusion"]
            report.tables[f"{prefix}confusion_matrix"] = (
                pd.DataFrame(
                    cells,
                    index=[str(c) for c in extra["classes"]],
                    columns=[str(c) for c in extra["classes"]],
                )
                .rename_axis("actual")
                .reset_index()
            )
    report.tables["metrics"] = (
        pd.DataFrame([m for _, m, _ in results], index=names).rename_axis("model").reset_index()
    )
    report.figures.update(figures(names, results))
    return report


@component(
    name="evaluate-model",
    display_name="Evaluate Model",
    category="Evaluate",
    description="Metrics of a scored table (classification, regression, clustering or anomaly detection), "
    "curves and confusion matrices as figures; a second scored table is compared side by side.",
    inputs=[
        Port("scored_dataset", "table", "the output of Score Model or Assign Data to Clusters"),
        Port("scored_dataset_to_compare", "table", "a second scored table, to compare with", optional=True),
    ],
    outputs=[Port("evaluation_results", "report", "metrics, tables and figures")],
    params=[
        Param("threshold", "float", 0.5, "probability above which a two-class row is positive", min=0, max=1),
        Param(
            "label_column",
            "column",
            None,
            "the true label (default: the scored model's label)",
            optional=True,
        ),
        Param(
            "positive_class", "string", None, "the positive label value (two-class, anomaly)", optional=True
        ),
    ],
)
def evaluate_model(
    ctx: Context,
    scored_dataset: pd.DataFrame,
    scored_dataset_to_compare: pd.DataFrame | None,
    threshold: float,
    label_column: str | None,
    positive_class: str | None,
) -> dict[str, Any]:
    tables = [t for t in (scored_dataset, scored_dataset_to_compare) if t is not None]
    results = [evaluate_scored(t, threshold, label_column, positive_class) for t in tables]
    if len({task for task, _, _ in results}) > 1:
        raise ComponentInputError(
            f"scored_dataset_to_compare is scored by a {results[1][0]} model and scored_dataset by a "
            f"{results[0][0]} one; compare models of the same task"
        )
    report = build_report(results, threshold)
    for name, value in report.metrics.items():
        ctx.log(name, value)
    for name, figure in report.figures.items():
        ctx.log_image(name, figure)
    return {"evaluation_results": report}


LOWER_IS_BETTER = frozenset(
    {
        "mean_absolute_error",
        "root_mean_squared_error",
        "relative_absolute_error",
        "relative_squared_error",
        "log_loss",
        "davies_bouldin",
    }
)


def best_index(values: list[float], metric: str) -> int:
    """The position of the best value of ``metric`` (NaN never wins)."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    keyed = [sign * v if v == v else -np.inf for v in values]
    return int(np.argmax(keyed))
