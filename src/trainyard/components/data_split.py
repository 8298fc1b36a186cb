"""Split Data and Select Columns: the row and column cuts of a table."""

from __future__ import annotations

import operator
import re
from typing import Any

import numpy as np
import pandas as pd

from trainyard.components.base import (
    ComponentInputError,
    Context,
    Param,
    Port,
    component,
    require_columns,
)

SPLIT_MODES = ("rows", "regex", "expression")
_OPS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_EXPRESSION = re.compile(r'^\s*"?(?P<column>[^"<>=!]+?)"?\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>.+?)\s*$')


def _row_split(
    df: pd.DataFrame, fraction: float, randomize: bool, seed: int, stratify: str | None
) -> np.ndarray:
    """A boolean mask of the rows that go to the first output."""
    n = len(df)
    take = np.zeros(n, dtype=bool)
    if stratify is None:
        order = np.random.default_rng(seed).permutation(n) if randomize else np.arange(n)
        take[order[: int(round(n * fraction))]] = True
        return take
    rng = np.random.default_rng(seed)
    codes = pd.factorize(df[stratify], use_na_sentinel=False)[0]
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        if randomize:
            rows = rng.permutation(rows)
        take[rows[: int(round(len(rows) * fraction))]] = True
    return take


def _regex_mask(series: pd.Series, regex: str) -> np.ndarray:
    """Rows whose value (as text) contains a match of ``regex`` (Python's ``re`` syntax)."""
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        raise ComponentInputError(f"regex is not a valid regular expression ({exc}): {regex!r}") from None
    values = series.to_numpy(dtype=object)
    return np.fromiter(
        (not pd.isna(v) and pattern.search(str(v)) is not None for v in values), bool, len(values)
    )


def _expression_mask(df: pd.DataFrame, expression: str) -> np.ndarray:
    match = _EXPRESSION.match(expression or "")
    if match is None:
        raise ComponentInputError(
            f'expression must look like "column" > 3 (operators {", ".join(_OPS)}), got {expression!r}'
        )
    column = require_columns(df, [match["column"].strip()], "expression")[0]
    raw = match["value"].strip().strip("\"'")
    try:
        value: Any = float(raw)
    except ValueError:
        value = raw
    series = df[column]
    if isinstance(value, float) and not pd.api.types.is_numeric_dtype(series):
        raise ComponentInputError(
            f"expression: column {column!r} is not numeric, so it cannot be compared to {raw}"
        )
    return _OPS[match["op"]](series, value).fillna(False).to_numpy(dtype=bool)


@component(
    name="split-data",
    display_name="Split Data",
    category="Data",
    description="Divide the rows of a table into two sets: by fraction (optionally stratified), "
    'by a regular expression on a column, or by a relative expression such as "age" > 40.',
    inputs=[Port("dataset", "table", "The table to split.")],
    outputs=[
        Port("results1", "table", "Rows selected: the fraction, or rows that match."),
        Port("results2", "table", "The remaining rows."),
    ],
    params=[
        Param("mode", "string", "rows", "How to split.", choices=SPLIT_MODES),
        Param(
            "fraction",
            "float",
            0.7,
            "Share of rows in the first output (rows mode).",
            min=0,
            max=1,
            min_exclusive=True,
            max_exclusive=True,
        ),
        Param("randomize", "bool", True, "Shuffle before splitting (rows mode)."),
        Param("seed", "int", 0, "Random seed.", min=0),
        Param(
            "stratify_column",
            "column",
            None,
            "Keep this column's class shares in both outputs.",
            optional=True,
        ),
        Param(
            "column",
            "column",
            None,
            "Column the regular expression is matched on (regex mode).",
            optional=True,
        ),
        Param("regex", "string", None, "Rows whose column matches go to the first output.", optional=True),
        Param(
            "expression",
            "string",
            None,
            'Relative expression, e.g. "age" > 40 (expression mode).',
            optional=True,
        ),
    ],
)
def split_data(
    ctx: Context,
    dataset: pd.DataFrame,
    mode: str,
    fraction: float,
    randomize: bool,
    seed: int,
    stratify_column: str | None,
    column: str | None,
    regex: str | None,
    expression: str | None,
) -> dict[str, Any]:
    if mode == "rows":
        if stratify_column is not None:
            require_columns(dataset, [stratify_column], "stratify_column")
        mask = _row_split(dataset, fraction, randomize, seed, stratify_column)
    elif mode == "regex":
        if not column or regex is None:
            raise ComponentInputError("regex mode needs both column and regex")
        require_columns(dataset, [column], "column")
        mask = _regex_mask(dataset[column], regex)
    else:
        mask = _expression_mask(dataset, expression or "")
    first, second = dataset[mask], dataset[~mask]
    ctx.log("rows_results1", len(first))
    ctx.log("rows_results2", len(second))
    return {"results1": first, "results2": second}


SELECT_MODES = ("include", "exclude")


@component(
    name="select-columns",
    display_name="Select Columns in Dataset",
    category="Data",
    description="Keep (or drop) the named columns of a table, in the order given.",
    inputs=[Port("dataset", "table", "The table to take columns from.")],
    outputs=[Port("dataset", "table", "The table with the selected columns.")],
    params=[
        Param("columns", "columns", description="Columns to keep (include) or drop (exclude)."),
        Param("mode", "string", "include", "Keep or drop the named columns.", choices=SELECT_MODES),
    ],
)
def select_columns(ctx: Context, dataset: pd.DataFrame, columns: list[str], mode: str) -> dict[str, Any]:
    if not columns:
        raise ComponentInputError("columns must name at least one column")
    require_columns(dataset, columns, "columns")
    out = dataset[columns] if mode == "include" else dataset.drop(columns=columns)
    ctx.log("columns", out.shape[1])
    return {"dataset": out}
