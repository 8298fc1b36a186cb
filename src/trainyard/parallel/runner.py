"""The parallel runner: ``python -m trainyard.parallel.runner --settings JSON --input PATH
[--kind files|table] [--output DIR] [-- program arguments]``, the command of a parallel job.

It splits the input (``batches``), starts ``max_concurrency_per_instance`` worker processes
(``worker``; forked from a fork server, each imports the entry script and calls ``init()``
once) and hands each free worker the next mini-batch. A mini-batch whose ``run()`` raises, whose
worker dies, or that takes longer than ``retry_settings.timeout`` (its worker is killed and
replaced) is tried again up to ``retry_settings.max_retries`` times, and then counts as failed;
more failed mini-batches than ``mini_batch_error_threshold`` (-1: any number) stop the job,
naming them and why. The rows ``run()`` returns are appended in mini-batch order to
``DIR/parallel_run_step.txt``, which appears only when the job succeeds. SIGTERM (a cancel)
stops the workers and leaves no output.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trainyard.errors import TrainyardError
from trainyard.parallel.batches import Kind, MiniBatch, split
from trainyard.parallel.progress import MetricSink, Progress
from trainyard.parallel.rows import assemble
from trainyard.parallel.settings import ParallelSettings
from trainyard.parallel.worker import WorkerSpec, serve

LOG = logging.getLogger("trainyard.parallel")
STOP_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.5
SHOWN_FAILURES = 5
IN_FLIGHT = 2  # mini-batches a worker holds: the one it runs and the next


class ParallelJobError(TrainyardError):
    """The job could not finish: the entry script did not start, or too many mini-batches failed."""


class ParallelJobStopped(TrainyardError):
    """The job was stopped from outside (SIGTERM: a cancel, or the job's timeout)."""


@dataclass(frozen=True)
class Failure:
    batch: MiniBatch
    reason: str
    tries: int


@dataclass(frozen=True)
class Outcome:
    """What a finished job did: ``failed`` are the mini-batches under the error threshold."""

    total: int
    completed: list[int]  # mini-batch indexes, in order
    rows: int  # files or table rows in the completed mini-batches
    failed: list[Failure]
    output: Path | None


def _exit_text(code: int | None) -> str:
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


class _Worker:
    """One worker process, the mini-batch it is running and the one it gets next (``batches``).

    A second mini-batch waits in the worker's pipe, so the worker goes on to it the moment it
    finishes one, without waiting for the runner to be scheduled to hear and answer.
    """

    def __init__(
        self,
        ctx: ForkServerContext | SpawnContext,
        lifeline: Connection,
        spec: WorkerSpec,
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=serve,
            args=(child, lifeline, spec),
            name="parallel-worker",
        )
        self.process.start()
        child.close()  # the runner's copy: the worker's death then reads as EOF here
        self.ready = False
        self.batches: deque[MiniBatch] = deque()  # the first is running
        self.started = 0.0  # when the first started
        self.deadline = math.inf  # and when it times out

    def give(self, batch: MiniBatch, timeout: float) -> None:
        self.batches.append(batch)  # before sending: a worker that dies on it still owes it
        if len(self.batches) == 1:
            self._started(timeout)
        self.conn.send((batch.index, batch.data, batch.context))

    def finished(self, index: int, timeout: float) -> MiniBatch:
        """The running mini-batch ``index`` ended; the next one in the pipe starts now."""
        batch = self.batches.popleft()
        assert batch.index == index, (batch.index, index)  # a pipe keeps order
        if self.batches:
            self._started(timeout)
        return batch

    def _started(self, timeout: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(STOP_GRACE_SECONDS)
        self.conn.close()


class Scheduler:
    """Hands mini-batches to free workers, retries failures, enforces the timeout and threshold."""

    def __init__(
        self,
        settings: ParallelSettings,
        batches: list[MiniBatch],
        parts: Path,
        arguments: list[str],
        progress: Progress,
        stop: threading.Event,
    ) -> None:
        script = Path(settings.task.entry_script).resolve()
        if not script.is_file():
            raise ParallelJobError(f"entry script {settings.task.entry_script} not found (in {Path.cwd()})")
        self.settings = settings
        self.spec = WorkerSpec(str(script), arguments, settings.logging_level, str(parts), str(Path.cwd()))
        self.total = len(batches)
        self.pending: deque[MiniBatch] = deque(batches)
        self.progress = progress
        self.stop = stop
        table = bool(batches) and not isinstance(batches[0].data, list)
        self.ctx = worker_context(["pandas"] if table else [])
        self.lifeline, self.lifeline_end = self.ctx.Pipe(duplex=False)  # the end only we hold
        self.workers: list[_Worker] = []
        self.tries: dict[int, int] = {}
        self.done: dict[int, int] = {}  # index -> its size (files or rows)
        self.failures: list[Failure] = []
        self.timeout = float(settings.retry_settings.timeout)

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> tuple[list[int], int, list[Failure]]:
        """Run every mini-batch; ``ParallelJobError`` past the threshold, ``ParallelJobStopped`` on stop."""
        clean = False
        try:
            for _ in range(min(self.settings.max_concurrency_per_instance, self.total)):
                self._start()
            while (self.pending or self._busy()) and not self.stop.is_set():
                self._assign()
                ready = set(wait(self._waitables(), timeout=self._wait_seconds()))
                now = time.monotonic()
                for worker in list(self.workers):
                    if self.stop.is_set():
                        break
                    if worker.conn in ready or worker.process.sentinel in ready:
                        self._hear(worker)
                    elif worker.batches and now > worker.deadline:
                        self._timed_out(worker)
            if self.stop.is_set():
                raise ParallelJobStopped(
                    f"stopped after {len(self.done)} of {self.total} mini-batches "
                    "(SIGTERM: canceled or timed out)"
                )
            clean = True
        finally:
            self._stop_workers(clean)
        return sorted(self.done), sum(self.done.values()), self.failures

    def _start(self) -> None:
        self.workers.append(_Worker(self.ctx, self.lifeline, self.spec))

    def _busy(self) -> bool:
        return any(w.batches for w in self.workers)

    def _assign(self) -> None:
        for worker in self.workers:
            if not self.pending:
                return
            while worker.ready and len(worker.batches) < IN_FLIGHT and self.pending:
                try:
                    worker.give(self.pending.popleft(), self.timeout)
                except OSError:  # it died just now: its sentinel says so on the next wait
                    break

    def _waitables(self) -> list[Any]:
        return [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]

    def _wait_seconds(self) -> float:
        nearest = min((w.deadline for w in self.workers if w.batches), default=math.inf)
        return max(0.0, min(POLL_SECONDS, nearest - time.monotonic()))

    # -- what a worker says ----------------------------------------------------------------------
    def _hear(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        if not worker.process.is_alive():
            self._died(worker)

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
        elif kind == "init_failed":
            raise ParallelJobError(
                f"the entry script {self.settings.task.entry_script} failed to start "
                f"(import or init()): {message[1]}"
            )
        elif kind == "done":
            took = time.monotonic() - worker.started
            batch = worker.finished(message[1], self.timeout)
            self.done[batch.index] = batch.size
            LOG.debug("mini-batch %s done: %d rows in %.2fs", batch.label, message[2], took)
            self._report()
        elif kind == "failed":
            self._attempt_failed(worker.finished(message[1], self.timeout), message[2])

    def _died(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.kill()
        why = f"the worker process died ({_exit_text(worker.process.exitcode)})"
        if not worker.ready:
            raise ParallelJobError(
                f"{why} while importing {self.settings.task.entry_script} or in its init()"
            )
        self._lost(worker, why)

    def _timed_out(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.kill()
        self._lost(worker, f"timed out after {self.timeout:g}s (retry_settings.timeout)")

    def _lost(self, worker: _Worker, why: str) -> None:
        """A worker gone with its mini-batches: the running one's try failed, the next goes back."""
        if worker.batches:
            running = worker.batches.popleft()
            self.pending.extendleft(reversed(worker.batches))
            self._attempt_failed(running, why)
        self._replace()

    def _replace(self) -> None:
        """A new worker for one that died or hung, while there is work it could take."""
        if self.pending and len(self.workers) < self.settings.max_concurrency_per_instance:
            self._start()

    def _attempt_failed(self, batch: MiniBatch, reason: str) -> None:
        tries = self.tries[batch.index] = self.tries.get(batch.index, 0) + 1
        allowed = self.settings.retry_settings.max_retries + 1
        if tries < allowed:
            LOG.warning(
                "mini-batch %s failed (try %d of %d): %s; trying again", batch.label, tries, allowed, reason
            )
            self.pending.appendleft(batch)
            return
        LOG.error("mini-batch %s failed after %d tries: %s", batch.label, tries, reason)
        self.failures.append(Failure(batch, reason, tries))
        self._report()
        threshold = self.settings.mini_batch_error_threshold
        if threshold != -1 and len(self.failures) > threshold:
            raise ParallelJobError(
                f"{len(self.failures)} of {self.total} mini-batches failed, more than "
                f"mini_batch_error_threshold {threshold}: {describe_failures(self.failures)}"
            )

    def _report(self) -> None:
        self.progress.update(len(self.done), len(self.failures), sum(self.done.values()))

    def _stop_workers(self, clean: bool) -> None:
        """Done: each worker is told to stop (and runs ``shutdown()``); else they are terminated."""
        for worker in self.workers:
            try:
                if clean:
                    worker.conn.send(None)
                elif worker.process.is_alive():
                    worker.process.terminate()
            except OSError:
                pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            worker.kill()
        self.workers = []
        self.lifeline.close()
        self.lifeline_end.close()


def describe_failures(failures: list[Failure]) -> str:
    """``#2 (rows 100-199): ValueError: bad (3 tries); …`` for the first few."""
    shown = "; ".join(f"{f.batch.label}: {f.reason} ({f.tries} tries)" for f in failures[:SHOWN_FAILURES])
    more = len(failures) - SHOWN_FAILURES
    return shown + (f"; and {more} more" if more > 0 else "")


def run_parallel(
    settings: ParallelSettings,
    input_path: Path,
    output: Path | None = None,
    arguments: list[str] | None = None,
    *,
    kind: Kind | None = None,
    metrics: MetricSink | None = None,
    stop: threading.Event | None = None,
    progress_bar: bool | None = None,
) -> Outcome:
    """Run the entry script of ``settings`` over the mini-batches of ``input_path``.

    ``output``: the folder that gets ``parallel_run_step.txt``. ``stop``: set it to stop the job
    (the runner's SIGTERM handler does).
    """
    batches = split(input_path, settings, kind)
    LOG.info(
        "%d mini-batches of %s on %d worker(s)",
        len(batches),
        input_path,
        min(settings.max_concurrency_per_instance, len(batches)),
    )
    parts = Path(tempfile.mkdtemp(prefix="trainyard-parallel-"))
    try:
        with Progress(len(batches), metrics, bar=progress_bar) as progress:
            scheduler = Scheduler(
                settings, batches, parts, arguments or [], progress, stop or threading.Event()
            )
            completed, rows, failed = scheduler.run()
        if failed:
            LOG.warning(
                "%d mini-batch(es) failed, within mini_batch_error_threshold %d: %s",
                len(failed),
                settings.mini_batch_error_threshold,
                describe_failures(failed),
            )
        written = assemble(parts, completed, output) if output is not None else None
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return Outcome(len(batches), completed, rows, failed, written)


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    arguments: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, arguments = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m trainyard.parallel.runner",
        description="Run a parallel job's entry script over mini-batches of its input.",
    )
    parser.add_argument("--settings", required=True, help="the parallel settings as JSON")
    parser.add_argument("--input", required=True, type=Path, help="the folder of files or the table to split")
    parser.add_argument(
        "--kind", choices=["files", "table"], help="how to read the input (default: by its type)"
    )
    parser.add_argument("--output", type=Path, help="the folder that gets parallel_run_step.txt")
    return parser.parse_args(argv), arguments


def read_settings(text: str) -> ParallelSettings:
    """``--settings``, or a one-line ``TrainyardError`` naming what is wrong."""
    from trainyard.jobs.spec import problems

    try:
        return ParallelSettings.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ParallelJobError(f"--settings is not JSON: {exc}") from None
    except ValidationError as exc:
        raise ParallelJobError(f"--settings: {problems(exc, 'settings')}") from None


def main(argv: list[str] | None = None) -> int:
    args, arguments = _parse(sys.argv[1:] if argv is None else argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        settings = read_settings(args.settings)
    except TrainyardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[parallel] %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(settings.logging_level)
    LOG.propagate = False  # the store's own logging stays out of the job log
    from trainyard.tracking import TrackedRun, current_run

    run = current_run(TrackedRun)

    def log(values: dict[str, float]) -> None:
        for name, value in values.items():
            run.log(name, value)

    try:
        outcome = run_parallel(
            settings, args.input, args.output, arguments, kind=args.kind, metrics=log, stop=stop
        )
    except TrainyardError as exc:
        run.fail(str(exc))
        print(f"error: {exc}", file=sys.stderr, flush=True)  # the last line: the run's error
        return 128 + signal.SIGTERM if isinstance(exc, ParallelJobStopped) else 1
    finally:
        run.flush()
    done = f"{len(outcome.completed)} of {outcome.total} mini-batches done ({outcome.rows} rows)"
    print(f"[parallel] {done}" + (f"; output: {outcome.output}" if outcome.output else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
