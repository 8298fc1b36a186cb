"""Trials as child runs, written straight to the store by the driver (no process per trial),
and the leaderboard built from them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainyard.automl.metrics import MINIMIZED, loss
from trainyard.liveness import worker_id
from trainyard.status import RunStatus
from trainyard.store import Metric, RunInfo, Store

LEARNER_TAG = "automl.learner"
TRIAL_TAG = "automl.trial"


@dataclass
class Trial:
    number: int
    run_id: str
    learner: str
    params: dict[str, Any]
    sample_size: int
    status: str = "running"
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    predictions: Any = None  # out-of-fold predictions, kept for the best few (ensembles)
    members: list[int] = field(default_factory=list)  # ensembles: the trials they combine


class Writer:
    """Child-run writes on a thread of their own, in submission order, so the search does not
    wait on the store: a trial's five writes (create, heartbeat, params, metrics, status) cost
    ~0.2 s on SQLite on a busy disk, as much as a cheap trial. ``flush`` before reading them."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="automl-trial-writes", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.put((fn, args))

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            fn, args = item
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported by the driver at the end
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def flush(self) -> None:
        """Wait until every write submitted so far is done."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def step_params(learner: str, params: dict[str, Any], scaled: bool, target: str = "") -> dict[str, str]:
    """Params as scikit-learn names them on the pipeline: ``model__n_estimators`` (regressors in
    a ``BoundedRegressor``: ``model__regressor__n_estimators``, and ``target``)."""
    prefix = "model__regressor__" if target else "model__"
    named = {f"{prefix}{k}": (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in params.items()}
    out = {"model": learner, "scale": "RangeScaler" if scaled else "none", **named}
    return {**out, "target": target} if target else out


def start(store: Store, parent: RunInfo, trial: Trial, params: dict[str, str]) -> None:
    info = store.create_run(
        parent.experiment_id,
        name=f"{parent.name}_{trial.number}",
        parent_id=parent.id,
        status=RunStatus.RUNNING,
        compute=parent.compute,
        tags={
            LEARNER_TAG: trial.learner,
            TRIAL_TAG: str(trial.number),
            "automl.sample_size": str(trial.sample_size),
        },
    )
    trial.run_id = info.id
    store.heartbeat(info.id, worker_id())  # the driver's pid: the reaper fails the trial if it dies
    store.log_batch(info.id, params=params)


def finish(store: Store, trial: Trial) -> None:
    now = time.time()
    metrics = [Metric(k, v, 0, now) for k, v in trial.metrics.items()]
    metrics.append(Metric("duration_seconds", trial.seconds, 0, now))
    store.log_batch(trial.run_id, metrics=metrics)
    status = {"completed": RunStatus.COMPLETED, "canceled": RunStatus.CANCELED}.get(
        trial.status, RunStatus.FAILED
    )
    store.set_status(trial.run_id, status, error=trial.error)


def from_run(info: RunInfo) -> Trial:
    """A recorded trial read back from its child run."""
    return Trial(
        number=int(info.tags.get(TRIAL_TAG, 0)),
        run_id=info.id,
        learner=info.tags.get(LEARNER_TAG, ""),
        params=info.params,
        sample_size=int(info.tags.get("automl.sample_size", 0)),
        status=info.status.value,
        metrics={k: v for k, v in info.metrics.items() if k != "duration_seconds"},
        seconds=info.metrics.get("duration_seconds", info.duration or 0.0),
        error=info.error,
    )


def ranked(trials: list[Trial], metric: str) -> list[Trial]:
    """Completed trials, best first."""
    done = [t for t in trials if t.status == "completed" and metric in t.metrics]
    return sorted(done, key=lambda t: (loss(metric, t.metrics[metric]), t.number))


def leaderboard(trials: list[Trial], metric: str) -> dict[str, list[Any]]:
    """Every trial as a table: completed best first, then the rest in order."""
    order = ranked(trials, metric)
    order += [t for t in sorted(trials, key=lambda t: t.number) if t not in order]
    return {
        "rank": [i + 1 if t.status == "completed" else None for i, t in enumerate(order)],
        "trial": [t.number for t in order],
        "run_id": [t.run_id for t in order],
        "learner": [t.learner for t in order],
        metric: [t.metrics.get(metric) for t in order],
        "seconds": [round(t.seconds, 2) for t in order],
        "sample_size": [t.sample_size for t in order],
        "status": [t.status for t in order],
        "error": [t.error or "" for t in order],
    }


def render(table: dict[str, list[Any]], metric: str, top: int = 10) -> str:
    """The leaderboard as fixed-width text, for the run's log (the live view)."""
    arrow = "lower is better" if metric in MINIMIZED else "higher is better"
    lines = [f"{'rank':>4}  {'trial':>5}  {'learner':<20} {metric + ' (' + arrow + ')':>40}  {'seconds':>8}"]
    for i in range(min(top, len(table["trial"]))):
        if table["status"][i] != "completed":
            break
        lines.append(
            f"{table['rank'][i]:>4}  {table['trial'][i]:>5}  {table['learner'][i]:<20} "
            f"{table[metric][i]:>40.5f}  {table['seconds'][i]:>8.2f}"
        )
    return "\n".join(lines)
