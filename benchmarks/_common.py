"""Shared helpers for the benchmarks: a scratch workspace, a timer, metric logging and a result row."""

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


def iris_versions(ws, folder: Path) -> None:  # noqa: ANN001 - a Workspace
    """Two versions of model ``iris`` (logistic regressions, C=0.01 and 1.0) for the endpoint benchmarks."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import trainyard as ty

    X, y = load_iris(return_X_y=True, as_frame=True)
    for version, c in enumerate((0.01, 1.0), start=1):
        model = LogisticRegression(max_iter=500, C=c).fit(X, y)
        ty.Model.register(ws, ty.models.save(model, folder / f"v{version}", input_example=X.head()), "iris")


def log_values(ws, n: int) -> float:  # noqa: ANN001 - a Workspace
    """Seconds to log ``n`` values one ``run.log`` call at a time in a new run, until all are stored."""
    import trainyard as ty

    run = ty.Experiment(ws, "bench").start_logging()
    with timer() as t:
        for i in range(n):
            run.log("loss", 1.0 / (i + 1), step=i)
        run.flush()
    assert len(ws.store.get_metric_history(run.id, "loss")) == n, "values were lost"
    run.complete()
    return t["s"]


def row(
    name: str, ours: float, baseline_name: str, theirs: float, unit: str = "ms", added: bool = False
) -> str:
    """One result line: the ratio baseline/trainyard (>1: we are faster), or the time we add."""
    scale = 1000.0 if unit == "ms" else 1e6
    verdict = f"added {(ours - theirs) * scale:8.1f} {unit}" if added else f"ratio {theirs / ours:8.1f}x"
    return (
        f"{name:<46} trainyard {ours * scale:10.4f} {unit}   "
        f"{baseline_name:<28} {theirs * scale:10.4f} {unit}   {verdict}"
    )
