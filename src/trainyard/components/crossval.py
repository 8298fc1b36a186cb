"""Cross-Validate Model: k folds, each scored by a model trained on the others.

Rows with a missing label or feature are skipped first (as Train Model does), so every fold is
scored. Classification folds are stratified. The scored out-of-fold rows come back with a
``Fold Assignments`` column; the report has one row of metrics per fold plus their mean and
standard deviation (Studio's "Evaluation results by fold").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import ComponentInputError, Context, Param, Port, component, label_column
from trainyard.components.evaluation import evaluate_scored
from trainyard.components.learners import CLASSIFICATION, UntrainedModel
from trainyard.components.report import Report
from trainyard.components.scoring import score
from trainyard.components.training import (
    FEATURES,
    LABEL,
    UNTRAINED,
    check_task,
    choose_features,
    complete_rows,
    fit_model,
)

FOLD = "Fold Assignments"


def cross_validate(
    untrained: UntrainedModel,
    df: pd.DataFrame,
    label: str | None,
    features: list[str] | None = None,
    folds: int = 10,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(scored out-of-fold rows with a fold column, metrics per fold)``."""
    from sklearn.model_selection import KFold, StratifiedKFold

    check_task(untrained, "train-model")
    label = label_column(df, label)
    columns = choose_features(df, label, features)
    rows, _ = complete_rows(df, [*columns, label])
    stratify = untrained.task in CLASSIFICATION and rows[label].value_counts().min() >= folds
    if len(rows) < folds:
        raise ComponentInputError(
            f"number_of_folds is {folds} but the dataset has only {len(rows)} complete rows"
        )
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    scored, metrics, order = [], [], []
    for fold, (train_at, test_at) in enumerate(splitter.split(rows, rows[label] if stratify else None)):
        model = fit_model(untrained, rows.iloc[train_at], label, columns)
        part = score(model, rows.iloc[test_at])
        _, values, _ = evaluate_scored(part)
        metrics.append({"fold": fold, "rows": len(test_at), **values})
        scored.append(part.assign(**{FOLD: fold}))
        order.append(test_at)
    out = pd.concat(scored).iloc[np.argsort(np.concatenate(order), kind="stable")]  # back in input order
    out.attrs = scored[0].attrs
    return out, pd.DataFrame(metrics)


def summary(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Per-fold metrics with Studio's Mean and Standard Deviation rows below them."""
    values = per_fold.drop(columns=["fold"])
    extra = pd.DataFrame([values.mean(), values.std(ddof=1)]).assign(fold=["Mean", "Standard Deviation"])
    return pd.concat([per_fold.astype({"fold": object}), extra], ignore_index=True)


@component(
    name="cross-validate-model",
    display_name="Cross-Validate Model",
    category="Train",
    description="Trains and scores a classification or regression learner on k folds: out-of-fold scores "
    "and metrics per fold with their mean and standard deviation.",
    inputs=[UNTRAINED, Port("dataset", "table", "the labelled data to split into folds")],
    outputs=[
        Port("scored_results", "table", "every row scored by the model that did not see it, with its fold"),
        Port("evaluation_results_by_fold", "report", "metrics per fold, mean and standard deviation"),
    ],
    params=[
        LABEL,
        FEATURES,
        Param("number_of_folds", "int", 10, "k, the number of folds", min=2),
        Param("random_number_seed", "int", 0, "seed of the fold assignment", min=0),
    ],
)
def cross_validate_model(
    ctx: Context,
    untrained_model: UntrainedModel,
    dataset: pd.DataFrame,
    label_column: str | None,
    feature_columns: list[str] | None,
    number_of_folds: int,
    random_number_seed: int,
) -> dict[str, Any]:
    scored, per_fold = cross_validate(
        untrained_model, dataset, label_column, feature_columns, number_of_folds, random_number_seed
    )
    table = summary(per_fold)
    metrics: dict[str, float] = {}
    for name in per_fold.columns.drop(["fold", "rows"]):
        metrics[f"mean_{name}"] = float(per_fold[name].mean())
        metrics[f"std_{name}"] = float(per_fold[name].std(ddof=1))
    for name, value in metrics.items():
        ctx.log(name, value)
    ctx.log_table("evaluation_results_by_fold", table)
    report = Report(
        metrics=metrics, tables={"evaluation_results_by_fold": table}, data={"folds": number_of_folds}
    )
    return {"scored_results": scored, "evaluation_results_by_fold": report}
