"""``TrainedModel``: what Train Model outputs and Score Model, Evaluate Model and the registry take.

It is a fitted estimator (categorical columns one-hot encoded inside its pipeline) plus what
scoring needs: the task, the learner, the label and feature columns and their types, the
classes and how many rows it saw. On disk it is a trainyard model directory (``MLmodel``, the
estimator saved with skops) with ``trainyard_model.json`` beside it, so the registry can hold
it and ``trainyard.models.load`` scores with it.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import ComponentInputError, require_columns

META_FILE = "trainyard_model.json"
# Types skops does not trust by default but which carry no code: LightGBM's estimator and
# booster (a text model), scikit-learn's own classes (tree arrays, optimiser state) and
# trainyard's estimators. A function or other callable would still be refused.
KNOWN_TYPES = (
    "lightgbm.sklearn.",
    "lightgbm.basic.Booster",
    "sklearn.",
    "trainyard.components.",
    "collections.OrderedDict",
)


@dataclass
class TrainedModel:
    """A fitted estimator with the facts about its training data that scoring needs."""

    estimator: Any
    task: str
    learner: str
    feature_columns: list[str]
    feature_types: dict[str, str] = field(default_factory=dict)
    label_column: str | None = None
    classes: list[Any] | None = None
    training_rows: int = 0
    skipped_rows: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    example: pd.DataFrame | None = field(default=None, repr=False)  # a few training rows, for the signature

    def features(self, df: pd.DataFrame, param: str = "dataset") -> pd.DataFrame:
        """The feature columns of ``df`` in training order; an error naming any that are missing."""
        missing = [c for c in self.feature_columns if c not in df.columns]
        if missing:
            require_columns(
                df, missing, f"{param} (the model was trained on {len(self.feature_columns)} features)"
            )
        return df[self.feature_columns]

    def _call(self, method: str, X: pd.DataFrame) -> Any:
        try:
            return getattr(self.estimator, method)(X)
        except ValueError as exc:
            gaps = [c for c in X.columns if X[c].isna().any()]
            if gaps:
                raise ComponentInputError(
                    f"dataset has missing values in {', '.join(gaps[:5])}, which {self.learner} "
                    "cannot score; "
                    "clean them first (clean-missing-data)"
                ) from None
            raise ComponentInputError(f"dataset cannot be scored by {self.learner}: {exc}") from None

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predicted labels, values, cluster numbers or anomaly flags (1 = anomaly)."""
        X = self.features(df)
        if self.task == "anomaly_detection":
            return (self._call("predict", X) == -1).astype(np.int64)
        return np.asarray(self._call("predict", X))

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one column per class in ``classes`` order."""
        if self.task not in ("binary", "multiclass"):
            raise ComponentInputError(f"a {self.task} model gives no class probabilities")
        return np.asarray(self._call("predict_proba", self.features(df)))

    def anomaly_scores(self, df: pd.DataFrame) -> np.ndarray:
        """A score in [0, 1] per row; above 0.5 is an anomaly (the detector's own threshold)."""
        X = self.features(df)
        final = self.estimator[-1] if hasattr(self.estimator, "steps") else self.estimator
        if type(final).__name__ == "IsolationForest":
            # scikit-learn's score_samples is minus the isolation score of the paper, in (0, 1)
            raw = -np.asarray(self._call("score_samples", X))
            return np.clip(raw + (0.5 + final.offset_), 0.0, 1.0)
        if hasattr(final, "threshold_"):  # PCA: reconstruction error e against the threshold t, e / (e + t)
            errors = -np.asarray(self._call("score_samples", X))
            return errors / (errors + final.threshold_)
        from scipy.special import expit

        return expit(-4.0 * np.asarray(self._call("decision_function", X)))

    def cluster_distances(self, df: pd.DataFrame) -> np.ndarray:
        """Distance of every row to every centroid (rows x clusters)."""
        return np.asarray(self._call("transform", self.features(df)))

    def _meta(self) -> dict[str, Any]:
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("estimator", "example")}
        meta["classes"] = None if self.classes is None else [plain_value(c) for c in self.classes]
        return meta

    def save(self, folder: str | Path) -> Path:
        """A trainyard model directory at ``folder`` (written aside, then renamed into place)."""
        from trainyard import models

        dest = Path(folder)
        if dest.exists() and any(dest.iterdir()):
            raise ComponentInputError(f"{dest} already holds files; save the model into a new folder")
        tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            flavor = (
                "sklearn"
                if "sklearn" in {c.__module__.split(".")[0] for c in type(self.estimator).__mro__}
                else None
            )
            models.save(self.estimator, tmp, input_example=self.example, flavor=flavor)
            (tmp / META_FILE).write_text(json.dumps(self._meta(), indent=2, default=plain_value))
            if dest.exists():
                dest.rmdir()
            tmp.rename(dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    @classmethod
    def load(cls, folder: str | Path, *, trust: bool = False) -> TrainedModel:
        """The model saved at ``folder``; LightGBM and trainyard estimators load without ``trust``."""
        from trainyard import models

        root = Path(folder)
        meta_path = root / META_FILE
        if not meta_path.is_file():
            raise ComponentInputError(f"{root} is not a trained model: it has no {META_FILE}")
        meta = json.loads(meta_path.read_text())
        loaded = models.load(root, trust=trust or _known_types_only(root))
        return cls(estimator=loaded.model, **meta)


def _known_types_only(root: Path) -> bool:
    """Whether the skops file holds only types from ``KNOWN_TYPES`` beyond what skops trusts."""
    from trainyard.models.format import read_descriptor

    conf = read_descriptor(root)["flavors"].get("sklearn") or {}
    if conf.get("serialization_format") != "skops":
        return False
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=root / conf["pickled_model"])
    return all(t.startswith(KNOWN_TYPES) for t in untrusted)


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value
