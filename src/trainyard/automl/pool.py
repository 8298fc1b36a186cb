"""A pool of worker processes that run one task each at a time and survive their own deaths.

``concurrent.futures`` breaks the whole pool when one worker dies; here a worker killed by the
kernel (out of memory) or by a crash in native code fails only its own task, and a fresh worker
takes its place. A running task can be canceled by killing its worker (the deadline does that).
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["trainyard.automl.evaluate", "lightgbm", "xgboost"])  # absent ones are skipped


def warm_up() -> None:
    """Start the fork server now: its imports (seconds) overlap whatever the caller does next
    instead of delaying the first worker."""
    multiprocessing.forkserver.ensure_running()


@dataclass
class Outcome:
    key: Any
    ok: bool
    value: Any  # the task's result, or the error text
    seconds: float


def _serve(conn: Connection, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)
    while True:
        message = conn.recv()
        if message is None:
            return
        key, fn, args = message
        try:
            conn.send((key, True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - every failure is the task's, reported back
            text = str(exc).strip().splitlines()
            conn.send((key, False, f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")))


class _Worker:
    def __init__(self, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
        self.conn, child = _CTX.Pipe()
        self.process = _CTX.Process(target=_serve, args=(child, initializer, initargs), daemon=True)
        self.process.start()
        child.close()
        self.task: Any = None
        self.started = 0.0


class WorkerPool:
    """``size`` workers; ``submit`` when ``idle``, then ``wait`` for outcomes."""

    def __init__(
        self, size: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
    ) -> None:
        self._init = (initializer, initargs)
        self.workers = [_Worker(*self._init) for _ in range(size)]

    @property
    def idle(self) -> int:
        return sum(w.task is None for w in self.workers)

    @property
    def running(self) -> dict[Any, float]:
        """Keys of the running tasks and when each started."""
        return {w.task: w.started for w in self.workers if w.task is not None}

    def submit(self, key: Any, fn: Callable[..., Any], *args: Any) -> None:
        worker = next(w for w in self.workers if w.task is None)
        worker.task, worker.started = key, time.monotonic()
        worker.conn.send((key, fn, args))

    def wait(self, timeout: float) -> list[Outcome]:
        """Outcomes of the tasks that ended within ``timeout`` seconds (maybe none)."""
        busy: dict[Any, _Worker] = {w.conn: w for w in self.workers if w.task is not None}
        busy.update({w.process.sentinel: w for w in list(busy.values())})
        ready = wait(list(busy), timeout)
        outcomes, done = [], set()
        for obj in ready:
            worker = busy[obj]
            if id(worker) in done:
                continue
            done.add(id(worker))
            seconds = time.monotonic() - worker.started
            try:
                key, ok, value = worker.conn.recv()
            except (EOFError, OSError):
                key, ok, value = worker.task, False, self._death(worker)
                self._replace(worker)
            worker.task = None
            outcomes.append(Outcome(key, ok, value, seconds))
        return outcomes

    def _death(self, worker: _Worker) -> str:
        worker.process.join(5)
        code = worker.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            return f"the worker process was killed by {name}{hint}"
        return f"the worker process died with exit code {code}"

    def _replace(self, worker: _Worker) -> None:
        fresh = _Worker(*self._init)
        self.workers[self.workers.index(worker)] = fresh

    def cancel(self, key: Any, replace: bool = True) -> None:
        """Kill the worker running ``key`` and, when ``replace``, start a fresh one in its place
        (it loads the context again: seconds of CPU on a large table)."""
        for worker in list(self.workers):
            if worker.task == key:
                worker.process.kill()
                worker.process.join(5)
                if replace:
                    self._replace(worker)
                else:
                    self.workers.remove(worker)

    def close(self) -> None:
        for worker in self.workers:
            if worker.task is None and worker.process.is_alive():
                worker.conn.send(None)
            else:
                worker.process.kill()
        for worker in self.workers:  # an idle one exits at once, unless still loading its context
            worker.process.join(0.5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
