"""Metric buffering: ``run.log`` appends to memory; a background thread writes batches.

Batches go to the store at least every ``interval`` seconds, when many values wait, when a
run completes, and at interpreter exit, so a loop logging 100,000 values costs a few
``log_batch`` calls instead of 100,000 round trips. The same thread sends the heartbeats of
runs this process owns (offline runs and child runs), so a dead notebook's run is reaped.
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
from collections import defaultdict

from trainyard.store import Metric, Store

MAX_BATCH = 5000
FLUSH_AT = 20_000

_Batch = tuple[str, list[Metric]]  # a batch id and its values, kept together until written


class MetricBuffer:
    def __init__(self, store: Store, interval: float = 1.0, heartbeat_every: float = 5.0) -> None:
        self.store = store
        self.interval = interval
        self.heartbeat_every = heartbeat_every
        self._pending: dict[str, list[Metric]] = defaultdict(list)
        self._unsent: dict[str, list[_Batch]] = defaultdict(list)  # batches a write failed on
        self._count = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._owned: dict[str, str] = {}  # run id -> worker id
        self._attempts: dict[str, int] = {}  # run id -> the attempt this process logs under
        self._last_beat = 0.0
        self._thread = threading.Thread(target=self._loop, name="trainyard-metrics", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def add(self, run_id: str, metric: Metric) -> None:
        with self._lock:
            self._pending[run_id].append(metric)
            self._count += 1
            full = self._count >= FLUSH_AT
        if full:
            self._wake.set()

    def own(self, run_id: str, worker: str) -> None:
        """Heartbeat this run from here until ``disown``."""
        self._owned[run_id] = worker

    def disown(self, run_id: str) -> None:
        self._owned.pop(run_id, None)

    def log_under(self, run_id: str, attempt: int) -> None:
        """Write this run's values under ``attempt`` (a job's script: the attempt its worker started)."""
        self._attempts[run_id] = attempt

    def flush(self, run_id: str | None = None) -> None:
        """Write what waits (for one run, or all) before returning.

        Each run's values are written batch by batch, each batch under an id of its own. When a
        write fails, the batches not known to be written (of that run and of every run after it)
        go back to the front of the buffer as they were, ids included, and the first error is
        raised: a later flush sends them again under the same ids, so a batch whose reply was
        lost (the store wrote it) is not stored twice, and each value is written exactly once.
        """
        with self._flush_lock:
            with self._lock:
                runs = list(self._pending.keys() | self._unsent.keys()) if run_id is None else [run_id]
                batches = {rid: self._take(rid) for rid in runs}
            unwritten: dict[str, list[_Batch]] = {}
            error: Exception | None = None
            for rid, run_batches in batches.items():
                for n, (batch_id, metrics) in enumerate(run_batches):
                    try:
                        attempt = self._attempts.get(rid)
                        self.store.log_batch(rid, metrics=metrics, batch_id=batch_id, attempt=attempt)
                    except Exception as exc:  # the other runs' values are still written
                        unwritten[rid] = run_batches[n:]
                        error = error or exc
                        break
            if unwritten:
                with self._lock:  # ahead of what was logged since, to keep each run's order
                    for rid, left in unwritten.items():
                        self._unsent[rid][:0] = left
                        self._count += sum(len(metrics) for _, metrics in left)
            if error is not None:
                raise error

    def _take(self, run_id: str) -> list[_Batch]:
        """The run's batches to write now: those a write failed on, then the new values in new ones."""
        unsent = self._unsent.pop(run_id, [])
        metrics = self._pending.pop(run_id, [])
        self._count -= len(metrics) + sum(len(m) for _, m in unsent)
        fresh = [(uuid.uuid4().hex, metrics[i : i + MAX_BATCH]) for i in range(0, len(metrics), MAX_BATCH)]
        return unsent + fresh

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
                now = time.time()
                if now - self._last_beat >= self.heartbeat_every:
                    self._last_beat = now
                    for run_id, worker in list(self._owned.items()):
                        self.store.heartbeat(run_id, worker)
            except Exception:  # the next round or the exit flush will try again
                time.sleep(self.interval)

    def close(self) -> None:
        self._stopped = True
        self._wake.set()
        self.flush()


_buffers: dict[int, MetricBuffer] = {}


def buffer_for(store: Store) -> MetricBuffer:
    """One buffer (and flush thread) per store per process."""
    key = id(store)
    if key not in _buffers:
        _buffers[key] = MetricBuffer(store)
    return _buffers[key]
