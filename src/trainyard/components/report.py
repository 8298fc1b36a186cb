"""``Report``: the value of a ``report`` port (Evaluate Model, Cross-Validate, Tune, …).

On disk a report is a folder: ``report.json`` (metrics, data, and the names of its tables and
figures), one Parquet file per table under ``tables/`` and one PNG per figure under
``figures/``, so it can be read without trainyard. Loaded back, figures are PNG bytes.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainyard.errors import InvalidInputError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(name: str) -> str:
    """A file name for a table or figure name (names are kept in report.json)."""
    return _SAFE.sub("_", name).strip("._") or "unnamed"


def png_bytes(figure: Any) -> bytes:
    """A matplotlib figure (or PNG bytes already) as PNG bytes."""
    if isinstance(figure, bytes | bytearray):
        return bytes(figure)
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _json_number(value: float) -> float | str:
    """NaN and infinities survive JSON as strings."""
    return value if math.isfinite(value) else str(value)


@dataclass
class Report:
    """Metrics, tables and figures a component produced, plus free-form ``data``."""

    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: str | Path) -> Path:
        """Write the report into ``folder`` (created; the caller makes the write atomic)."""
        root = Path(folder)
        (root / "tables").mkdir(parents=True, exist_ok=True)
        (root / "figures").mkdir(parents=True, exist_ok=True)
        tables = {}
        for name, table in self.tables.items():
            tables[name] = f"tables/{file_stem(name)}.parquet"
            frame = table.copy()
            frame.columns = [str(c) for c in frame.columns]
            frame.to_parquet(root / tables[name], index=False)
        figures = {}
        for name, figure in self.figures.items():
            figures[name] = f"figures/{file_stem(name)}.png"
            (root / figures[name]).write_bytes(png_bytes(figure))
        doc = {
            "metrics": {k: _json_number(float(v)) for k, v in self.metrics.items()},
            "tables": tables,
            "figures": figures,
            "data": self.data,
        }
        (root / "report.json").write_text(json.dumps(doc, indent=2, default=str))
        return root

    @classmethod
    def load(cls, folder: str | Path) -> Report:
        root = Path(folder)
        try:
            doc = json.loads((root / "report.json").read_text())
        except FileNotFoundError:
            raise InvalidInputError(f"{root} is not a report: it has no report.json") from None
        return cls(
            metrics={k: float(v) for k, v in doc["metrics"].items()},
            tables={name: pd.read_parquet(root / rel) for name, rel in doc["tables"].items()},
            figures={name: (root / rel).read_bytes() for name, rel in doc["figures"].items()},
            data=doc.get("data", {}),
        )
