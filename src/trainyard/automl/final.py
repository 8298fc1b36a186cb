"""The returned model: labels decoded back to the user's classes, saved as a model directory
under the parent run's outputs and registered; and its explanation (feature importance).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from trainyard.automl.metrics import SCORERS, loss

MODEL_PATH = "outputs/model"
EXPLAIN_ROWS = 2000


class DecodedClassifier(ClassifierMixin, BaseEstimator):
    """A classifier fitted on encoded labels that answers in the user's own classes."""

    def __init__(self, model: Any, classes: list[Any]) -> None:
        self.model, self.classes = model, classes
        self.classes_ = np.asarray(classes)

    def fit(self, X: Any, y: Any) -> DecodedClassifier:
        """Refit the inner model on new rows labelled with the user's classes."""
        self.model.fit(X, np.searchsorted(self.classes_, np.asarray(y)))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        from trainyard.automl.evaluate import predict

        return predict(self.model, X, "classification", len(self.classes))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]


def decoded(model: Any, classes: list[Any] | None) -> Pipeline:
    """The pipeline users get back: it scores raw rows and predicts their labels."""
    if classes is None:
        return model if isinstance(model, Pipeline) else Pipeline([("model", model)])
    if isinstance(model, Pipeline):
        return Pipeline([*model.steps[:-1], ("model", DecodedClassifier(model.steps[-1][1], classes))])
    return Pipeline([("model", DecodedClassifier(model, classes))])


def save_and_register(run: Any, pipeline: Any, example: pd.DataFrame, model_name: str) -> Any:
    """Write the model directory, upload it as ``outputs/model`` and register it."""
    from trainyard.models import save
    from trainyard.registry import Model

    with tempfile.TemporaryDirectory() as tmp:
        folder = save(pipeline, Path(tmp) / "model", input_example=example, serialization="pickle")
        run.upload_folder(MODEL_PATH, folder)
    return Model.register_from_run(
        run.workspace, run.id, model_name, MODEL_PATH, tags={"automl.run_id": run.id}
    )


def importance(
    pipeline: Any, X: pd.DataFrame, y: np.ndarray, task: str, metric: str, n_classes: int, seed: int
) -> dict[str, list[Any]]:
    """Permutation importance of each raw column for the primary metric."""
    from trainyard.automl.evaluate import predict

    if len(X) > EXPLAIN_ROWS:
        keep = np.random.default_rng(seed).choice(len(X), EXPLAIN_ROWS, replace=False)
        X, y = X.iloc[keep], y[keep]

    def scorer(model: Any, rows: pd.DataFrame, truth: np.ndarray) -> float:
        return -loss(metric, SCORERS[metric](truth, predict(model, rows, task, n_classes)))

    result = permutation_importance(pipeline, X, y, scoring=scorer, n_repeats=3, random_state=seed)
    order = np.argsort(-result.importances_mean)
    table: dict[str, list[Any]] = {
        "feature": [str(X.columns[i]) for i in order],
        "importance": [float(result.importances_mean[i]) for i in order],
        "std": [float(result.importances_std[i]) for i in order],
    }
    shap_values = _shap(pipeline, X)
    if shap_values is not None:
        table["mean_abs_shap"] = [shap_values.get(f) for f in table["feature"]]
    return table


def _shap(pipeline: Any, X: pd.DataFrame) -> dict[str, float] | None:
    """Mean |SHAP| per transformed feature summed back onto raw columns; tree models, if shap is installed."""
    if importlib.util.find_spec("shap") is None or not isinstance(pipeline, Pipeline):
        return None
    import shap

    model = pipeline.steps[-1][1]
    if not type(model).__module__.startswith(("lightgbm", "xgboost", "sklearn.ensemble")):
        return None
    features = pipeline[:-1].transform(X)
    values = np.abs(np.asarray(shap.TreeExplainer(model).shap_values(features)))
    per_feature = values.reshape(-1, values.shape[-1]).mean(0) if values.ndim > 1 else values
    names = pipeline[:-1].get_feature_names_out()
    out: dict[str, float] = {}
    for name, value in zip(names, per_feature, strict=False):
        raw = next((c for c in X.columns if str(c) in name), name)
        out[str(raw)] = out.get(str(raw), 0.0) + float(value)
    return out


def plot_importance(table: dict[str, list[Any]], top: int = 20) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, values = table["feature"][:top][::-1], table["importance"][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.5))
    ax.barh(names, values, xerr=table["std"][:top][::-1])
    ax.set_xlabel("permutation importance (drop in the primary metric)")
    fig.tight_layout()
    return fig
