"""Shared helpers for the benchmarks: a scratch workspace and a timer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def timer() -> object:
    box = {"s": 0.0}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def median_of(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def scratch_workspace(tmp: Path):  # noqa: ANN201
    from trainyard.workspace import Workspace

    return Workspace.create(tmp / "ws")


def row(name: str, ours: float, baseline_name: str, theirs: float, unit: str = "ms") -> str:
    scale = 1000.0 if unit == "ms" else 1e6
    return (
        f"{name:<44} trainyard {ours * scale:10.4f} {unit}   "
        f"{baseline_name:<26} {theirs * scale:10.4f} {unit}"
        f"   ratio {theirs / ours:8.1f}x"
    )
