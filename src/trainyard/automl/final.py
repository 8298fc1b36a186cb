"""The returned model: labels decoded back to the user's classes, saved as a model directory
under the parent run's outputs and registered; and its explanation (feature importance).
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from trainyard.automl.metrics import SCORERS, loss
from trainyard.jobs.run_outputs import hash_tags

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


def save_and_register(
    run: Any,
    pipeline: Any,
    example: pd.DataFrame,
    model_name: str,
    path: str,
    tags: dict[str, str] | None = None,
) -> Any:
    """Write the model directory, upload it as the run's output ``path`` (its content hash tagged
    first, as every run output's is, for the pipeline steps that read it) and register it with
    ``tags``."""
    from trainyard.models import save
    from trainyard.registry import Model

    with tempfile.TemporaryDirectory() as tmp:
        folder = save(pipeline, Path(tmp) / "model", input_example=example, serialization="pickle")
        run.set_tags(hash_tags({path.removeprefix("outputs/"): folder}))
        run.upload_folder(path, folder)
    return Model.register_from_run(
        run.workspace, run.id, model_name, path, tags={**(tags or {}), "automl.run_id": run.id}
    )


EXPLAIN_MIN_ROWS = 200
EXPLAIN_REPEATS = 3
EXPLAIN_BATCH = 10_000  # rows scored per call when permuting (the deadline is checked between calls)


def importance(
    pipeline: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    task: str,
    metric: str,
    n_classes: int,
    seed: int,
    seconds: float = math.inf,
) -> tuple[dict[str, list[Any]], str]:
    """Permutation importance of each raw column for the primary metric, within ``seconds``:
    fewer rows, then fewer repeats, then fewer columns when the whole would not fit. Returns the
    table (best first) and what was cut ("" when nothing was).

    The permuted copies of the sample are stacked and scored in a few large batches, not one
    column at a time: a pipeline's cost per call dominates on a few hundred rows."""
    from trainyard.automl.evaluate import predict

    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    end = began + seconds
    columns = list(X.columns)
    rows = min(len(X), EXPLAIN_ROWS)
    keep = rng.choice(len(X), rows, replace=False)
    probe = X.iloc[np.resize(keep, min(rows * len(columns), 2 * rows, EXPLAIN_BATCH))]  # cost per row
    start = time.perf_counter()
    predict(pipeline, probe, task, n_classes)
    per_row = (time.perf_counter() - start) / len(probe)
    repeats, cuts = EXPLAIN_REPEATS, []

    def cost() -> float:
        return (repeats * len(columns) + 1) * rows * per_row

    while cost() > end - time.perf_counter() and (rows > EXPLAIN_MIN_ROWS or repeats > 1):
        if rows > EXPLAIN_MIN_ROWS:
            rows = max(EXPLAIN_MIN_ROWS, rows // 2)
        else:
            repeats -= 1
    if rows < min(len(X), EXPLAIN_ROWS):
        cuts.append(f"{rows} of {len(X)} validation rows")
    if repeats < EXPLAIN_REPEATS:
        cuts.append(f"{repeats} repeat(s) instead of {EXPLAIN_REPEATS}")
    sample, truth = X.iloc[keep[:rows]].reset_index(drop=True), y[keep[:rows]]

    def score(pred: np.ndarray) -> float:
        return -loss(metric, SCORERS[metric](truth, pred))

    base = score(predict(pipeline, sample, task, n_classes))
    drops: dict[str, list[float]] = {c: [] for c in columns}
    per_batch = max(1, EXPLAIN_BATCH // rows)  # columns permuted in one stacked batch
    for _ in range(repeats):
        for first in range(0, len(columns), per_batch):
            if time.perf_counter() > end:
                break
            block = columns[first : first + per_batch]
            pred = predict(pipeline, _stacked(sample, block, rng), task, n_classes)
            for i, col in enumerate(block):
                drops[col].append(base - score(pred[i * rows : (i + 1) * rows]))
    measured = [c for c in columns if drops[c]]
    if len(measured) < len(columns):
        cuts.append(f"{len(measured)} of {len(columns)} columns (the rest not measured)")
    elif any(len(drops[c]) < repeats for c in columns):
        cuts.append("fewer repeats for some columns")
    order = sorted(measured, key=lambda c: -float(np.mean(drops[c])))
    table: dict[str, list[Any]] = {
        "feature": [str(c) for c in order],
        "importance": [float(np.mean(drops[c])) for c in order],
        "std": [float(np.std(drops[c])) for c in order],
    }
    # SHAP values take about as long as the permutations again (more for deep forests)
    if not cuts and time.perf_counter() + 2 * (time.perf_counter() - began) > end:
        cuts.append("SHAP values left out")
    shap_values = _shap(pipeline, sample) if not cuts else None
    if shap_values is not None:
        table["mean_abs_shap"] = [shap_values.get(f) for f in table["feature"]]
    return table, ", ".join(cuts)


def _stacked(sample: pd.DataFrame, block: list[Any], rng: np.random.Generator) -> pd.DataFrame:
    """``len(block)`` copies of ``sample`` one under the other, copy i with column block[i] permuted
    (built column by column in numpy: assigning slices of a wide frame is slow)."""
    rows, copies = len(sample), len(block)
    data = {}
    for col in sample.columns:
        values = sample[col].to_numpy()
        stacked = np.tile(values, copies)
        if col in block:
            i = block.index(col)
            stacked[i * rows : (i + 1) * rows] = rng.permutation(values)
        data[col] = stacked
    return pd.DataFrame(data, columns=sample.columns).astype(sample.dtypes.to_dict())


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


def import_plotting() -> Any:
    """matplotlib's pyplot on the file-only backend (its import takes seconds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_importance(table: dict[str, list[Any]], top: int = 20) -> Any:
    plt = import_plotting()

    names, values = table["feature"][:top][::-1], table["importance"][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.5))
    ax.barh(names, values, xerr=table["std"][:top][::-1])
    ax.set_xlabel("permutation importance (drop in the primary metric)")
    fig.tight_layout()
    return fig
