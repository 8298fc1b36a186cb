"""A metric series cut down to what a chart of a given width can show, keeping its extremes.

A chart ``points`` pixels wide cannot show more than one column of values per pixel, so the
series is split into ``points // 2`` buckets of equal step width and each bucket keeps its
smallest and its largest value, in step order (the min/max half of M4, Jugel et al., VLDB 2014),
plus the first and the last point of the range. Every spike and dip of the full series is drawn;
MLflow's UI instead samples 320 points, which drops them. Within ``points`` the values come back
exactly, as logged: a chart asks again for the steps it zooms into and gets the real points.
Values JSON cannot hold (NaN, +/-inf) come back as ``None`` (a gap in the line) when exact, and
are left out of a bucket's extremes when not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trainyard.store import Metric


@dataclass(frozen=True)
class Series:
    """Columns a chart draws directly: ``steps[i]``, ``values[i]``, ``timestamps[i]``."""

    key: str
    total: int  # points of the series within the asked steps
    exact: bool  # every one of them is here
    steps: list[int]
    values: list[float | None]
    timestamps: list[float]

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "total": self.total,
            "exact": self.exact,
            "steps": self.steps,
            "values": self.values,
            "timestamps": self.timestamps,
        }


def downsample(
    key: str,
    history: Sequence[Metric],
    points: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> Series:
    """``history`` (one key, in step order) between ``min_step`` and ``max_step``, at most
    ``points`` of it: all of it when it fits, else the extremes of each bucket (module docstring)."""
    chosen = [m for m in history if _within(m.step, min_step, max_step)]
    if len(chosen) <= points:
        return Series(
            key,
            len(chosen),
            True,
            [m.step for m in chosen],
            [m.value if math.isfinite(m.value) else None for m in chosen],
            [m.timestamp for m in chosen],
        )
    steps = np.fromiter((m.step for m in chosen), dtype=np.float64, count=len(chosen))
    values = np.fromiter((m.value for m in chosen), dtype=np.float64, count=len(chosen))
    keep = _extremes(steps, values, max(1, points // 2 - 1))
    return Series(
        key,
        len(chosen),
        False,
        [chosen[i].step for i in keep],
        [chosen[i].value if math.isfinite(chosen[i].value) else None for i in keep],
        [chosen[i].timestamp for i in keep],
    )


def _within(step: int, low: int | None, high: int | None) -> bool:
    return (low is None or step >= low) and (high is None or step <= high)


def _extremes(steps: np.ndarray, values: np.ndarray, buckets: int) -> list[int]:
    """Indices of the first and last point and of each bucket's min and max, in order."""
    low, high = steps[0], steps[-1]
    width = (high - low) / buckets if high > low else 1.0
    bucket = np.minimum(((steps - low) / width).astype(np.int64), buckets - 1)
    finite = np.isfinite(values)
    index = np.flatnonzero(finite)
    keep = {0, len(steps) - 1}
    if index.size:
        # sort the finite points by (bucket, value): each bucket's first is its min, its last its max
        order = index[np.lexsort((values[index], bucket[index]))]
        grouped = bucket[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        ends = np.r_[starts[1:], order.size] - 1
        keep.update(order[starts].tolist())
        keep.update(order[ends].tolist())
    return sorted(keep)
