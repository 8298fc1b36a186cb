"""Metric curves to PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_metrics(series: dict[str, list[Any]], path: Path, title: str) -> None:
    plt = _pyplot()
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


def _axis_values(raw: list[str]) -> tuple[list[float], list[str] | None]:
    """Numbers as they are; anything else as category indexes (with the labels)."""
    try:
        return [float(v) for v in raw], None
    except ValueError:
        labels = sorted(set(raw))
        return [float(labels.index(v)) for v in raw], labels


def plot_sweep(
    children: list[Any], curves: dict[str, list[Any]], params: list[str], metric: str, goal: str, path: Path
) -> None:
    """Left: the primary metric of every trial by step. Right: parallel coordinates of params vs metric."""
    plt = _pyplot()
    from matplotlib import cm, colors

    scored = [c for c in children if c.metrics.get(metric) is not None]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    values = [c.metrics[metric] for c in scored]
    norm = colors.Normalize(min(values, default=0), max(values, default=1))
    cmap = cm.viridis if goal == "maximize" else cm.viridis_r
    for child in children:
        points = curves.get(child.id) or []
        if points:
            color = cmap(norm(child.metrics[metric])) if child in scored else "grey"
            style = "-" if child.status.value == "completed" else ":"
            left.plot([m.step for m in points], [m.value for m in points], style, color=color, alpha=0.8)
    left.set_title(f"{metric} by step (dotted: stopped or failed)", fontsize=10)
    left.set_xlabel("step")
    left.grid(alpha=0.3)
    axes = [*params, metric]
    columns = {name: _axis_values([str(c.params.get(name, "")) for c in scored]) for name in params}
    columns[metric] = (values, None)
    for i in range(len(scored)):
        ys = []
        for name in axes:
            col, _ = columns[name]
            low, high = min(col), max(col)
            ys.append((col[i] - low) / ((high - low) or 1.0))
        right.plot(range(len(axes)), ys, color=cmap(norm(values[i])), alpha=0.8)
    right.set_xticks(range(len(axes)), axes)
    right.set_yticks([])
    for x, name in enumerate(axes):
        col, labels = columns[name]
        right.axvline(x, color="black", linewidth=0.6)
        low, high = (min(col), max(col)) if col else (0, 1)
        right.text(x, -0.06, labels[0] if labels else f"{low:.3g}", ha="center", fontsize=8)
        right.text(x, 1.03, labels[-1] if labels else f"{high:.3g}", ha="center", fontsize=8)
    right.set_title("parallel coordinates (colour: " + metric + ")", fontsize=10)
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=right, label=metric)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
