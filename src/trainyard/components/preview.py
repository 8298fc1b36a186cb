"""A step's stored table, as the studio shows it: the first rows and each column's statistics.

A module's ``table`` output is ``outputs/<port>/data.parquet`` of the run that holds it (its own,
the run a reused step took it from, a sweep step's best trial); a ``report`` output keeps its
tables as Parquet files named in its ``report.json``. Reading is bounded whatever the table's
size: at most ``MAX_COLUMNS`` columns, statistics over the first ``STATS_ROWS`` rows (the reply
says how many), each cell cut to ``MAX_CELL_CHARS`` characters.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from trainyard.artifacts import run_key
from trainyard.components.runner import OUTPUTS, TABLE_FILE
from trainyard.errors import NotFoundError
from trainyard.pipelines.record import outputs_holder

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.workspace import Workspace

MAX_ROWS = 100  # first rows sent at most
MAX_COLUMNS = 100
STATS_ROWS = 100_000
MAX_CELL_CHARS = 200
REPORT_FILE = "report.json"


def cell(value: Any) -> Any:
    """A value JSON can carry: numbers as numbers (NaN, missing: null), the rest as short text."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # a numpy scalar
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def column_stats(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each column's name, type, count (values present), missing, unique, and for a numeric
    column its mean, min and max (null when it has no value)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    stats = []
    for name in df.columns:
        column = df[name]
        present = int(column.count())
        row: dict[str, Any] = {
            "name": str(name),
            "dtype": str(column.dtype),
            "count": present,
            "missing": int(len(column) - present),
            "unique": int(column.nunique(dropna=True)),
            "mean": None,
            "min": None,
            "max": None,
        }
        if is_numeric_dtype(column) and not is_bool_dtype(column) and present:
            row.update(mean=cell(column.mean()), min=cell(column.min()), max=cell(column.max()))
        stats.append(row)
    return stats


def table_preview(df: pd.DataFrame, rows: int, total_rows: int, total_columns: int) -> dict[str, Any]:
    """The first ``rows`` rows as lists of cells, and the statistics of ``df`` (what was read)."""
    head = df.head(rows)
    return {
        "rows": total_rows,
        "columns": total_columns,
        "stats_rows": len(df),
        "column_names": [str(c) for c in df.columns],
        "head": [[cell(v) for v in record] for record in head.itertuples(index=False, name=None)],
        "stats": column_stats(df),
    }


def _read(ws: Workspace, key: str) -> tuple[pd.DataFrame, int, int]:
    """The first ``STATS_ROWS`` rows of the first ``MAX_COLUMNS`` columns of a stored Parquet
    file, its number of rows and of columns: only those row groups and columns are read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with ws.artifacts.open(key) as fh:
        parquet = pq.ParquetFile(fh)
        names = parquet.schema_arrow.names
        batches = parquet.iter_batches(batch_size=STATS_ROWS, columns=names[:MAX_COLUMNS])
        first = next(batches, None)
        table = pa.Table.from_batches([first]) if first is not None else parquet.schema_arrow.empty_table()
        return table.to_pandas(), parquet.metadata.num_rows, len(names)


def output_preview(ws: Workspace, run_id: str, port: str, table: str | None, rows: int) -> dict[str, Any]:
    """Output ``port`` of run ``run_id`` (a step's run, reused or not): a table's preview, or for
    a report the names of its tables and the preview of ``table`` (its first by default)."""
    info = ws.store.get_run(run_id)
    holder, _ = outputs_holder(ws.store, info)
    prefix = run_key(holder, f"{OUTPUTS}/{port}")
    files = ws.artifacts.list(prefix)
    reply: dict[str, Any] = {"run_id": holder, "port": port}
    if TABLE_FILE in files:
        if table is not None:
            raise NotFoundError(f"output {port!r} of run {run_id} is one table; it has no table {table!r}")
        key = f"{prefix}/{TABLE_FILE}"
        reply.update(kind="table", tables=[], table=None)
    elif REPORT_FILE in files:
        tables: dict[str, str] = json.loads(ws.artifacts.get_bytes(f"{prefix}/{REPORT_FILE}"))["tables"]
        reply.update(kind="report", tables=list(tables))
        if not tables:
            return {**reply, "table": None}
        chosen = table if table is not None else next(iter(tables))
        if chosen not in tables:
            have = ", ".join(tables)
            raise NotFoundError(f"output {port!r} of run {run_id} has no table {chosen!r}; it has: {have}")
        key = f"{prefix}/{tables[chosen]}"
        reply["table"] = chosen
    else:
        stored = sorted({name.split("/")[0] for name in ws.artifacts.list(run_key(holder, OUTPUTS))})
        have = ", ".join(stored) or "none"
        raise NotFoundError(f"run {run_id} has no table or report output {port!r}; its outputs: {have}")
    df, total_rows, total_columns = _read(ws, key)
    return {**reply, **table_preview(df, rows, total_rows, total_columns)}
