"""Models for scoring-server tests: iris with a signature, saved once per module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from trainyard import models

COLUMNS = ["sl", "sw", "pl", "pw"]


def saved_iris(folder: Path) -> tuple[Path, Any, pd.DataFrame]:
    """A logistic regression on iris saved with an input example: (model folder, estimator, X)."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = COLUMNS
    model = LogisticRegression(max_iter=500).fit(X, y)
    return models.save(model, folder / "iris", input_example=X.head()), model, X
