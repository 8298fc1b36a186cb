"""``trainyard run compare``: several runs' params and latest metrics side by side.

A row per param and per metric, a column per run; a row whose values are not all the same (a
run without the key counts as different) is highlighted, since that is what a comparison is for.
"""

from __future__ import annotations

import math
from typing import Any

from rich.markup import escape

from trainyard.cli.output import console, fmt_number, status_text, table
from trainyard.store.records import RunInfo

DIFFERS = "bold yellow"


def _differ(values: list[Any]) -> bool:
    """Whether the runs' values are not all equal (NaN equals NaN; a missing value is None)."""
    return len({"NaN" if isinstance(v, float) and math.isnan(v) else v for v in values}) > 1


def _rows(runs: list[RunInfo], part: str) -> dict[str, dict[str, Any]]:
    keys = sorted({k for r in runs for k in getattr(r, part)})
    values = {k: [getattr(r, part).get(k) for r in runs] for k in keys}
    return {k: {"values": v, "differ": _differ(v)} for k, v in values.items()}


def comparison(runs: list[RunInfo], experiments: dict[str, str]) -> dict[str, Any]:
    """What ``--output json`` prints: each ``values`` list is in the order of ``runs``."""
    return {
        "runs": [
            {"id": r.id, "name": r.name, "experiment": experiments[r.experiment_id], "status": r.status.value}
            for r in runs
        ],
        "params": _rows(runs, "params"),
        "metrics": _rows(runs, "metrics"),
    }


def _cell(value: Any, differ: bool) -> str:
    text = "-" if value is None else escape(fmt_number(value))
    return f"[{DIFFERS}]{text}[/]" if differ else text


def _heading(run: dict[str, Any]) -> str:
    """The short id ``run list`` prints, and the run's name unless that is the short id too."""
    short = run["id"][:12]
    return short if run["name"] == short else f"{short}\n{escape(run['name'])}"


def print_comparison(compared: dict[str, Any]) -> None:
    runs = compared["runs"]
    columns = ["", *[_heading(r) for r in runs]]
    experiments = [r["experiment"] for r in runs]
    rows: list[list[Any]] = [
        ["experiment", *[_cell(e, _differ(experiments)) for e in experiments]],
        ["status", *[status_text(r["status"]) for r in runs]],
    ]
    for part in ("params", "metrics"):
        for key, row in compared[part].items():
            label = f"{part[:-1]} {escape(key)}"
            rows.append(
                [f"[{DIFFERS}]{label}[/]" if row["differ"] else label]
                + [_cell(v, row["differ"]) for v in row["values"]]
            )
    console.print(table(f"{len(runs)} runs compared (differing values highlighted)", columns, rows))
