"""PCA-based anomaly detection: rows far from the principal subspace of normal data are anomalies.

Studio's PCA-Based Anomaly Detection fits a low-rank projection of the training data and scores
each row by how badly that projection reconstructs it. This is that detector as a scikit-learn
outlier estimator (``predict`` gives -1 for an anomaly, ``decision_function`` < 0 below the
threshold), so it trains, scores and saves like every other learner.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted, validate_data


class PcaAnomalyDetector(OutlierMixin, BaseEstimator):
    """Reconstruction error after projecting onto ``n_components`` principal components.

    The threshold is the ``1 - contamination`` quantile of the training errors, so about
    ``contamination`` of the training rows are called anomalies.
    """

    def __init__(
        self,
        n_components: int = 2,
        oversampling: int = 2,
        normalize: bool = True,
        contamination: float = 0.05,
        random_state: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.oversampling = oversampling
        self.normalize = normalize
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> PcaAnomalyDetector:
        X = validate_data(self, X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0) if self.normalize else np.ones(X.shape[1])
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = (X - self.mean_) / self.scale_
        # fewer components than features, or every row would be rebuilt exactly
        rank = min(self.n_components, Z.shape[1] - 1, Z.shape[0])
        self.components_ = np.empty((0, Z.shape[1]))
        if rank > 0:
            self.components_ = (
                PCA(
                    n_components=rank,
                    svd_solver="randomized" if rank < min(Z.shape) - 1 else "full",
                    n_oversamples=max(self.oversampling * rank, 10),
                    random_state=self.random_state,
                )
                .fit(Z)
                .components_
            )
        errors = self._errors(Z)
        self.threshold_ = max(float(np.quantile(errors, 1.0 - self.contamination)), 1e-12)
        self.offset_ = -self.threshold_  # scikit-learn's convention: decision = score - offset
        return self

    def _errors(self, Z: np.ndarray) -> np.ndarray:
        """Squared distance of each standardised row from the principal subspace."""
        rebuilt = (Z @ self.components_.T) @ self.components_
        return np.square(Z - rebuilt).sum(axis=1)

    def score_samples(self, X: Any) -> np.ndarray:
        """The reconstruction error of each row, negated (higher is more normal, as in scikit-learn)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return -self._errors((X - self.mean_) / self.scale_)

    def decision_function(self, X: Any) -> np.ndarray:
        """Threshold minus reconstruction error: negative for anomalies."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        return np.where(self.decision_function(X) < 0, -1, 1)
