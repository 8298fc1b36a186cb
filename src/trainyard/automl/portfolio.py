"""The learner portfolio: each learner's estimator, search space and cheapest starting point.

Spaces follow FLAML's insight: the dimensions that drive cost (trees, leaves) start at their
cheapest value, so a learner's first trial is fast and the search only spends more where it pays.
Values are searched in a unit cube (log-scaled where the range spans orders of magnitude).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Dim:
    low: float
    high: float
    init: float
    log: bool = False
    integer: bool = False

    def to_unit(self, value: float) -> float:
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float | int:
        u = min(max(u, 0.0), 1.0)
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return round(value) if self.integer else value


@dataclass(frozen=True)
class Learner:
    name: str
    space: dict[str, Dim]
    build: Callable[[dict[str, Any], str, int], Any]  # (params, task, seed) -> estimator
    scaled: bool = False  # wants standardized features
    default: dict[str, float] | None = None  # the library's defaults: tried right after the cheapest point

    def params(self, unit: np.ndarray) -> dict[str, Any]:
        return {name: dim.from_unit(u) for (name, dim), u in zip(self.space.items(), unit, strict=True)}

    def init_unit(self) -> np.ndarray:
        return np.array([dim.to_unit(dim.init) for dim in self.space.values()])

    def default_unit(self) -> np.ndarray | None:
        """The cheapest point with the library's defaults for the dimensions they name."""
        if not self.default:
            return None
        given = self.default
        return np.array([dim.to_unit(given.get(name, dim.init)) for name, dim in self.space.items()])


def _lgbm(p: dict[str, Any], task: str, seed: int) -> Any:
    import lightgbm

    cls = lightgbm.LGBMClassifier if task == "classification" else lightgbm.LGBMRegressor
    bins = int(2 ** p.pop("log_max_bin")) - 1
    return cls(**p, max_bin=bins, n_jobs=1, random_state=seed, verbose=-1)


def _xgb(p: dict[str, Any], task: str, seed: int) -> Any:
    import xgboost

    cls = xgboost.XGBClassifier if task == "classification" else xgboost.XGBRegressor
    return cls(**p, max_depth=0, grow_policy="lossguide", tree_method="hist", n_jobs=1, random_state=seed)


def _forest(extra: bool) -> Callable[[dict[str, Any], str, int], Any]:
    def build(p: dict[str, Any], task: str, seed: int) -> Any:
        from sklearn import ensemble

        kind = ("ExtraTrees" if extra else "RandomForest") + (
            "Classifier" if task == "classification" else "Regressor"
        )
        return getattr(ensemble, kind)(**p, n_jobs=1, random_state=seed)

    return build


def _linear(p: dict[str, Any], task: str, seed: int) -> Any:
    from sklearn.linear_model import ElasticNet, LogisticRegression

    if task == "classification":
        return LogisticRegression(C=p["C"], max_iter=300)
    return ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=2000, random_state=seed)


def _svm(p: dict[str, Any], task: str, seed: int) -> Any:
    from sklearn.svm import LinearSVC, LinearSVR

    if task == "classification":
        return LinearSVC(C=p["C"], dual="auto", max_iter=2000, random_state=seed)
    # the primal (squared loss) solver: the dual one crawls on hundreds of one-hot columns
    return LinearSVR(
        C=p["C"], loss="squared_epsilon_insensitive", dual=False, max_iter=2000, random_state=seed
    )


def _knn(p: dict[str, Any], task: str, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
    return cls(n_neighbors=p["n_neighbors"], weights="distance" if p["distance_weights"] > 0.5 else "uniform")


_REG = Dim(1 / 1024, 1024, 1 / 1024, log=True)
_TREES = Dim(4, 32768, 4, log=True, integer=True)
_LEAVES = Dim(4, 32768, 4, log=True, integer=True)
_RATE = Dim(1 / 1024, 1.0, 0.1, log=True)
_FRACTION = Dim(0.1, 1.0, 1.0)
_BOOSTING = {  # what LightGBM and XGBoost share
    "learning_rate": _RATE,
    "colsample_bytree": Dim(0.01, 1.0, 1.0),
    "reg_alpha": _REG,
    "reg_lambda": Dim(1 / 1024, 1024, 1.0, log=True),
}


def _learners(task: str) -> list[Learner]:
    xgb_name = "XGBoostClassifier" if task == "classification" else "XGBoostRegressor"
    linear = (
        Learner("LogisticRegression", {"C": Dim(1 / 32, 32768, 1.0, log=True)}, _linear, scaled=True)
        if task == "classification"
        else Learner(
            "ElasticNet",
            {"alpha": Dim(1e-4, 10, 1e-2, log=True), "l1_ratio": Dim(0.0, 1.0, 0.5)},
            _linear,
            scaled=True,
        )
    )
    forest = {
        "n_estimators": Dim(4, 2048, 4, log=True, integer=True),
        "max_features": Dim(0.1, 1.0, 1.0),
        "max_leaf_nodes": _LEAVES,
    }
    return [
        linear,  # the cheapest trial, and often the one to beat on wide one-hot tables
        Learner(
            "LightGBM",
            {
                "n_estimators": _TREES,
                "num_leaves": _LEAVES,
                "min_child_samples": Dim(2, 129, 20, log=True, integer=True),
                "log_max_bin": Dim(3, 10, 8, integer=True),
                **_BOOSTING,
            },
            _lgbm,
            # a learner's first seconds should reach what the library gives untuned
            default={"n_estimators": 100, "num_leaves": 31},
        ),
        Learner("RandomForest", forest, _forest(False)),
        Learner(
            xgb_name,
            {
                "n_estimators": _TREES,
                "max_leaves": _LEAVES,
                "min_child_weight": Dim(1 / 1024, 128, 1.0, log=True),
                "subsample": _FRACTION,
                "colsample_bylevel": Dim(0.01, 1.0, 1.0),
                **_BOOSTING,
            },
            _xgb,
        ),
        Learner("ExtremeRandomTrees", forest, _forest(True)),
        Learner("LinearSVM", {"C": Dim(1 / 32, 1024, 1.0, log=True)}, _svm, scaled=True),
        Learner(
            "KNN",
            {"n_neighbors": Dim(1, 100, 5, log=True, integer=True), "distance_weights": Dim(0, 1, 0.0)},
            _knn,
            scaled=True,
        ),
    ]


def portfolio(task: str) -> dict[str, Learner]:
    """Learners for ``task`` (forecasting uses the regressors), cheapest-to-try first."""
    return {learner.name: learner for learner in _learners("regression" if task == "forecasting" else task)}


def choose(task: str, allowed: list[str] | None, blocked: list[str] | None) -> list[str]:
    from trainyard.errors import InvalidInputError

    names = list(portfolio(task))
    for given in (allowed or []) + (blocked or []):
        if given not in names:
            raise InvalidInputError(f"model {given!r} is not a {task} learner; use one of {', '.join(names)}")
    chosen = [n for n in names if (not allowed or n in allowed) and n not in (blocked or [])]
    if not chosen:
        raise InvalidInputError("allowed_models and blocked_models leave no learner to try")
    return chosen
