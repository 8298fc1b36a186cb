"""Vowpal Wabbit learners (two-class and regression), trained and scored like every other learner.

``VowpalWabbitModel`` wraps the ``vowpalwabbit`` package's scikit-learn estimators and keeps the
trained weights as bytes (VW's own model file), so the model saves with skops and reloads
without unpickling; the native learner is rebuilt from those bytes on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from trainyard.components.base import Param
from trainyard.components.learners import Learner, register


class VowpalWabbitModel(BaseEstimator):
    """Online learning with VW: logistic loss for two classes, squared loss for regression."""

    def __init__(
        self,
        task: str = "binary",
        learning_rate: float = 0.5,
        passes: int = 1,
        l1: float = 0.0,
        l2: float = 0.0,
        bit_precision: int = 18,
        random_state: int = 0,
    ):
        self.task = task
        self.learning_rate = learning_rate
        self.passes = passes
        self.l1 = l1
        self.l2 = l2
        self.bit_precision = bit_precision
        self.random_state = random_state

    def _native_class(self) -> Any:
        from vowpalwabbit import sklearn as vw

        return vw.VWClassifier if self.task == "binary" else vw.VWRegressor

    def _native_params(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "passes": self.passes,
            "l1": self.l1,
            "l2": self.l2,
            "bit_precision": self.bit_precision,
            "random_seed": self.random_state,
            "quiet": True,
        }

    def fit(self, X: Any, y: Any) -> VowpalWabbitModel:
        y = np.asarray(y)
        if self.task == "binary":
            self.classes_ = np.unique(y)
            y = np.where(y == self.classes_[-1], 1, -1)
        native = self._native_class()(**self._native_params()).fit(np.asarray(X, dtype=float), y)
        self.model_bytes_ = np.frombuffer(native.__getstate__()["vw_"], dtype=np.uint8).copy()
        self._native = native
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_native", None)  # rebuilt from model_bytes_
        return state

    def native(self) -> Any:
        """The VW estimator, loaded from the saved weights the first time it is needed."""
        if getattr(self, "_native", None) is None:
            native = self._native_class()(**self._native_params())
            native.__setstate__({**native.get_params(), "vw_": self.model_bytes_.tobytes()})
            self._native = native
        return self._native

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.native().predict_proba(np.asarray(X, dtype=float))

    def predict(self, X: Any) -> np.ndarray:
        if self.task == "binary":
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        return self.native().predict(np.asarray(X, dtype=float))


def _build(task: str) -> Any:
    def build(p: dict[str, Any]) -> VowpalWabbitModel:
        return VowpalWabbitModel(
            task=task,
            learning_rate=p["learning_rate"],
            passes=p["number_of_passes"],
            l1=p["l1_regularization_weight"],
            l2=p["l2_regularization_weight"],
            bit_precision=p["number_of_hash_bits"],
            random_state=p["random_number_seed"],
        )

    return build


PARAMS = (
    Param("learning_rate", "float", 0.5, "step size of online gradient descent", min=0, min_exclusive=True),
    Param("number_of_passes", "int", 1, "passes over the data", min=1),
    Param("l1_regularization_weight", "float", 0.0, "L1 penalty", min=0),
    Param("l2_regularization_weight", "float", 0.0, "L2 penalty", min=0),
    Param("number_of_hash_bits", "int", 18, "size of the weight table, as a power of two", min=1, max=30),
    Param("random_number_seed", "int", 0, "seed of VW's random initialisation", min=0),
)
for name, title, task in (("two-class", "Two-Class", "binary"), ("regression", "Regression", "regression")):
    register(
        Learner(
            f"vowpal-wabbit-{name}",
            f"Vowpal Wabbit {title}",
            task,
            f"Vowpal Wabbit's fast online learner ({'logistic' if task == 'binary' else 'squared'} loss).",
            PARAMS,
            _build(task),
        )
    )
