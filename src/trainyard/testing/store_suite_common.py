"""What the Store conformance suites share: helpers, the transition paths, hypothesis settings."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

from trainyard.status import ALLOWED, RunStatus
from trainyard.store.base import Store
from trainyard.store.records import USER_TAG, Metric, RunInfo

UNKNOWN_ID = "0" * 32

# A path of allowed transitions from QUEUED to each status.
PATHS: dict[RunStatus, list[RunStatus]] = {
    RunStatus.QUEUED: [],
    RunStatus.PREPARING: [RunStatus.PREPARING],
    RunStatus.RUNNING: [RunStatus.PREPARING, RunStatus.RUNNING],
    RunStatus.COMPLETED: [RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.COMPLETED],
    RunStatus.FAILED: [RunStatus.PREPARING, RunStatus.FAILED],
    RunStatus.CANCELED: [RunStatus.CANCELED],
}

# Every move the table forbids. Setting a non-terminal run to the status it already has is a
# no-op for SqlStore (a repeated request), not a move, so it is left out; a terminal run
# "moving" to its own status is a change of a finished run and is refused like any other.
ILLEGAL: list[tuple[RunStatus, RunStatus]] = [
    (current, target)
    for current in RunStatus
    for target in RunStatus
    if target not in ALLOWED[current] and (target != current or current.is_terminal)
]
assert ILLEGAL, "the transition table forbids nothing: the status tests would check nothing"

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _metric(key: str, value: float, step: int = 0, ts: float | None = None) -> Metric:
    return Metric(key, value, step, time.time() if ts is None else ts)


def _same(a: float, b: float) -> bool:
    """Equal, with NaN equal to NaN (and nothing else), and -0.0 only to -0.0."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def _canon(value: float) -> Any:
    """A hashable form of a float in which NaN equals NaN: for multisets of values."""
    return "nan" if math.isnan(value) else value


def _new_run(store: Store, experiment: str = "suite", **kwargs: Any) -> RunInfo:
    return store.create_run(store.get_or_create_experiment(experiment).id, **kwargs)


def _run_in(store: Store, status: RunStatus) -> str:
    """A fresh run walked to ``status`` through allowed transitions."""
    run = _new_run(store, "walk")
    for step in PATHS[status]:
        assert store.set_status(run.id, step), f"could not move a run to {step}"
    assert store.get_run(run.id).status is status
    return run.id


def _together(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Call ``fn(0..n-1)`` on ``n`` threads released at once; re-raise the first error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def _unchanged(before: RunInfo, after: RunInfo) -> None:
    """Nothing about the run changed (the heartbeat aside)."""
    fields = ("status", "start_time", "end_time", "error", "exit_code", "worker", "attempt")
    fields += ("cancel_requested", "tags", "params", "metrics")  # type: ignore[assignment]
    for name in fields:
        assert getattr(after, name) == getattr(before, name), f"{name} changed"


def own_tags(run: RunInfo) -> dict[str, str]:
    """The run's tags but its user, which a team server records for every run it creates."""
    return {k: v for k, v in run.tags.items() if k != USER_TAG}
