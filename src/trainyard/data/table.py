"""Tables: read a csv or parquet file with pandas, and describe it (rows, schema, column statistics)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = (".csv", ".parquet")


def read_table(path: Path, what: str) -> pd.DataFrame:
    """The table in ``path`` (csv or parquet); ``InvalidInputError`` naming ``what`` if it cannot be read."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInputError(f"{what}: {path.name} is not a table; use a .csv or .parquet file")
    try:
        return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pandas and pyarrow raise many kinds for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"{what}: cannot read {path.name} as a table ({first})") from None


def _number(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def describe(frame: pd.DataFrame) -> dict[str, Any]:
    """Row count and, per column, its type, nulls, distinct values and for numbers min/max/mean."""
    import pandas as pd

    columns = []
    for name in frame.columns:
        col = frame[name]
        stats: dict[str, Any] = {
            "name": str(name),
            "dtype": str(col.dtype),
            "nulls": int(col.isna().sum()),
            "distinct": int(col.nunique()),
        }
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            stats.update(min=_number(col.min()), max=_number(col.max()), mean=_number(col.mean()))
        columns.append(stats)
    return {"rows": len(frame), "columns": columns}
