"""Curated environments: ready-made, pinned specs for the common frameworks, shipped with trainyard.

They replace Azure's framework estimators (an estimator is a curated environment plus a command).
Every requirement is pinned to an exact version, so a curated name always builds the same
virtual environment and the builder's content-addressed cache builds it once per machine. Azure's
curated names (``AzureML-sklearn-1.5``) are aliases of the nearest one here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from trainyard.errors import NotFoundError

PREFIX = "curated/"


@dataclass(frozen=True)
class Curated:
    """One catalogue entry: its stable name, Azure's names for it, and what it installs."""

    name: str
    description: str
    requirements: tuple[str, ...]
    aliases: tuple[str, ...] = ()


SCIPY_STACK = ("numpy==2.4.6", "scipy==1.17.1", "pandas==3.1.1", "joblib==1.6.0", "threadpoolctl==3.8.0")

CATALOGUE: tuple[Curated, ...] = (
    Curated(
        "curated/sklearn-1",
        "scikit-learn 1.9 with numpy, scipy and pandas",
        ("scikit-learn==1.9.1", *SCIPY_STACK),
        ("AzureML-sklearn-1.5", "sklearn-1.5", "AzureML-sklearn-1.0", "sklearn-1.0"),
    ),
    Curated(
        "curated/lightgbm-xgboost-1",
        "LightGBM 4.7 and XGBoost 3.2 (CPU build) with scikit-learn",
        ("lightgbm==4.7.0", "xgboost-cpu==3.2.0", "scikit-learn==1.9.1", *SCIPY_STACK),
        ("AzureML-lightgbm-3.3", "lightgbm-3.3", "AzureML-xgboost-1.5"),
    ),
    Curated(
        "curated/pytorch-2-cpu",
        "PyTorch 2.13 (CPU build) with numpy",
        ("torch==2.13.0+cpu", "numpy==2.4.6"),
        ("AzureML-pytorch-2.2-cpu", "AzureML-pytorch-1.10-ubuntu18.04-py38-cpu-inference"),
    ),
)


def _index() -> dict[str, Curated]:
    found = {}
    for entry in CATALOGUE:
        for key in (entry.name, *entry.aliases):
            found[key.lower()] = entry
    return found


def is_curated(name: str) -> bool:
    """Names that mean a curated environment: ``curated/…`` and Azure's ``AzureML-…``."""
    return name.startswith(PREFIX) or name.lower() in _index() or name.startswith("AzureML-")


def curated(name: str) -> Curated:
    """The entry for a curated name or alias; an unknown one names the closest and the list."""
    entry = _index().get(name.lower())
    if entry is None:
        names = {key.lower(): key for e in CATALOGUE for key in (e.name, *e.aliases)}
        close = difflib.get_close_matches(name.lower(), list(names), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(names[c] for c in close)}? " if close else ""
        raise NotFoundError(
            f"no curated environment {name!r}; {hint}`trainyard env list --curated` lists them"
        )
    return entry
