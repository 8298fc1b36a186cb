"""SMOTE: add synthetic minority-class rows by interpolating between near neighbours (imbalanced-learn).

As in Studio, ``smote_percentage`` is how many new minority rows to add per 100 existing ones
(100 doubles the minority class) and the output holds the original rows followed by the new ones.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component
from trainyard.components.base import label_column as find_label


@component(
    name="smote",
    display_name="SMOTE",
    category="Data",
    description="Increase the number of minority-class rows with synthetic examples (SMOTE).",
    inputs=[Port("dataset", "table", "A table with a label column and numeric features.")],
    outputs=[Port("dataset", "table", "The original rows followed by the synthetic minority rows.")],
    params=[
        Param("label_column", "column", None, "The class column (default: the marked label).", optional=True),
        Param("smote_percentage", "int", 100, "New minority rows per 100 existing ones.", min=0, max=100_000),
        Param("k_neighbors", "int", 1, "Nearest neighbours to interpolate between.", min=1, max=1000),
        Param("seed", "int", 0, "Random seed.", min=0),
    ],
)
def smote(
    ctx: Context,
    dataset: pd.DataFrame,
    label_column: str | None,
    smote_percentage: int,
    k_neighbors: int,
    seed: int,
) -> dict[str, Any]:
    from imblearn.over_sampling import SMOTE

    label = find_label(dataset, label_column)
    features = [c for c in dataset.columns if c != label]
    for name in features:
        if not pd.api.types.is_numeric_dtype(dataset[name]):
            raise ComponentInputError(
                f"SMOTE needs numeric features; column {name!r} is {dataset[name].dtype} "
                "(drop it with select-columns or encode it first)"
            )
    if dataset[features].isna().any().any() or dataset[label].isna().any():
        raise ComponentInputError("SMOTE cannot use rows with missing values; run clean-missing-data first")
    if pd.api.types.is_float_dtype(dataset[label]) and not (dataset[label] % 1 == 0).all():
        raise ComponentInputError(
            f"label_column {label!r} is not a class column: it holds continuous numbers; "
            "SMOTE needs a label of classes"
        )
    counts = dataset[label].value_counts()
    if len(counts) < 2:
        raise ComponentInputError(f"label_column {label!r} has one class; SMOTE needs at least two")
    minority, have = counts.index[-1], int(counts.iloc[-1])
    shown = minority.item() if hasattr(minority, "item") else minority  # 1, not np.int64(1)
    if have <= k_neighbors:
        raise ComponentInputError(
            f"k_neighbors must be less than the {have} rows of the minority class {shown!r}, "
            f"got {k_neighbors}"
        )
    extra = have * smote_percentage // 100
    if extra == 0:
        ctx.log("rows_added", 0)
        return {"dataset": dataset}
    sampler = SMOTE(sampling_strategy={minority: have + extra}, k_neighbors=k_neighbors, random_state=seed)
    x, y = sampler.fit_resample(dataset[features].to_numpy(dtype=float), dataset[label].to_numpy())
    added = pd.DataFrame(x[len(dataset) :], columns=features).assign(**{label: y[len(dataset) :]})
    for name in features:  # interpolated integers are rounded back to integers
        if pd.api.types.is_integer_dtype(dataset[name]):
            added[name] = added[name].round()
    added = added[list(dataset.columns)].astype(dataset.dtypes.to_dict())
    out = pd.concat([dataset, added], ignore_index=True)
    out.attrs = copy.deepcopy(dataset.attrs)
    ctx.log("rows_added", len(added))
    return {"dataset": out}
