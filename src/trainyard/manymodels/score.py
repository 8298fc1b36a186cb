"""Batch scoring with a many-models group: each row goes to its partition's model.

The group is every ready version of one model name; a version's partition is its
``partition.<column>`` tags, and the newest version of a partition wins (a retried partition's
model replaces the failed attempt's, a retrain's the old one). Every row's partition is checked
before any model is loaded, and each model is loaded once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.manymodels.keys import TAG_PREFIX, key_text, values_of
from trainyard.store.records import MODEL_READY, ModelVersion

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

PREDICTION = "prediction"
MODEL_COLUMN = "model"


class UnknownPartitionError(InvalidInputError):
    """Rows whose partition has no model in the group (an endpoint answers 404)."""


def partition_columns(name: str, versions: list[ModelVersion]) -> list[str]:
    """The group's partition columns: the ``partition.*`` tags of its newest ready tagged version."""
    for version in versions:  # newest first
        columns = [k.removeprefix(TAG_PREFIX) for k in version.tags if k.startswith(TAG_PREFIX)]
        if version.status == MODEL_READY and columns:
            return columns
    raise NotFoundError(
        f"model {name!r} has no version tagged with its partition (partition.COLUMN); "
        "train the group first: trainyard many-models train -f SPEC"
    )


def index_of(name: str, versions: list[ModelVersion], columns: list[str]) -> dict[str, ModelVersion]:
    """The newest ready version of each partition, by partition key (``store=3``), of ``versions``."""
    index: dict[str, ModelVersion] = {}
    for version in versions:  # newest first
        tags = version.tags
        if version.status != MODEL_READY or not all(f"{TAG_PREFIX}{c}" in tags for c in columns):
            continue
        index.setdefault(key_text({c: tags[f"{TAG_PREFIX}{c}"] for c in columns}), version)
    if not index:
        raise NotFoundError(
            f"model {name!r} has no version tagged with its partition "
            f"({', '.join(TAG_PREFIX + c for c in columns)}); "
            "train the group first: trainyard many-models train -f SPEC"
        )
    return index


def versions_of(ws: Workspace, name: str) -> list[ModelVersion]:
    """Every version of ``name``, newest first; none for a name not registered."""
    try:
        return ws.store.list_model_versions(name)
    except NotFoundError:
        return []


def model_index(ws: Workspace, name: str, columns: list[str]) -> dict[str, ModelVersion]:
    """The newest ready version of each partition, by partition key (``store=3``)."""
    return index_of(name, versions_of(ws, name), columns)


def partitions_of(frame: pd.DataFrame, columns: list[str], what: str) -> dict[str, Any]:
    """Each partition key of ``frame``'s rows and their positions, in order of first appearance."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{what} lacks the partition column(s) {', '.join(repr(c) for c in missing)}")
    groups = frame.groupby(columns, sort=False, dropna=False).indices
    return {key_text(values_of(columns, k)): rows for k, rows in groups.items()}


def check_known(name: str, keys: dict[str, Any], index: dict[str, ModelVersion]) -> None:
    """``UnknownPartitionError`` naming the partitions of ``keys`` that have no model in ``index``."""
    unknown = [k for k in keys if k not in index]
    if unknown:
        shown = ", ".join(f"{k} ({len(keys[k])} row(s))" for k in unknown[:5])
        raise UnknownPartitionError(
            f"no model of {name!r} for partition(s) {shown}; "
            f"it has models for {', '.join(sorted(index)[:10])}"
        )


def features(model: Any, part: pd.DataFrame, columns: list[str], label: str | None = None) -> pd.DataFrame:
    """A partition's rows as its model takes them: a model with a signature (or scikit-learn's
    ``feature_names_in_``) gets only its columns; any other every column but the partition and label ones."""
    from trainyard.serving.batch import model_columns

    wanted = model_columns(model)
    if wanted is None:
        return part.drop(columns=[c for c in (*columns, label) if c in part.columns])
    return part[[c for c in part.columns if c in wanted]]


def score_frame(
    ws: Workspace, name: str, columns: list[str], frame: pd.DataFrame, label: str | None = None
) -> pd.DataFrame:
    """``frame`` with a ``prediction`` column (and the ``model`` version that made it), row order kept."""
    from trainyard.models import load

    keys = partitions_of(frame, columns, "the table to score")
    index = model_index(ws, name, columns)
    check_known(name, keys, index)
    predictions: list[Any] = [None] * len(frame)
    used: list[str] = [""] * len(frame)
    for key, rows in keys.items():
        version = index[key]
        model = load(f"models:/{name}/{version.version}", workspace=ws)
        part = frame.iloc[rows]
        for row, value in zip(rows, list(model.predict(features(model, part, columns, label))), strict=True):
            predictions[row] = value.item() if hasattr(value, "item") else value
            used[row] = f"{name}:{version.version}"
    return frame.assign(**{PREDICTION: predictions, MODEL_COLUMN: used})


def score_file(
    ws: Workspace, name: str, columns: list[str], source: Path, target: Path, label: str | None = None
) -> int:
    """Score a .csv / .parquet file into ``target`` (by its suffix); returns the row count."""
    from trainyard.automl.config import read_table

    if target.suffix.lower() not in (".csv", ".parquet"):
        raise InvalidInputError(f"--output {target}: use a .csv or .parquet file")
    scored = score_frame(ws, name, columns, read_table(source, "--data"), label)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    if target.suffix.lower() == ".csv":
        scored.to_csv(partial, index=False)
    else:
        scored.to_parquet(partial, index=False)
    partial.replace(target)  # a reader never sees half a file
    return len(scored)
