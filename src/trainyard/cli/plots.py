"""Metric curves to PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_metrics(series: dict[str, list[Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(series)
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.4 * max(1, len(keys))), squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=True):
        points = series[key]
        ax.plot([m.step for m in points], [m.value for m in points], marker="." if len(points) < 50 else None)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
