"""The parallel runner: ``python -m trainyard.parallel.runner --settings JSON --input PATH
[--kind files|table] [--output DIR] [-- program arguments]``, the command of a parallel job.

It splits the input (``batches``), starts ``max_concurrency_per_instance`` worker processes
(``pool.ProcessPool``: forked from a fork server, each imports the entry script and calls
``init()`` once; in a Ray job on a Ray target, ``instance_count`` x that many Ray actors spread
over the cluster instead, ``on_ray.ActorPool``) and hands each free worker the next
mini-batch. A mini-batch whose ``run()`` raises, whose worker dies, or that takes longer than
``retry_settings.timeout`` (its worker is killed and replaced) is tried again up to
``retry_settings.max_retries`` times, and then counts as failed; more failed mini-batches than
``mini_batch_error_threshold`` (-1: any number) stop the job, naming them and why. The rows
``run()`` returns are appended in mini-batch order to ``DIR/parallel_run_step.txt``, which
appears only when the job succeeds. SIGTERM (a cancel) stops the workers and leaves no output.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trainyard.errors import TrainyardError
from trainyard.parallel.batches import Kind, MiniBatch, split
from trainyard.parallel.pool import STOP_GRACE_SECONDS, Heard, ProcessPool, Worker, WorkerGone, WorkerPool
from trainyard.parallel.progress import MetricSink, Progress
from trainyard.parallel.rows import assemble
from trainyard.parallel.settings import ParallelSettings
from trainyard.parallel.worker import WorkerSpec

LOG = logging.getLogger("trainyard.parallel")
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


class Scheduler:
    """Hands mini-batches to free workers, retries failures, enforces the timeout and threshold.

    The workers come from a ``WorkerPool``: processes on this machine, or on a Ray target the
    Ray actors of ``on_ray.ActorPool``; this logic is the same for both.
    """

    def __init__(
        self,
        settings: ParallelSettings,
        batches: list[MiniBatch],
        parts: Path,
        arguments: list[str],
        progress: Progress,
        stop: threading.Event,
        ray_target: str | None = None,
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
        self.size = worker_count(settings, ray_target)
        self.ray_target = ray_target
        self.pool: WorkerPool | None = None
        self.workers: list[Worker] = []
        self.tries: dict[int, int] = {}
        self.done: dict[int, int] = {}  # index -> its size (files or rows)
        self.failures: list[Failure] = []
        self.timeout = float(settings.retry_settings.timeout)

    def _pool(self) -> WorkerPool:
        table = bool(self.pending) and not isinstance(self.pending[0].data, list)
        if self.ray_target is None:
            return ProcessPool(self.spec, table)
        from trainyard.parallel.on_ray import ActorPool

        return ActorPool(self.spec, self.size, self.ray_target)

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> tuple[list[int], int, list[Failure]]:
        """Run every mini-batch; ``ParallelJobError`` past the threshold, ``ParallelJobStopped`` on stop."""
        self.pool = self._pool()
        clean = False
        try:
            for _ in range(min(self.size, self.total)):
                self._start()
            while (self.pending or self._busy()) and not self.stop.is_set():
                self._assign()
                heard = self.pool.wait(self.workers, self._wait_seconds())
                now = time.monotonic()
                for worker in list(self.workers):
                    if self.stop.is_set():
                        break
                    if worker in heard:
                        self._hear(worker, heard[worker])
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
        assert self.pool is not None
        self.workers.append(self.pool.start())

    def _busy(self) -> bool:
        return any(w.batches for w in self.workers)

    def _assign(self) -> None:
        for worker in self.workers:
            if not self.pending:
                return
            while worker.ready and len(worker.batches) < IN_FLIGHT and self.pending:
                try:
                    worker.give(self.pending.popleft(), self.timeout)
                except WorkerGone:  # it died just now: the next wait says so
                    break

    def _wait_seconds(self) -> float:
        nearest = min((w.deadline for w in self.workers if w.batches), default=math.inf)
        return max(0.0, min(POLL_SECONDS, nearest - time.monotonic()))

    # -- what a worker says ----------------------------------------------------------------------
    def _hear(self, worker: Worker, heard: Heard) -> None:
        for message in heard.messages:
            self._handle(worker, message)
        if heard.gone is not None:
            self._died(worker, heard.gone)

    def _handle(self, worker: Worker, message: tuple[Any, ...]) -> None:
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

    def _died(self, worker: Worker, why: str) -> None:
        self.workers.remove(worker)
        worker.kill()
        if not worker.ready:
            raise ParallelJobError(
                f"{why} while importing {self.settings.task.entry_script} or in its init()"
            )
        self._lost(worker, why)

    def _timed_out(self, worker: Worker) -> None:
        self.workers.remove(worker)
        worker.kill()
        self._lost(worker, f"timed out after {self.timeout:g}s (retry_settings.timeout)")

    def _lost(self, worker: Worker, why: str) -> None:
        """A worker gone with its mini-batches: the running one's try failed, the next goes back."""
        if worker.batches:
            running = worker.batches.popleft()
            self.pending.extendleft(reversed(worker.batches))
            self._attempt_failed(running, why)
        self._replace()

    def _replace(self) -> None:
        """A new worker for one that died or hung, while there is work it could take."""
        if self.pending and len(self.workers) < self.size:
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
            worker.stop(clean)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            worker.kill()
        self.workers = []
        if self.pool is not None:
            self.pool.close()


def worker_count(settings: ParallelSettings, ray_target: str | None) -> int:
    """How many workers run the job: ``max_concurrency_per_instance`` on this machine, and
    ``instance_count`` x that many Ray actors on a Ray target."""
    instances = settings.resources.instance_count if settings.resources else 1
    if ray_target is None and instances > 1:
        raise ParallelJobError(
            f"resources.instance_count is {instances}, but this parallel job runs on one machine "
            "(not on a Ray target); give instance_count: 1, or compute: a Ray target"
        )
    return instances * settings.max_concurrency_per_instance


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
    ray_target = ray_target_of_job()
    count = worker_count(settings, ray_target)
    batches = split(input_path, settings, kind)
    where = f"Ray actor(s) on the Ray target {ray_target!r}" if ray_target else "worker process(es)"
    LOG.info("%d mini-batches of %s on %d %s", len(batches), input_path, min(count, len(batches)), where)
    parts = Path(tempfile.mkdtemp(prefix="trainyard-parallel-"))
    try:
        with Progress(len(batches), metrics, bar=progress_bar) as progress:
            scheduler = Scheduler(
                settings, batches, parts, arguments or [], progress, stop or threading.Event(), ray_target
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


def ray_target_of_job() -> str | None:
    """The Ray target's name when the runner runs as a Ray job on one (its worker sets
    ``TRAINYARD_RAY_TARGET``, and Ray sets ``RAY_ADDRESS`` for a job's driver); else None."""
    if not os.environ.get("RAY_ADDRESS"):
        return None
    from trainyard.compute.names import RAY_TARGET_VAR  # only here: a local job need not import compute

    return os.environ.get(RAY_TARGET_VAR) or None


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
