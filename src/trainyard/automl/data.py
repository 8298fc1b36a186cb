"""Where an AutoML run's data lives (the workspace's artifact store, written once at submit) and
how its rows are split for validation.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from trainyard.automl.config import AutoMLSettings
from trainyard.automl.record import AutoMLData

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

AUTO_CV_ROWS = 10_000  # fewer rows than this: cross-validation; more: a 10 % holdout
AUTO_HOLDOUT = 0.1
CELLS_PER_HOUR = 10_000_000  # FLAML's rule: 5 folds while rows x columns < this x budget / 1 h


def auto_folds(rows: int, columns: int, seconds: float) -> int:
    """How many folds validate trials when the user gave no validation settings: 5 while the
    table is small for the budget (FLAML's rule), 3 up to ten times that, else 1 (a holdout)."""
    if rows >= AUTO_CV_ROWS:
        return 1
    cells, affordable = rows * columns / 0.9, CELLS_PER_HOUR * seconds / 3600
    return 5 if cells < affordable else 3 if cells < 10 * affordable else 1


def store_frames(ws: Workspace, train: pd.DataFrame, valid: pd.DataFrame | None) -> AutoMLData:
    """Write the frames into the artifact store; returns their keys for the job record."""
    prefix = f"automl/{uuid.uuid4().hex}"
    keys = {}
    for name, frame in (("training_data", train), ("validation_data", valid)):
        if frame is not None:
            buf = io.BytesIO()
            frame.to_pickle(buf)
            ws.artifacts.put_bytes(f"{prefix}/{name}.pkl", buf.getvalue())
            keys[name] = f"{prefix}/{name}.pkl"
    return AutoMLData.model_validate(keys)


def load_frame(ws: Workspace, key: str) -> pd.DataFrame:
    """One frame ``store_frames`` wrote."""
    return pd.read_pickle(io.BytesIO(ws.artifacts.get_bytes(key)))


def load_frames(ws: Workspace, data: AutoMLData) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    valid = None if data.validation_data is None else load_frame(ws, data.validation_data)
    return load_frame(ws, data.training_data), valid


def fold_count(s: AutoMLSettings, n_train: int, columns: int = 1, seconds: float | None = None) -> int:
    """How many folds ``make_folds`` makes without validation_data (1: a holdout); the automatic
    choice follows ``seconds``, the time the search has (the whole budget unless given)."""
    if s.n_cross_validations is not None:
        return s.n_cross_validations
    if s.validation_size is not None:
        return 1
    return auto_folds(n_train, columns, s.timeout_seconds if seconds is None else seconds)


def make_folds(
    s: AutoMLSettings,
    n_train: int,
    n_all: int,
    y: np.ndarray,
    columns: int = 1,
    seconds: float | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, validation rows) pairs: validation_data, k folds, or a holdout. The number of
    folds chosen automatically follows ``seconds``: the time left when the data is prepared (a
    start that took half the budget leaves half of it), the whole budget when not given."""
    if n_all > n_train:  # validation_data was appended after the training rows
        return [(np.arange(n_train), np.arange(n_train, n_all))]
    stratify = s.task == "classification"
    k = s.n_cross_validations
    if k is None and s.validation_size is None:
        auto = fold_count(s, n_train, columns, seconds)
        k = auto if auto > 1 else None
    index = np.arange(n_train)
    if k is not None:
        splitter = (StratifiedKFold if stratify else KFold)(k, shuffle=True, random_state=s.seed)
        return [(tr, va) for tr, va in splitter.split(index, y if stratify else None)]
    size = s.validation_size or AUTO_HOLDOUT
    tr, va = train_test_split(index, test_size=size, random_state=s.seed, stratify=y if stratify else None)
    return [(np.sort(tr), np.sort(va))]
