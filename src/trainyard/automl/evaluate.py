"""What a worker process does: hold the experiment's data, fit a pipeline per fold, score it.

The driver writes a ``Context`` once; each worker loads it at start, so a trial message is only
(learner, params, sample size). The featurized rows, the bulk of it (about 1 GB per million rows
at 250 features), go as memory-mapped ``.npy`` files (``share``) beside the pickle: every worker
maps the same pages instead of holding a copy. Out-of-fold predictions come back so the driver
can score ensembles without fitting anything again.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from trainyard.automl.featurize import ColumnPlan, RangeScaler, build_featurizer
from trainyard.automl.metrics import loss, score_all
from trainyard.automl.portfolio import portfolio


@dataclass
class FoldFeatures:
    """One fold's rows featurized by a featurizer fitted on its training rows."""

    train: Any  # dense float32 array or CSR matrix
    valid: Any
    seconds: float  # fitting and applying the featurizer
    featurizer: Any = None  # fitted on the fold's training rows: a fold model's first step


@dataclass
class Context:
    task: str  # classification | regression (forecasting trials see its lag features as regression)
    X: pd.DataFrame
    y: np.ndarray  # classes encoded 0..k-1
    plan: ColumnPlan
    folds: list[tuple[np.ndarray, np.ndarray]]
    n_classes: int
    seed: int = 0
    features: list[FoldFeatures] = field(default_factory=list)
    log_target: bool = False  # regression learners fit log(label): chosen by ``choose_target``
    all_rows: FoldFeatures | None = None  # every row featurized, for the refit (``valid`` unused)
    probed: dict[Any, Any] = field(default_factory=dict)  # ``choose_target``'s results, by ``probe_key``

    @property
    def valid_index(self) -> np.ndarray:
        return np.concatenate([v for _, v in self.folds])


_context: Any = None  # a Context, or a forecasting context

SHARE_BYTES = 1 << 20  # arrays this large travel to the workers as memory-mapped files


@dataclass
class Mapped:
    """An array in ``.npy`` files that the workers map instead of unpickling a copy: one file for
    a dense array, three (data, indices, indptr) for a CSR matrix of ``shape``."""

    paths: tuple[str, ...]
    shape: tuple[int, int] | None = None

    def open(self) -> Any:
        # copy-on-write: a learner that writes into its input changes its own pages only
        arrays = [np.load(p, mmap_mode="c") for p in self.paths]
        if self.shape is None:
            return arrays[0]
        return sparse.csr_matrix(tuple(arrays), shape=self.shape, copy=False)


def _mapped(matrix: Any, stem: Path) -> Any:
    """``matrix`` written as ``.npy`` files under ``stem`` and named by a ``Mapped``, when it is
    large enough to matter; else ``matrix`` itself (it travels in the pickle)."""
    if matrix is None:
        return None
    csr = sparse.issparse(matrix)
    parts: list[np.ndarray] = [matrix.data, matrix.indices, matrix.indptr] if csr else [matrix]
    if parts[0].nbytes < SHARE_BYTES:
        return matrix
    paths = []
    for i, part in enumerate(parts):
        np.save(f"{stem}-{i}.npy", part)
        paths.append(f"{stem}-{i}.npy")
    return Mapped(tuple(paths), matrix.shape if csr else None)


def _open(matrix: Any) -> Any:
    return matrix.open() if isinstance(matrix, Mapped) else matrix


def share(ctx: Context, folder: Path) -> Path:
    """Write the context the workers load into ``folder``: its large featurized arrays as
    ``.npy`` files, the rest pickled (without the raw rows: workers use the featurized ones). The
    driver's own ``ctx`` then maps the same files, which frees its copies. Returns the pickle's path."""

    def moved(f: FoldFeatures, name: str) -> FoldFeatures:
        return dataclasses.replace(
            f,
            train=_mapped(f.train, folder / f"{name}-train"),
            valid=_mapped(f.valid, folder / f"{name}-valid"),
        )

    features = [moved(f, f"fold{i}") for i, f in enumerate(ctx.features)]
    all_rows = moved(ctx.all_rows, "all") if ctx.all_rows is not None else None
    shared = dataclasses.replace(ctx, X=ctx.X.iloc[:0], features=features, all_rows=all_rows, probed={})
    path = folder / "context.pkl"
    path.write_bytes(pickle.dumps(shared))
    _open_features(shared)
    ctx.features, ctx.all_rows = shared.features, shared.all_rows
    return path


def _open_features(ctx: Context) -> None:
    for f in [*ctx.features, *([ctx.all_rows] if ctx.all_rows is not None else [])]:
        f.train, f.valid = _open(f.train), _open(f.valid)


def load_context(path: str) -> None:
    """Worker initializer: read the experiment's data once (mapping its large arrays)."""
    global _context
    threadpool_limits(1)  # one core per worker: max_concurrent_iterations workers use that many cores
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the trial's score already says it
    with open(path, "rb") as fh:
        _context = pickle.load(fh)
    if isinstance(_context, Context):
        _open_features(_context)


SMEARING_ROWS = 2000  # training rows the log scale's back-transform is estimated on


class BoundedRegressor(RegressorMixin, BaseEstimator):
    """A regressor fitted on log(label) when ``log`` (skewed positive labels: errors in proportion,
    not dominated by the priciest rows), whose predictions stay within the training labels' range:
    no learner extrapolates past every label it has seen.

    On the log scale a learner predicts the mean of log(label), whose exp is the label's geometric
    mean, below its mean by the spread of the errors: on ISLR's wages (skew 1.6) that alone cost
    ElasticNet 0.02 r2 against the label's own scale. The exp is multiplied by the mean of the
    exp'd residuals on (a sample of) the training rows (Duan's smearing estimate), which brings
    the same model to the label's own scale's 0.334 and leaves the price tables as they were."""

    def __init__(self, regressor: Any, log: bool = False) -> None:
        self.regressor, self.log = regressor, log

    def fit(self, X: Any, y: Any) -> BoundedRegressor:
        y = np.asarray(y, dtype=float)
        self.low_, self.high_ = float(y.min()), float(y.max())
        self.regressor.fit(X, np.log(y) if self.log else y)
        self.smearing_ = 0.0
        if self.log:
            rows = np.linspace(0, len(y) - 1, min(len(y), SMEARING_ROWS)).astype(int)
            sample = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
            residuals = np.log(y[rows]) - np.asarray(self.regressor.predict(sample), dtype=float)
            self.smearing_ = float(np.log(np.mean(np.exp(residuals))))
        return self

    def predict(self, X: Any) -> np.ndarray:
        raw = np.asarray(self.regressor.predict(X), dtype=float)
        if self.log:  # a model saved before the smearing estimate had none (0 on the log scale)
            raw = raw + getattr(self, "smearing_", 0.0)
            return np.exp(np.clip(raw, np.log(self.low_), np.log(self.high_)))
        return np.clip(raw, self.low_, self.high_)


def model_steps(
    task: str, seed: int, learner: str, params: dict[str, Any], target: str = ""
) -> list[tuple[str, Any]]:
    """What follows the featurization: scaling where the learner needs it, then the learner;
    ``target`` ("log" or "identity") wraps a regressor in ``BoundedRegressor``."""
    spec = portfolio(task)[learner]
    steps: list[tuple[str, Any]] = []
    if spec.scaled:
        steps.append(("scale", RangeScaler()))
    model = spec.build(dict(params), task, seed)
    steps.append(("model", BoundedRegressor(model, target == "log") if target else model))
    return steps


def target_kind(ctx: Context) -> str:
    """How regression learners see the label (see ``BoundedRegressor``); "" for other tasks."""
    if ctx.task != "regression":
        return ""
    return "log" if ctx.log_target else "identity"


def make_pipeline(
    task: str, plan: ColumnPlan, frame: pd.DataFrame, seed: int, learner: str, params: dict[str, Any]
) -> Pipeline:
    """Featurization (+ scaling where the learner needs it) + the learner, unfitted."""
    featurize = ("featurize", build_featurizer(plan, frame, task))
    return Pipeline([featurize, *model_steps(task, seed, learner, params)])


def _compact(matrix: Any) -> Any:
    """Features as float32 (half the memory in the context and the workers), CSR when sparse."""
    if hasattr(matrix, "tocsr"):
        return matrix.tocsr().astype(np.float32)
    return np.ascontiguousarray(matrix, dtype=np.float32)


def featurize(ctx: Context, rows: np.ndarray | None = None) -> tuple[Any, Any]:
    """A featurizer fitted on ``rows`` (all rows when None) and those rows featurized."""
    X = ctx.X if rows is None else ctx.X.iloc[rows]
    y = ctx.y if rows is None else ctx.y[rows]
    featurizer = build_featurizer(ctx.plan, ctx.X, ctx.task)
    return featurizer, _compact(featurizer.fit_transform(X, y))


def featurize_folds(ctx: Context) -> None:
    """Fit the featurization once per fold, so trials only fit their learner, and once on every
    row for the refit (done here once, not in each worker that refits)."""
    ctx.features = []
    for train, valid in ctx.folds:
        start = time.perf_counter()
        featurizer, train_features = featurize(ctx, train)
        valid_features = _compact(featurizer.transform(ctx.X.iloc[valid]))
        seconds = time.perf_counter() - start
        ctx.features.append(FoldFeatures(train_features, valid_features, seconds, featurizer))
    start = time.perf_counter()
    featurizer, features = featurize(ctx)
    ctx.all_rows = FoldFeatures(features, None, time.perf_counter() - start, featurizer)


def predict(model: Any, X: pd.DataFrame, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities (n, k) for classification, values for regression."""
    if task != "classification":
        return np.asarray(model.predict(X), dtype=float)
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba(X)
    else:  # margins (linear SVM) squashed into scores that rank like probabilities
        margin = model.decision_function(X)
        raw = np.column_stack([1 - expit(margin), expit(margin)]) if margin.ndim == 1 else softmax(margin, 1)
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = raw
    return proba


def _subsample(train: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(train):
        return train
    return np.sort(np.random.default_rng(seed).permutation(train)[:size])


def evaluate(
    learner: str, params: dict[str, Any], sample_size: int, metric: str = "", best_loss: float = np.inf
) -> dict[str, Any]:
    """Fit and score one configuration on every fold; returns metrics and out-of-fold predictions,
    and, when its ``metric`` beats ``best_loss`` (a new best), its first fold's fitted model: the
    model the driver falls back on when refitting on every row would overrun the budget."""
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.evaluate(learner, params)
    result = evaluate_in(ctx, learner, params, sample_size)
    first = result.pop("fold_model")
    if metric in result["metrics"] and loss(metric, result["metrics"][metric]) < best_loss:
        result["fold_model"] = first
    return result


def evaluate_in(
    ctx: Context, learner: str, params: dict[str, Any], sample_size: int, folds: int | None = None
) -> dict[str, Any]:
    """``evaluate`` on a given context (the driver's own, before any worker exists), on its
    first ``folds`` folds when given (the predictions are then those folds' validation rows)."""
    start = time.perf_counter()
    parts, models = [], []
    used = list(zip(ctx.folds, ctx.features, strict=True))[:folds]
    for (train, _), fold in used:
        rows = _subsample(np.arange(len(train)), sample_size, ctx.seed)
        model = Pipeline(model_steps(ctx.task, ctx.seed, learner, params, target_kind(ctx)))
        model.fit(fold.train[rows], ctx.y[train[rows]])
        parts.append(predict(model, fold.valid, ctx.task, ctx.n_classes))
        models.append(model)
    oof = np.concatenate(parts)
    truth = ctx.y[np.concatenate([valid for (_, valid), _ in used])]
    if not np.all(np.isfinite(oof)):
        raise ValueError("the model predicted NaN or infinite values")
    return {
        "metrics": score_all(ctx.task, truth, oof),
        "seconds": time.perf_counter() - start,
        "predictions": oof.astype(np.float32),
        "fold_model": models[0],
    }


def fold_pipeline(ctx: Context, model: Pipeline) -> Pipeline:
    """A model fitted on the first fold's featurized rows, with that fold's featurizer in front:
    it scores raw rows like a refitted one (trained on fewer rows)."""
    return Pipeline([("featurize", ctx.features[0].featurizer), *model.steps])


def fit_final(learner: str, params: dict[str, Any]) -> Pipeline:
    """The configuration fitted on every row (training and validation), behind the featurizer
    fitted on every row (shared by the members of an ensemble)."""
    ctx = _context
    assert ctx is not None, "load_context was not called in this worker"
    if ctx.task == "forecasting":
        return ctx.fit(learner, params)
    rows = ctx.all_rows
    assert rows is not None, "featurize_folds was not called on this context"
    model = Pipeline(model_steps(ctx.task, ctx.seed, learner, params, target_kind(ctx))).fit(
        rows.train, ctx.y
    )
    return Pipeline([("featurize", rows.featurizer), *model.steps])


def probe_key(ctx: Context, learner: str, params: dict[str, Any], sample_size: int, folds: int) -> Any:
    """What identifies a result of ``evaluate_in``: the same key, the same result (parameters to
    10 significant digits: a point of the search space comes back through a log scale)."""
    values = tuple(sorted((k, f"{v:.10g}" if isinstance(v, float) else str(v)) for k, v in params.items()))
    rows = min(sample_size, ctx.folds[0][0].size)
    return (learner, values, rows, min(folds, len(ctx.folds)), ctx.log_target)


SKEWED = 0.75  # labels more skewed than this (and all positive) are tried on a log scale
# the learner the log scale is tried with: linear learners gain or lose the most from it (trees
# split on ranks of the features, and are nearly indifferent), and it is the cheapest to fit
PROBES: dict[str, dict[str, Any]] = {"ElasticNet": {"alpha": 1e-2, "l1_ratio": 0.5}}


def choose_target(ctx: Context, metric: str, sample_size: int, time_to_try: bool = True) -> str:
    """For a skewed, positive regression label, try the log scale with cheap probe learners on
    the first cached fold (the same rows for both scales: what matters is which is better, and
    the other folds would double or quadruple the time) and keep it if it validates better;
    returns what was found, for the log. Without ``time_to_try`` the log scale is taken untried:
    on its own scale a price-like label (values of 100,000) makes the linear learners'
    regularization negligible, so that probe (and the first trial, if it were kept) fits ten to
    twenty times slower than on the log scale (a 200-column table: 2.5 s against 0.2 s) and worse
    (r2 0.71 against 0.82 on its holdout): a run short of time would spend it there."""
    y = ctx.y
    if ctx.task != "regression" or y.min() <= 0 or stats.skew(y) < SKEWED:
        return ""
    if not time_to_try:
        ctx.log_target = True
        return (
            f"label skewed ({stats.skew(y):.2f}): log scale taken, not tried (too little of the budget left)"
        )
    total = {False: 0.0, True: 0.0}
    for log in total:
        ctx.log_target = log
        for learner, params in PROBES.items():
            result = evaluate_in(ctx, learner, params, sample_size, folds=1)
            total[log] += loss(metric, result["metrics"][metric])
            # with a single fold (a holdout) this is a whole trial: the search's first one may be it
            ctx.probed[probe_key(ctx, learner, params, sample_size, 1)] = result
    ctx.log_target = total[True] < total[False]
    kept = "kept" if ctx.log_target else "not kept"
    return (
        f"label skewed ({stats.skew(y):.2f}): log scale tried, {kept} "
        f"({metric} loss {total[True]:.4f} with it, {total[False]:.4f} without)"
    )
