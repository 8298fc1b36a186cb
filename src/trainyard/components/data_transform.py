"""Normalize Data and Group Data into Bins: per-column numeric transforms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import (
    ComponentInputError,
    Context,
    Param,
    Port,
    component,
    is_numeric,
    marks,
    require_columns,
)

NORMALIZE_METHODS = ("zscore", "minmax", "logistic", "tanh", "log")
BIN_METHODS = ("quantiles", "equal_width", "custom_edges")
BIN_OUTPUT = ("append", "inplace")


def _numeric_columns(df: pd.DataFrame, columns: list[str] | None, param: str) -> list[str]:
    """The named columns (all numeric ones but the label if none are named); refuses non-numeric ones."""
    if not columns:
        label = marks(df)["label"]
        return [c for c in df.columns if c != label and is_numeric(df[c])]
    require_columns(df, columns, param)
    for name in columns:
        if not is_numeric(df[name]):
            raise ComponentInputError(f"{param}: column {name!r} is {df[name].dtype}, not numeric")
    return list(columns)


def _normalize(values: np.ndarray, method: str, name: str) -> np.ndarray:
    if method == "zscore":
        std = np.nanstd(values)
        centred = values - np.nanmean(values)
        return centred / std if std > 0 else centred
    if method == "minmax":
        low, high = np.nanmin(values), np.nanmax(values)
        return (values - low) / (high - low) if high > low else values - low
    if method == "logistic":
        return 1.0 / (1.0 + np.exp(-values))
    if method == "tanh":
        return np.tanh(values)
    bad = int(np.sum(values <= 0))
    if bad:
        raise ComponentInputError(
            f"method=log needs positive values; column {name!r} has {bad} value(s) <= 0 "
            f"(smallest {np.nanmin(values):g}); choose another method or shift the column"
        )
    return np.log(values)


@component(
    name="normalize-data",
    display_name="Normalize Data",
    category="Data",
    description="Rescale numeric columns: z-score, min-max, logistic, tanh or natural log.",
    inputs=[Port("dataset", "table", "The table to normalise.")],
    outputs=[Port("transformed_dataset", "table", "The table with the columns rescaled.")],
    params=[
        Param("method", "string", "zscore", "The transformation.", choices=NORMALIZE_METHODS),
        Param(
            "columns",
            "columns",
            None,
            "Columns to rescale (default: numeric columns but the label).",
            optional=True,
        ),
    ],
)
def normalize_data(
    ctx: Context, dataset: pd.DataFrame, method: str, columns: list[str] | None
) -> dict[str, Any]:
    chosen = _numeric_columns(dataset, columns, "columns")
    out = dataset.copy(deep=False)
    for name in chosen:
        out[name] = _normalize(dataset[name].to_numpy(dtype=float), method, name)
    ctx.log("columns_transformed", len(chosen))
    return {"transformed_dataset": out}


def _bin(series: pd.Series, method: str, bins: int, edges: list[float] | None) -> pd.Series:
    if method == "quantiles":
        return pd.qcut(series, q=bins, labels=False, duplicates="drop")
    if method == "equal_width":
        return pd.cut(series, bins=bins, labels=False, include_lowest=True)
    if not edges or len(edges) < 2:
        raise ComponentInputError("method=custom_edges needs edges: a list of at least two numbers")
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ComponentInputError(f"edges must increase strictly, got {edges}")
    return pd.cut(series, bins=edges, labels=False, include_lowest=True)


def _edges(value: Any) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ComponentInputError(f"edges must be a list of numbers, e.g. [0, 10, 100], got {value!r}")
    return [float(v) for v in value]


@component(
    name="group-data-into-bins",
    display_name="Group Data into Bins",
    category="Data",
    description="Replace numeric values with the index of their bin: quantiles, equal-width bins or "
    "custom edges (values outside custom edges get no bin).",
    inputs=[Port("dataset", "table", "The table with numeric columns to bin.")],
    outputs=[Port("quantized_dataset", "table", "The table with bin numbers.")],
    params=[
        Param("columns", "columns", description="Numeric columns to bin."),
        Param("method", "string", "quantiles", "How bin edges are chosen.", choices=BIN_METHODS),
        Param("bins", "int", 10, "Number of bins (quantiles, equal_width).", min=2, max=10_000),
        Param("edges", "json", None, "Bin edges for custom_edges, e.g. [0, 18, 65, 120].", optional=True),
        Param(
            "output_mode",
            "string",
            "append",
            "Add <column>_bin columns, or replace the columns.",
            choices=BIN_OUTPUT,
        ),
    ],
)
def group_data_into_bins(
    ctx: Context,
    dataset: pd.DataFrame,
    columns: list[str],
    method: str,
    bins: int,
    edges: Any,
    output_mode: str,
) -> dict[str, Any]:
    chosen = _numeric_columns(dataset, columns, "columns")
    cuts = _edges(edges)
    out = dataset.copy(deep=False)
    for name in chosen:
        binned = _bin(dataset[name], method, bins, cuts).astype("Int64")
        out[f"{name}_bin" if output_mode == "append" else name] = binned
    ctx.log("columns_binned", len(chosen))
    return {"quantized_dataset": out}
