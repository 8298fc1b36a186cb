"""Evaluate Model's figures: ROC and precision-recall curves (both models on one plot) and
confusion matrices, drawn from curves already computed, with matplotlib's object API."""

from __future__ import annotations

from typing import Any

import numpy as np


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig, ax


def _curve(
    name: str, names: list[str], curves: list[tuple[np.ndarray, np.ndarray]], labels: tuple[str, str]
) -> Any:
    fig, ax = _figure(name.replace("_", " ").capitalize(), *labels)
    for model, (x, y) in zip(names, curves, strict=True):
        ax.plot(x, y, label=model)
    if name == "roc_curve":
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.legend(loc="lower right" if name == "roc_curve" else "lower left")
    return fig


def _confusion(cells: np.ndarray, classes: list[Any], title: str) -> Any:
    fig, ax = _figure(title, "Scored label", "Actual label")
    ax.imshow(cells, cmap="Blues")
    ticks = range(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(c) for c in classes])
    high = cells.max() / 2 if cells.size else 0
    for (i, j), value in np.ndenumerate(cells):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > high else "black")
    return fig


def figures(names: list[str], results: list[tuple[str, dict[str, float], dict[str, Any]]]) -> dict[str, Any]:
    """Figures by name for one or two evaluations (``evaluation.evaluate_scored`` results)."""
    out: dict[str, Any] = {}
    extras = [extra for _, _, extra in results]
    if all("roc" in e for e in extras):
        out["roc_curve"] = _curve(
            "roc_curve", names, [e["roc"] for e in extras], ("False positive rate", "True positive rate")
        )
        pr = [e["precision_recall"] for e in extras]
        out["precision_recall_curve"] = _curve("precision_recall_curve", names, pr, ("Recall", "Precision"))
    for i, (name, extra) in enumerate(zip(names, extras, strict=True)):
        if "confusion" in extra:
            key = f"{'compare_' if i else ''}confusion_matrix"
            out[key] = _confusion(extra["confusion"], extra["classes"], f"Confusion matrix ({name})")
    return out
