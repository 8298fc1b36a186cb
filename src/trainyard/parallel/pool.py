"""The workers a parallel job's scheduler hands mini-batches to: the seam under ``runner.Scheduler``.

A ``WorkerPool`` starts workers and waits for what they say; a ``Worker`` is one of them, with
the mini-batches it holds. The scheduler's logic (assignment, retries, timeouts, the error
threshold, progress) sees only these two, so it is the same for both implementations:

* ``ProcessPool`` (here): worker processes on this machine, forked from a fork server
  (``worker.serve``), each with its own pipe; the default.
* ``ActorPool`` (``on_ray.py``): Ray actors spread over the cluster of the Ray job the runner
  runs as, on a Ray target.

What a worker says (``Heard.messages``, in order): ``("ready",)`` once its entry script is
imported and ``init()`` returned, ``("init_failed", why)``, ``("done", index, rows)`` once the
mini-batch's rows are in their part file, ``("failed", index, why)``. ``Heard.gone`` says why a
worker is gone (its process or actor died) once it is.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any

from trainyard.parallel.batches import MiniBatch
from trainyard.parallel.worker import WorkerSpec, serve

STOP_GRACE_SECONDS = 5.0


class WorkerGone(Exception):
    """A mini-batch could not be handed over: the worker died just now (``wait`` says so next)."""


class Worker(ABC):
    """One worker, the mini-batch it is running and the one it gets next (``batches``).

    A second mini-batch waits at the worker (in its pipe, or queued on its actor), so it goes on
    to it the moment it finishes one, without waiting for the runner to hear and answer.
    """

    def __init__(self) -> None:
        self.ready = False
        self.batches: deque[MiniBatch] = deque()  # the first is running
        self.started = 0.0  # when the first started
        self.deadline = math.inf  # and when it times out

    def give(self, batch: MiniBatch, timeout: float) -> None:
        self.batches.append(batch)  # before sending: a worker that dies on it still owes it
        if len(self.batches) == 1:
            self._started(timeout)
        self.send(batch)

    def finished(self, index: int, timeout: float) -> MiniBatch:
        """The running mini-batch ``index`` ended; the next one waiting at the worker starts now."""
        batch = self.batches.popleft()
        assert batch.index == index, (batch.index, index)  # a pipe and an actor keep order
        if self.batches:
            self._started(timeout)
        return batch

    def _started(self, timeout: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    @abstractmethod
    def send(self, batch: MiniBatch) -> None:
        """Hand ``batch`` to the worker; ``WorkerGone`` if it is dead."""

    @abstractmethod
    def kill(self) -> None:
        """Kill it now (a hung or dead worker), and wait until it is gone."""

    @abstractmethod
    def stop(self, clean: bool) -> None:
        """Ask it to end without waiting: clean, it runs ``shutdown()`` and exits; else terminated."""

    @abstractmethod
    def join(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a stopping worker to end."""


@dataclass
class Heard:
    """What one worker said since the last wait, and why it is gone if it is."""

    messages: list[tuple[Any, ...]] = field(default_factory=list)
    gone: str | None = None


class WorkerPool(ABC):
    """Starts the workers of one job and waits for what they say."""

    what = "worker(s)"  # how the log names them

    @abstractmethod
    def start(self) -> Worker:
        """A new worker: it imports the entry script, calls ``init()`` and then says ``ready``."""

    @abstractmethod
    def wait(self, workers: list[Worker], timeout: float) -> dict[Worker, Heard]:
        """Wait up to ``timeout`` seconds until a worker says something or dies; what each said."""

    def close(self) -> None:  # noqa: B027 - most pools have nothing to close
        """The job is over and its workers are stopped."""


def exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def worker_context(preload: list[str]) -> ForkServerContext | SpawnContext:
    """Workers forked from a fork server that has imported the worker module (and ``preload``,
    pandas for a table): each starts in milliseconds, a replacement too, and none is a fork of
    the runner and its threads. The server starts once per process, with the first preload."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # not on Windows
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["trainyard.parallel.worker", *preload])
    return ctx


class _Process(Worker):
    """A worker process and its pipe."""

    def __init__(self, ctx: ForkServerContext | SpawnContext, lifeline: Connection, spec: WorkerSpec) -> None:
        super().__init__()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, lifeline, spec), name="parallel-worker")
        self.process.start()
        child.close()  # the runner's copy: the worker's death then reads as EOF here

    def send(self, batch: MiniBatch) -> None:
        try:
            self.conn.send((batch.index, batch.data, batch.context))
        except OSError as exc:
            raise WorkerGone(str(exc)) from None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(STOP_GRACE_SECONDS)
        self.conn.close()

    def stop(self, clean: bool) -> None:
        try:
            if clean:
                self.conn.send(None)
            elif self.process.is_alive():
                self.process.terminate()
        except OSError:
            pass

    def join(self, seconds: float) -> None:
        self.process.join(seconds)


class ProcessPool(WorkerPool):
    """Worker processes on this machine (``max_concurrency_per_instance`` of them)."""

    what = "worker process(es)"

    def __init__(self, spec: WorkerSpec, table: bool) -> None:
        self.spec = spec
        self.ctx = worker_context(["pandas"] if table else [])
        self.lifeline, self.lifeline_end = self.ctx.Pipe(duplex=False)  # the end only we hold

    def start(self) -> Worker:
        return _Process(self.ctx, self.lifeline, self.spec)

    def wait(self, workers: list[Worker], timeout: float) -> dict[Worker, Heard]:
        procs = [w for w in workers if isinstance(w, _Process)]
        ready = set(wait([w.conn for w in procs] + [w.process.sentinel for w in procs], timeout=timeout))
        heard: dict[Worker, Heard] = {}
        for worker in procs:
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            said = heard[worker] = Heard()
            try:
                while worker.conn.poll():
                    said.messages.append(worker.conn.recv())
            except (EOFError, OSError):
                pass
            if not worker.process.is_alive():
                said.gone = f"the worker process died ({exit_text(worker.process.exitcode)})"
        return heard

    def close(self) -> None:
        self.lifeline.close()
        self.lifeline_end.close()
