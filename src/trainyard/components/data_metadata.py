"""Edit Metadata: rename columns, change their type, mark the label, features and categoricals.

Marks live in ``df.attrs["trainyard"]`` (see ``base.marks``); pandas keeps them through most
operations and in Parquet files, so Train Model finds a marked label without being told.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trainyard.components.base import (
    ComponentInputError,
    Context,
    Param,
    Port,
    component,
    marks,
    require_columns,
    with_marks,
)

DATA_TYPES = ("unchanged", "integer", "float", "string", "boolean", "datetime")
CATEGORICAL = ("unchanged", "categorical", "non_categorical")
FIELDS = ("unchanged", "label", "feature", "clear_label", "clear_feature")
_DTYPES = {"integer": "Int64", "float": "float64", "string": "string", "boolean": "boolean"}


def _as(series: pd.Series, data_type: str) -> pd.Series:
    if data_type == "datetime":
        return pd.to_datetime(series, errors="raise")
    if data_type in ("integer", "float") and not pd.api.types.is_numeric_dtype(series):
        series = pd.to_numeric(series, errors="raise")
    return series.astype(_DTYPES[data_type])


def _convert(series: pd.Series, data_type: str) -> pd.Series:
    """The column as ``data_type``; an error naming the column and the first value that does not fit."""
    try:
        return _as(series, data_type)
    except (ValueError, TypeError) as exc:
        detail = str(exc)
        for value in series.dropna():
            try:
                _as(pd.Series([value]), data_type)
            except (ValueError, TypeError):
                detail = f"value {value!r}"
                break
        raise ComponentInputError(
            f"data_type: column {series.name!r} cannot become {data_type} ({detail})"
        ) from None


@component(
    name="edit-metadata",
    display_name="Edit Metadata",
    category="Data",
    description="Rename columns, change their data type, and mark them as label, feature or categorical.",
    inputs=[Port("dataset", "table", "The table whose columns to edit.")],
    outputs=[Port("dataset", "table", "The table with edited column metadata.")],
    params=[
        Param("columns", "columns", description="Columns to edit."),
        Param("data_type", "string", "unchanged", "New data type of the columns.", choices=DATA_TYPES),
        Param(
            "categorical",
            "string",
            "unchanged",
            "Mark the columns as categorical or not.",
            choices=CATEGORICAL,
        ),
        Param(
            "fields", "string", "unchanged", "Mark the column as the label, or as features.", choices=FIELDS
        ),
        Param("new_names", "columns", None, "New names, one per column, in the same order.", optional=True),
    ],
)
def edit_metadata(
    ctx: Context,
    dataset: pd.DataFrame,
    columns: list[str],
    data_type: str,
    categorical: str,
    fields: str,
    new_names: list[str] | None,
) -> dict[str, Any]:
    require_columns(dataset, columns, "columns")
    if not columns:
        raise ComponentInputError("columns must name at least one column")
    out = dataset.copy(deep=False)
    current = marks(dataset)
    if data_type != "unchanged":
        for name in columns:
            out[name] = _convert(out[name], data_type)
    if categorical == "categorical":
        current["categorical"] = sorted(set(current["categorical"]) | set(columns))
        for name in columns:
            out[name] = out[name].astype("category")
    elif categorical == "non_categorical":
        current["categorical"] = [c for c in current["categorical"] if c not in columns]
    if fields == "label":
        if len(columns) != 1:
            raise ComponentInputError(f"fields=label needs exactly one column, got {len(columns)}")
        current["label"] = columns[0]
    elif fields == "clear_label" and current["label"] in columns:
        current["label"] = None
    elif fields == "feature":
        current["features"] = [*current["features"], *(c for c in columns if c not in current["features"])]
    elif fields == "clear_feature":
        current["features"] = [c for c in current["features"] if c not in columns]
    if new_names is not None:
        if len(new_names) != len(columns):
            raise ComponentInputError(
                f"new_names must give {len(columns)} names (one per column), got {len(new_names)}"
            )
        clash = set(new_names) & (set(out.columns) - set(columns))
        if clash:
            raise ComponentInputError(f"new_names: a column named {sorted(clash)[0]!r} already exists")
        rename = dict(zip(columns, new_names, strict=True))
        out = out.rename(columns=rename)
        current["label"] = rename.get(current["label"], current["label"])
        current["features"] = [rename.get(c, c) for c in current["features"]]
        current["categorical"] = [rename.get(c, c) for c in current["categorical"]]
    return {"dataset": with_marks(out, **current)}
