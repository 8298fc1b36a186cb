"""Clean Missing Data: remove rows or columns with gaps, or fill them (mean, median, mode, a value,
or scikit-learn's iterative imputation, Studio's MICE).

Only the selected columns whose share of missing values lies in ``[min_missing_ratio,
max_missing_ratio]`` are cleaned, as in Studio.
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
    is_numeric,
    require_columns,
    with_marks,
)

CLEANING_MODES = ("mean", "median", "mode", "custom_value", "iterative", "remove_row", "remove_column")


def _numeric_only(df: pd.DataFrame, columns: list[str], mode: str) -> None:
    for name in columns:
        if not is_numeric(df[name]):
            raise ComponentInputError(
                f"cleaning_mode={mode} needs numeric columns; {name!r} is {df[name].dtype} "
                "(use mode or custom_value, or select other columns)"
            )


def _fill_value(series: pd.Series, mode: str) -> Any:
    if series.isna().all():
        raise ComponentInputError(
            f"column {series.name!r} has no values, so its {mode} is undefined; "
            "use remove_column or custom_value for it"
        )
    if mode == "mean":
        return series.mean()
    if mode == "median":
        return series.median()
    return series.mode(dropna=True).iloc[0]


def _custom(series: pd.Series, text: str | None) -> Any:
    if text is None:
        raise ComponentInputError("cleaning_mode=custom_value needs replacement_value")
    if is_numeric(series):
        try:
            return float(text)
        except ValueError:
            raise ComponentInputError(
                f"replacement_value must be a number for numeric column {series.name!r}, got {text!r}"
            ) from None
    return text


def _iterative(df: pd.DataFrame, columns: list[str], seed: int) -> pd.DataFrame:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401 - enables the import below
    from sklearn.impute import IterativeImputer

    _numeric_only(df, columns, "iterative")
    empty = [c for c in columns if df[c].isna().all()]
    if empty:
        raise ComponentInputError(
            f"column {empty[0]!r} has no values, so it cannot be imputed; use remove_column for it"
        )
    numeric = [c for c in df.columns if is_numeric(df[c])]
    imputer = IterativeImputer(random_state=seed, max_iter=10)
    filled = imputer.fit_transform(df[numeric].to_numpy(dtype=float))
    out = df.copy()
    for i, name in enumerate(numeric):
        if name in columns:
            out[name] = filled[:, i]
    return out


def _clean(
    out: pd.DataFrame, dataset: pd.DataFrame, chosen: list[str], mode: str, replacement: str | None, seed: int
) -> pd.DataFrame:
    if mode == "remove_row":
        return out[~dataset[chosen].isna().any(axis=1)]
    if mode == "remove_column":
        return out.drop(columns=chosen)
    if mode == "iterative":
        return _iterative(out, chosen, seed)
    if mode in ("mean", "median"):
        _numeric_only(dataset, chosen, mode)
    fills = {
        name: _custom(dataset[name], replacement)
        if mode == "custom_value"
        else _fill_value(dataset[name], mode)
        for name in chosen
    }
    return out.fillna(fills)


@component(
    name="clean-missing-data",
    display_name="Clean Missing Data",
    category="Data",
    description="Remove or replace missing values: drop rows or columns, or fill with the mean, median, "
    "mode, a custom value, or iterative imputation.",
    inputs=[Port("dataset", "table", "The table with missing values.")],
    outputs=[Port("cleaned_dataset", "table", "The table with the selected columns cleaned.")],
    params=[
        Param("columns", "columns", None, "Columns to clean (default: every column).", optional=True),
        Param(
            "cleaning_mode", "string", "remove_row", "What to do with missing values.", choices=CLEANING_MODES
        ),
        Param("replacement_value", "string", None, "The value for custom_value.", optional=True),
        Param(
            "min_missing_ratio",
            "float",
            0.0,
            "Clean a column only if at least this share is missing.",
            min=0,
            max=1,
        ),
        Param(
            "max_missing_ratio",
            "float",
            1.0,
            "Clean a column only if at most this share is missing.",
            min=0,
            max=1,
        ),
        Param("add_indicator", "bool", False, "Add a <column>_is_missing column for each cleaned column."),
        Param("seed", "int", 0, "Random seed of iterative imputation.", min=0),
    ],
)
def clean_missing_data(
    ctx: Context,
    dataset: pd.DataFrame,
    columns: list[str] | None,
    cleaning_mode: str,
    replacement_value: str | None,
    min_missing_ratio: float,
    max_missing_ratio: float,
    add_indicator: bool,
    seed: int,
) -> dict[str, Any]:
    if min_missing_ratio > max_missing_ratio:
        raise ComponentInputError(
            f"min_missing_ratio ({min_missing_ratio}) must not exceed max_missing_ratio ({max_missing_ratio})"
        )
    selected = require_columns(dataset, columns, "columns") if columns else list(dataset.columns)
    ratios = dataset[selected].isna().mean()
    chosen = [c for c in selected if ratios[c] > 0 and min_missing_ratio <= ratios[c] <= max_missing_ratio]
    out = dataset.copy(deep=False)
    if add_indicator:
        for name in chosen:
            out[f"{name}_is_missing"] = dataset[name].isna()
    before = int(dataset[chosen].isna().sum().sum()) if chosen else 0
    if chosen:
        out = _clean(out, dataset, chosen, cleaning_mode, replacement_value, seed)
    ctx.log("columns_cleaned", len(chosen))
    ctx.log("missing_values_before", before)
    ctx.log("rows_removed", len(dataset) - len(out))
    return {"cleaned_dataset": with_marks(out)}
